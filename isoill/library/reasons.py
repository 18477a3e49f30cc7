"""A supplier's no (or its conditions), in words CALIS readers and staff read: the ISO 10161
result and reason codes with Chinese labels (English with ``?lang=en``), the code kept in
brackets so staff can still match it with the supplier's own system."""

from __future__ import annotations

from isoill.apdu.apdus import Expired, ILLAnswer
from isoill.apdu.types import ConditionalResults, RetryResults, UnfilledResults, format_iso_date
from isoill.library.wording import say
from isoill.multilingual import Said

#: Labels of the result codes of ILL-Answer, by enum name.
RESULTS: dict[str, tuple[str, str]] = {
    "CONDITIONAL": ("有条件满足", "conditional"),
    "RETRY": ("暂不能满足, 可稍后再试", "retry later"),
    "UNFILLED": ("无法满足", "unfilled"),
    "LOCATIONS_PROVIDED": ("提供收藏地点", "locations provided"),
    "WILL_SUPPLY": ("将提供", "will supply"),
    "HOLD_PLACED": ("已预约", "hold placed"),
    "ESTIMATE": ("费用估算", "estimate"),
}

#: Labels of the reasons (reason-unfilled, reason-not-available, conditions share names).
REASONS: dict[str, tuple[str, str]] = {
    "IN_USE_ON_LOAN": ("已借出", "in use (on loan)"),
    "IN_PROCESS": ("正在加工", "in process"),
    "LOST": ("已丢失", "lost"),
    "NON_CIRCULATING": ("不外借", "non-circulating"),
    "NOT_OWNED": ("本馆未收藏", "not owned"),
    "ON_ORDER": ("已订购, 尚未到馆", "on order"),
    "VOLUME_ISSUE_NOT_YET_AVAILABLE": ("该卷期尚未到馆", "volume or issue not yet available"),
    "AT_BINDERY": ("正在装订", "at the bindery"),
    "LACKING": ("缺藏", "lacking"),
    "NOT_ON_SHELF": ("不在架上", "not on the shelf"),
    "ON_RESERVE": ("已被预留", "on reserve"),
    "POOR_CONDITION": ("品相太差, 不能复制或外借", "poor condition"),
    "COST_EXCEEDS_LIMIT": ("费用超过限制", "cost exceeds the limit"),
    "CHARGES": ("需另付费用", "charges"),
    "PREPAYMENT_REQUIRED": ("需预付费用", "prepayment required"),
    "LACKS_COPYRIGHT_COMPLIANCE": ("缺少版权声明", "lacks copyright compliance"),
    "NOT_FOUND_AS_CITED": ("按所给信息未找到", "not found as cited"),
    "LOCATIONS_NOT_FOUND": ("未找到收藏地点", "locations not found"),
    "ON_HOLD": ("已被他人预约", "on hold"),
    "POLICY_PROBLEM": ("本馆政策不允许", "policy problem"),
    "MANDATORY_MESSAGING_NOT_SUPPORTED": ("不支持必需的消息", "mandatory messaging not supported"),
    "EXPIRY_NOT_SUPPORTED": ("不支持有效期", "expiry not supported"),
    "REQUESTED_DELIVERY_SERVICES_NOT_SUPPORTED": (
        "不支持所要求的传递方式",
        "requested delivery services not supported",
    ),
    "PREFERRED_DELIVERY_TIME_NOT_POSSIBLE": (
        "无法在要求的时间内提供",
        "preferred delivery time not possible",
    ),
    "LIBRARY_USE_ONLY": ("仅限馆内使用", "library use only"),
    "NO_REPRODUCTION": ("不允许复制", "no reproduction"),
    "CLIENT_SIGNATURE_REQUIRED": ("需读者签字", "client signature required"),
    "SPECIAL_COLLECTIONS_SUPERVISION_REQUIRED": (
        "特藏, 需在监督下使用",
        "special collections supervision required",
    ),
    "OTHER": ("其他原因", "other"),
    "RESPONDER_SPECIFIC": ("提供馆自定原因", "responder specific"),
    "PROPOSED_DELIVERY_SERVICE": ("建议其他传递方式", "proposed delivery service"),
}


def code(name: str) -> str:
    """An enum name as ISO 10161 writes it: ``NOT_OWNED`` -> ``not-owned``."""
    return name.lower().replace("_", "-")


def reason_label(name: str, index: int = 0) -> str:
    """A reason's label and code, e.g. ``本馆未收藏 (not-owned)``."""
    label = REASONS.get(name, (code(name), code(name)))[index]
    return f"{label} ({code(name)})"


def reason_text(apdu: ILLAnswer | Expired) -> Said:
    """A supplier's no, in Chinese with its English: the result, the reason with its code,
    and the supplier's note."""
    if isinstance(apdu, Expired):
        return say("expired-answer")
    return Said(_reason_in(apdu, 0), zh=_reason_in(apdu, 0), en=_reason_in(apdu, 1))


def _reason_in(apdu: ILLAnswer, index: int) -> str:
    name = apdu.transaction_results.name
    text = f"{RESULTS.get(name, (code(name), code(name)))[index]} ({code(name)})"
    explanation = apdu.results_explanation
    parts: list[str] = []
    if isinstance(explanation, UnfilledResults):
        parts.append(reason_label(explanation.reason_unfilled.name, index))
    elif isinstance(explanation, RetryResults):
        if explanation.reason_not_available is not None:
            parts.append(reason_label(explanation.reason_not_available.name, index))
        if explanation.retry_date is not None:
            after = say("retry-after", date=format_iso_date(explanation.retry_date))
            parts.append(after.langs[("zh", "en")[index]])
    elif isinstance(explanation, ConditionalResults):
        parts.append(reason_label(explanation.conditions.name, index))
    if parts:
        text += ": " + ", ".join(parts)
    if apdu.responder_note:
        text += f" ({apdu.responder_note})"
    return text
