"""What the NACSIS-ILL side says to staff, in Japanese and in English.

The staff who read the reasons and actions are Japanese; the project's tests, logs and the
OCLC side read English. A message is a :class:`Text`: a ``str`` holding the English, with the
Japanese beside it, so that code and tests that compare English keep working and the edge (the
command line's ``--lang``, the HTTP API's ``Accept-Language``) picks the language. The
Japanese uses the guide's own terms (発送, 処理中, 新着照会, 謝絶, 受付館 ...).
"""

from __future__ import annotations

import string
from typing import Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


class Text(str):
    """English text that also knows its Japanese."""

    ja: str

    def __new__(cls, en: str, ja: str) -> Text:
        made = super().__new__(cls, en)
        made.ja = ja
        return made


#: Every message, by key: (English, Japanese), ``str.format`` templates with the same fields.
MESSAGES: dict[str, tuple[str, str]] = {
    "ok": ("OK: {command} may go ahead", "OK: {command}してよい"),
    "not-ok": ("NOT OK: do not {command}", "NG: {command}しないこと"),
    "reason": ("reason", "理由"),
    "action": ("action", "対応"),
    "note": ("note", "注記"),
    "needs-stat": (
        "{command} needs STAT {wanted}; the record is at {stat}",
        "{command}は状態が{wanted}のときだけ使えます(現在の状態: {stat})",
    ),
    "n27-hint": (
        "if the item came while the record is 処理中, ask the NII desk (N-27)",
        "処理中のまま資料が届いた場合は、NIIのNACSIS-ILL担当に問い合わせてください(N-27)",
    ),
    "n11-used": (
        "the record ID, HMLISO and ODATE make the ISO transaction id, and this one was used "
        "already: change HMLISO (another lender) or ODATE before ORDER (N-11)",
        "レコードID・HMLISO・ODATEからなるISO処理IDは既に使われています。ORDERの前にHMLISO"
        "(別の受付館)かODATEを変更してください(N-11)",
    ),
    "retry-refused": (
        "RETRY rebuilds a record the lender refused (新着照会 or 照会, ISO NOT-SUPPLIED or "
        "CANCELLED); the record is at {stat}, ISO {isostat}",
        "RETRYは謝絶されたレコード(新着照会または照会、ISO状態 NOT-SUPPLIED か CANCELLED)を"
        "作り直すものです(現在: {stat}、ISO状態 {isostat})",
    ),
    "forward-refused": (
        "FORWARD passes a record to its next candidate inside NACSIS-ILL; a record on the OCLC "
        "link has one OCLC lender (HMLISO), and OCLC forwards by itself (N-12). To ask another "
        "OCLC library: RETRY the refused record, change HMLISO, and ORDER it again (N-11)",
        "FORWARDはNACSIS-ILL内で次の受付館へ回すコマンドです。OCLCとのリンクのレコードの受付館"
        "はHMLISOの1館だけで、回送はOCLCが自ら行います(N-12)。別のOCLC参加館に依頼するには、"
        "謝絶されたレコードをRETRYし、HMLISOを変更してからORDERしてください(N-11)",
    ),
    "claim-refused": (
        "CLAIM cannot be used on Global ILL: e-mail the lender (rule N-21)",
        "Global ILLではCLAIMコマンドは使用できません。受付館にメールで連絡してください(N-21)",
    ),
    "callback-refused": (
        "CALLBACK cannot undo what the link has sent; CANCEL, or e-mail the lender (rule N-10)",
        "送信済みの処理はCALLBACKで取り消せません。CANCELするか、受付館にメールで連絡してくだ"
        "さい(N-10)",
    ),
    "cancel-arrived": (
        "the OCLC borrower cancelled (CANCEL-APDU arrived): answer it with PARDON (N-37)",
        "OCLCの依頼館がキャンセルしました(CANCEL-APDU arrived)。PARDONで応じてください(N-37)",
    ),
    "force-reason": (
        "force needs a reason: what was agreed with the lender, and why",
        "強制するには理由が必要です(受付館と何を合意したか、なぜか)",
    ),
    "edit-request": (
        "{field}: the request is edited before ORDER (準備中) only; the record is at {stat}",
        "{field}: 依頼内容を編集できるのはORDER前(準備中)だけです(現在の状態: {stat})",
    ),
    "edit-supply": (
        "{field}: the lender writes the supply data before SEND (未処理 or 処理中); the record "
        "is at {stat} on the {role}'s side",
        "{field}: 提供データ(料金・発送日など)は受付館がSEND前(未処理または処理中)に入力します"
        "(現在の状態: {stat}、{role}側)",
    ),
    "edit-max-cost": (
        "CMMNT: MAX-COST of a record at 発送 cannot be edited (N-23); if the lender agrees, "
        "settle through a dummy record",
        "CMMNT: 発送のレコードのMAX-COSTは編集できません(N-23)。受付館の合意があればダミー"
        "レコードで精算してください",
    ),
    "edit-system": (
        "{field}: written by the system, not by staff",
        "{field}: システムが設定する項目で、編集できません",
    ),
}


def say(key: str, **fields: object) -> Text:
    """The message ``key`` with ``fields`` filled in, in both languages."""
    en, ja = MESSAGES[key]
    return Text(en.format(**fields), ja.format(**fields))


def in_lang(text: str, lang: Lang) -> str:
    """``text`` in ``lang``: the Japanese of a :class:`Text`, else the text as it is."""
    return text.ja if lang == "ja" and isinstance(text, Text) else str(text)


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def pick(accept_language: str | None, default: Lang = "ja") -> Lang:
    """The language an ``Accept-Language`` header prefers among Japanese and English (by its
    q-values), ``default`` when it names neither."""
    best: tuple[float, Lang] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGS:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or q > best[0]):
            best = (q, "ja" if lang == "ja" else "en")
    return default if best is None else best[1]
