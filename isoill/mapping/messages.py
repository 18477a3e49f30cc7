"""What the NACSIS-ILL side says to staff, in Japanese and in English.

The staff who read the reasons and actions are Japanese; the project's tests, logs and the
OCLC side read English. A message is a :class:`Text`: a ``str`` holding the English, with the
Japanese beside it, so that code and tests that compare English keep working and the edge (the
command line's ``--lang``, the HTTP API's ``Accept-Language``) picks the language. The
Japanese uses the guide's own terms (発送, 処理中, 新着照会, 謝絶, 受付館 ...). The CALIS
library desk says its Chinese the same way (:mod:`isoill.multilingual`).
"""

from __future__ import annotations

from typing import Literal

from isoill.multilingual import Said, fields_of, said
from isoill.multilingual import in_lang as _in_lang

__all__ = ["LANGS", "MESSAGES", "Lang", "Text", "fields_of", "in_lang", "pick", "say"]

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


class Text(Said):
    """English text that also knows its Japanese."""

    def __new__(cls, en: str, ja: str) -> Text:
        made = super().__new__(cls, en, en=en, ja=ja)
        assert isinstance(made, Text)
        return made

    @property
    def ja(self) -> str:
        return self.langs["ja"]


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
    # The guidance that comes with each of the guide's letters (2.6 (1)-(9)).
    "guide-not-received": (
        "Leave the record as it is (do not RECEIVE; CLAIM is not available on Global ILL) and "
        "e-mail the lender a reminder.",
        "レコードはそのままにし(RECEIVEしない。Global ILLではCLAIMは使えません)、受付館に"
        "督促のメールを送ってください。",
    ),
    "guide-wrong-copy": (
        "Keep the record at 発送 and do not RECEIVE until a correct copy arrives or the lender "
        "agrees how to settle; e-mail the lender.",
        "正しい複写物が届くか受付館と精算方法を合意するまで、レコードを発送のままにして"
        "RECEIVEしないでください。受付館にメールで連絡してください。",
    ),
    "guide-mistake-preparing": (
        "Nothing was ordered: leave the record at 準備中 or reuse it.",
        "まだ依頼していません。レコードは準備中のままにするか、再利用してください。",
    ),
    "guide-mistake-callback": (
        "CALLBACK the record now, before the hourly batch sends the request (N-10); once it "
        "has gone, CANCEL it.",
        "1時間ごとのバッチで送信される前に、今すぐCALLBACKしてください(N-10)。送信後は"
        "CANCELしてください。",
    ),
    "guide-mistake-cancel": (
        "CANCEL the record (it sends a Cancel to OCLC); if CANCEL cannot cancel it, e-mail the "
        "lender.",
        "レコードをCANCELしてください(OCLCにCancelが送られます)。CANCELで取り消せない場合は"
        "受付館にメールで連絡してください。",
    ),
    "guide-mistake-email": (
        "CANCEL can no longer cancel the record: e-mail the lender and ask it to cancel; do not "
        "RECEIVE anything that arrives before it answers.",
        "CANCELではもう取り消せません。受付館にメールで取消を依頼し、回答までに届いたものは"
        "RECEIVEしないでください。",
    ),
    "guide-rejected": (
        "To pay, the record must reach 確認 (loans 返却確認): with the lender's agreement send a "
        "dummy record (or re-request with this record, RETRY) and have the lender take it to "
        "発送; then RECEIVE and OK it (N-40).",
        "支払にはレコードが確認(貸借は返却確認)まで進む必要があります。受付館の合意を得て"
        "ダミーレコードを送り(またはこのレコードをRETRYして再依頼し)、受付館に発送まで進めて"
        "もらってから、RECEIVEしてOKしてください(N-40)。",
    ),
    "guide-stuck-ask-nii": (
        "Leave the record at 処理中 and ask the NII NACSIS-ILL desk whether a system fault lost "
        "the lender's Shipped; if NII finds none, e-mail the lender (letter).",
        "レコードは処理中のままにし、受付館の発送がシステム障害で失われていないかNIIの"
        "NACSIS-ILL担当に問い合わせてください。障害がなければ受付館にメールしてください"
        "(レター)。",
    ),
    "guide-stuck-email": (
        "NII found no system fault: e-mail the lender to set the record to Shipped; check and "
        "RECEIVE once it is at 発送.",
        "NIIの調査でシステム障害はありませんでした。受付館にShippedへの更新をメールで依頼し、"
        "発送になったら確認のうえRECEIVEしてください。",
    ),
    "guide-physical-loan": (
        "The lender shipped it as a loan: after check_receive, RECEIVE and BORROW; use the item "
        "in the library and SENDBACK it by {due}; the lender's Checked-In ends the record at "
        "返却確認. Pack it as the guide's 7.4 says.",
        "受付館は貸借として発送しました。受付前チェックの後、RECEIVEしてBORROWし、館内で利用して"
        "{due}までにSENDBACKしてください。受付館のChecked-Inでレコードは返却確認になります。"
        "梱包はガイド7.4のとおりに。",
    ),
    "guide-physical-copy": (
        "Process it as a copy arrival: after check_receive, RECEIVE and OK; use the item and "
        "post it back by {due}. No record operation is needed for the return (do not "
        "SENDBACK). Pack it as the guide's 7.4 says.",
        "複写の到着として処理してください。受付前チェックの後、RECEIVEしてOKし、資料を利用して"
        "{due}までに郵送で返送してください。返送にレコード操作は不要です(SENDBACKしない)。"
        "梱包はガイド7.4のとおりに。",
    ),
    # The action of the checks before RECEIVE (receive_guard.check_receive).
    "act-received-ok": (
        "The record was already RECEIVEd and nothing is wrong: go on as usual.",
        "レコードは受付済みで問題はありません。通常どおり処理を続けてください。",
    ),
    "act-borrow-ok": (
        "BORROW the record, after checking the item is the one requested (N-13).",
        "依頼した資料であることを確認してから(N-13)、BORROWしてください。",
    ),
    "act-receive-ok": (
        "RECEIVE the record, after checking the item is the one requested (N-13); then OK "
        "(copy) or BORROW (loan).",
        "依頼した資料であることを確認してから(N-13)RECEIVEし、複写はOK、貸借はBORROWしてください。",
    ),
    "act-not-yet": ("Do not {command} yet.", "まだ{command}しないでください。"),
    "act-received-email": (
        "The record was already RECEIVEd, so it is billable as it stands. E-mail {lender} at "
        "once (N-20).",
        "レコードは受付済みのため、このままでは課金されます。直ちに受付館 {lender} にメール"
        "で連絡してください(N-20)。",
    ),
    "act-keep": (
        "Keep the record at {where} and do not {command}: {command} makes the request billable "
        "on OCLC and cannot be undone, and CLAIM is not available (N-17, N-18). E-mail {lender} "
        "first (N-20).",
        "レコードは{where}のままにし、{command}しないでください。{command}するとOCLC側で課金"
        "対象となり取り消せず、CLAIMも使えません(N-17, N-18)。まず受付館 {lender} にメール"
        "で連絡してください(N-20)。",
    ),
    "step-state": (
        "If the item arrived while the record is still 処理中, ask the NII NACSIS-ILL desk "
        "first; if it finds no system fault, e-mail the lender to set the record to Shipped "
        "(N-27).",
        "処理中のまま資料が届いた場合は、まずNIIのNACSIS-ILL担当に問い合わせ、システム障害が"
        "なければ受付館にShippedへの更新をメールで依頼してください(N-27)。",
    ),
    "step-no-shipped": (
        "Wait for the lender's Shipped message (the APDU=Shipped OCLC line) before {command}.",
        "{command}の前に、受付館のShipped(履歴のAPDU=Shipped OCLC行)を待ってください。",
    ),
    "step-unreadable": (
        "The lender's amount cannot be read: ask the lender what it charged.",
        "受付館の金額が読めません。請求額を受付館に問い合わせてください。",
    ),
    "step-max-cost-missing": (
        "Without MAX-COST, IFM cannot pay (N-6): agree with the lender a dummy record that "
        "states MAX-COST, or individual settlement.",
        "MAX-COSTがないとIFMで支払えません(N-6)。MAX-COSTを記入したダミーレコードか個別精算"
        "を受付館と合意してください。",
    ),
    "step-no-policy": (
        "Look up the lender's lending policy (ILL-Copy-Charge, ILL-Loan-Charge, ILL-Commun1/2) "
        "and check again with it (N-15).",
        "受付館のLending Policy(ILL-Copy-Charge、ILL-Loan-Charge、ILL-Commun1/2)を調べ、"
        "それと照らしてもう一度チェックしてください(N-15)。",
    ),
    "step-currency": (
        "Ask the lender to state its charge in {currency}: IFM pays only that (O-4).",
        "請求額を{currency}で示すよう受付館に依頼してください。IFMはその通貨でしか支払い"
        "ません(O-4)。",
    ),
    "step-no-ifm-received": (
        "Without PAYMENT=IFM the request is outside IFM and the lender may invoice you "
        "directly. To pay through IFM, agree a dummy record with the lender; the original may "
        "go on to its final state, but to avoid double billing ask the NII NACSIS-ILL desk, "
        "with the lender's agreement, to set it to CANCEL (N-22).",
        "PAYMENT=IFMがないためIFMの対象外で、受付館から直接請求される可能性があります。IFMで"
        "支払うには受付館とダミーレコードを合意してください。元のレコードは最終状態まで進めて"
        "かまいませんが、二重請求を避けるため、受付館の合意を得てNIIのNACSIS-ILL担当にCANCEL"
        "を依頼してください(N-22)。",
    ),
    "step-no-ifm": (
        "Ask the lender to settle through IFM. With its agreement send a dummy record (same "
        "request, ARTCL naming the OCLC ILL number) and go on with the dummy; once the lender "
        "agrees, ask the NII NACSIS-ILL desk to set this record to CANCEL. No dummy is needed "
        "if individual settlement (the lender's own invoice) is possible and agreed (N-22).",
        "IFMでの精算を受付館に依頼してください。合意が得られたらダミーレコード(同じ依頼内容、"
        "ARTCLにOCLCのILL番号を記入)を送り、ダミーで処理を進めます。受付館の合意後、この"
        "レコードのCANCELをNIIのNACSIS-ILL担当に依頼してください。個別精算(受付館の請求書)が"
        "可能で合意できればダミーは不要です(N-22)。",
    ),
    "step-over-max-cost-received": (
        "Over MAX-COST the request is outside IFM and the lender may invoice {cost} directly: "
        "agree a dummy record or individual settlement, and have the NII NACSIS-ILL desk set "
        "the original to CANCEL to avoid double billing (N-22, N-23).",
        "MAX-COSTを超えているためIFMの対象外で、受付館から{cost}を直接請求される可能性が"
        "あります。ダミーレコードか個別精算を合意し、二重請求を避けるため元のレコードのCANCEL"
        "をNIIのNACSIS-ILL担当に依頼してください(N-22, N-23)。",
    ),
    "step-over-max-cost": (
        "MAX-COST of a record at 発送 cannot be edited. If a dummy record is agreed, have the "
        "NII NACSIS-ILL desk set this record to CANCEL (as for N-22) and send a dummy with "
        "either (A) MAX-COST raised to at least the total {cost}, or (B) the lender lowering "
        "its total to at most {limit}. No dummy is needed if individual settlement is possible "
        "and agreed (N-23).",
        "発送のレコードのMAX-COSTは編集できません。ダミーレコードを合意した場合は、この"
        "レコードのCANCELをNIIのNACSIS-ILL担当に依頼し(N-22と同様)、(A) MAX-COSTを合計額"
        "{cost}以上にする、または (B) 受付館が合計額を{limit}以下に下げる、のいずれかで"
        "ダミーを送ってください。個別精算が可能で合意できればダミーは不要です(N-23)。",
    ),
    "step-fee-billed": (
        "With PAYMENT=IFM, IFM is concluded and will be billed next month: settle it with the "
        "lender at once; if a dummy record is agreed, get the agreement of the {gif} and the "
        "{kinokuniya}, then ask the NII NACSIS-ILL desk to set the original to CANCEL (N-24).",
        "PAYMENT=IFMがあるためIFMは成立し、翌月に請求されます。直ちに受付館と調整し、ダミー"
        "レコードを合意した場合は{gif}と{kinokuniya}の了承を得てから、元のレコードのCANCELを"
        "NIIのNACSIS-ILL担当に依頼してください(N-24)。",
    ),
    "step-fee": (
        "Ask the lender to check its charge against its lending policy; if it changes the "
        "charge on OCLC, ask the NII NACSIS-ILL desk to change the amount on this record "
        "(N-24).",
        "請求額をLending Policyと照合するよう受付館に依頼してください。受付館がOCLC上で金額を"
        "変更した場合は、このレコードの金額の変更をNIIのNACSIS-ILL担当に依頼してください"
        "(N-24)。",
    ),
    # The reasons of the checks before RECEIVE.
    "why-n27": (
        "N-27: STAT is 処理中 (IN-PROCESS): the item arrived but the record never reached 発送 "
        "(SHIPPED)",
        "N-27: 状態が処理中です。資料は届きましたが、レコードが発送になっていません",
    ),
    "why-stat": (
        "STAT is {stat}: RECEIVE of an arrival needs 発送",
        "状態が{stat}です。到着資料のRECEIVEは発送のときだけです",
    ),
    "why-no-shipped": (
        "N-16: no APDU=Shipped OCLC line in the history and no Shipped message: what the lender "
        "entered cannot be checked",
        "N-16: 履歴にAPDU=Shipped OCLC行がなくShippedもないため、受付館の入力内容を確認できません",
    ),
    "note-no-policy": (
        "N-15: no lending policy was given: compare the charge with the lender's "
        "ILL-Copy-Charge / ILL-Loan-Charge before RECEIVE",
        "N-15: Lending Policyが与えられていません。RECEIVEの前に請求額を受付館の"
        "ILL-Copy-Charge / ILL-Loan-Chargeと照合してください",
    ),
    "why-no-policy": (
        "N-15: no lending policy for the lender: the charge cannot be compared with its "
        "ILL-Copy-Charge / ILL-Loan-Charge",
        "N-15: 受付館のLending Policyがないため、請求額をILL-Copy-Charge / ILL-Loan-Charge"
        "と照合できません",
    ),
    "why-over": (
        "N-14/N-23: the total {cost} exceeds MAX-COST {limit}",
        "N-14/N-23: 合計額 {cost} がMAX-COST {limit} を超えています",
    ),
    "why-no-ifm": (
        "N-16/N-22: the APDU=Shipped OCLC line shows no PAYMENT=IFM: the lender has not agreed "
        "to settle {cost} through IFM",
        "N-16/N-22: APDU=Shipped OCLC行にPAYMENT=IFMがありません。受付館は{cost}をIFMで精算"
        "することに同意していません",
    ),
    "why-no-ifm-policy": (
        "N-16/N-22: the APDU=Shipped OCLC line shows no PAYMENT=IFM: the lender has not agreed "
        "to settle {cost} through IFM (and {lender}'s lending policy says it does not accept "
        "IFM)",
        "N-16/N-22: APDU=Shipped OCLC行にPAYMENT=IFMがありません。受付館は{cost}をIFMで精算"
        "することに同意していません({lender}のLending PolicyもIFM不可です)",
    ),
    "why-fee": (
        "N-15/N-24: the charge {cost} differs from {lender}'s lending policy ({stated})",
        "N-15/N-24: 請求額 {cost} が{lender}のLending Policy({stated})と異なります",
    ),
}


def say(key: str, **fields: object) -> Text:
    """The message ``key`` with ``fields`` filled in, in both languages."""
    en, ja = MESSAGES[key]
    filled = said({"en": en, "ja": ja}, "en", **fields)
    return Text(filled, filled.langs["ja"])


def in_lang(text: str, lang: Lang) -> str:
    """``text`` in ``lang``: the Japanese of a :class:`Text`, else the text as it is."""
    return _in_lang(text, lang)


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
