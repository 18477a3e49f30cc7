"""What the NACSIS-ILL side says to staff, in Japanese and in English.

The staff who read the reasons and actions are Japanese; the project's tests, logs and the
OCLC side read English. A message is a :class:`Text`: a ``str`` holding the English, with the
Japanese beside it, so that code and tests that compare English keep working and the edge (the
command line's ``--lang``, the HTTP API's ``Accept-Language``) picks the language. The
Japanese uses the guide's own terms (発送, 処理中, 新着照会, 謝絶, 受付館 ...). The CALIS
library desk says its Chinese the same way (:mod:`isoill.multilingual`).
"""

from __future__ import annotations

from collections.abc import Iterable
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

    def __reduce__(self) -> tuple[type[Text], tuple[str, str]]:
        # Copied or pickled (a reason inside an exception that crosses a process), a Text
        # keeps its Japanese; str's own reduction would call Text(en) and fail.
        return (Text, (str(self), self.ja))


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
        "グローバルILLではCLAIMコマンドは使用できません。受付館にメールで連絡してください(N-21)",
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
        "レコードはそのままにし(RECEIVEしない。グローバルILLではCLAIMは使えません)、受付館に"
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
    # The guide's troubles (2.6), as each letter's case names them.
    "case-not-received": ("N-21 (1): not received", "N-21 (1): 複写物が届かない(督促)"),
    "case-wrong-copy": (
        "N-21 (2): wrong or defective copy",
        "N-21 (2): 誤った複写物、または複写物に瑕疵がある",
    ),
    "case-mistake": ("N-21 (3): requested by mistake", "N-21 (3): 誤ってリクエストした"),
    "case-physical": (
        "N-25 (4): physical item for a copy request",
        "N-25 (4): 複写物の代わりに資料現物が届いた",
    ),
    "case-rejected": (
        "N-26 (5): copy arrived, record refused",
        "N-26 (5): 複写物は届いたがレコードが謝絶されて戻ってきた",
    ),
    "case-stuck": (
        "N-27 (9): copy arrived, record still 処理中",
        "N-27 (9): 複写物が届いたのにデータが処理中のまま",
    ),
    "case-before-receive": (
        "N-22 .. N-24: the charge to clear with the lender before RECEIVE",
        "N-22〜N-24: RECEIVEの前に請求内容を受付館に確認する",
    ),
    "case-after-receive": (
        "N-22 .. N-24: the charge to correct with the lender after RECEIVE",
        "N-22〜N-24: RECEIVEの後で請求内容の訂正を受付館に依頼する",
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
        "レコードは受付済みのため、このままでは課金されます。直ちに{lender}にメールで"
        "連絡してください(N-20)。",
    ),
    "act-keep": (
        "Keep the record at {where} and do not {command}: {command} makes the request billable "
        "on OCLC and cannot be undone, and CLAIM is not available (N-17, N-18). E-mail {lender} "
        "first (N-20).",
        "レコードは{where}のままにし、{command}しないでください。{command}するとOCLC側で課金"
        "対象となり取り消せず、CLAIMも使えません(N-17, N-18)。まず{lender}にメールで連絡"
        "してください(N-20)。",
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
        "受付館のレンディング・ポリシー(ILL-Copy-Charge、ILL-Loan-Charge、ILL-Commun1/2)を調べ、"
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
        "請求額をレンディング・ポリシーと照合するよう受付館に依頼してください。受付館がOCLC上で金額を"
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
        "N-15: レンディング・ポリシーが与えられていません。RECEIVEの前に請求額を受付館の"
        "ILL-Copy-Charge / ILL-Loan-Chargeと照合してください",
    ),
    "why-no-policy": (
        "N-15: no lending policy for the lender: the charge cannot be compared with its "
        "ILL-Copy-Charge / ILL-Loan-Charge",
        "N-15: 受付館のレンディング・ポリシーがないため、請求額をILL-Copy-Charge / ILL-Loan-Charge"
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
        "することに同意していません({lender}のレンディング・ポリシーもIFM不可です)",
    ),
    "why-fee": (
        "N-15/N-24: the charge {cost} differs from {lender}'s lending policy ({stated})",
        "N-15/N-24: 請求額 {cost} が{lender}のレンディング・ポリシー({stated})と異なります",
    ),
    # The GIF rules an order breaks (to_iso.order_request), each naming the field.
    "order-no-id": (
        "ID: the record has no ID; NII builds the ISO transaction id from ID, HMLISO and ODATE "
        "(N-11)",
        "ID: レコードにIDがありません。NIIはISO処理IDをID・HMLISO・ODATEから作ります(N-11)",
    ),
    "order-no-srvce": (
        "SRVCE: required: COPY (a copy) or LOAN (a loan)",
        "SRVCE: 必須です。COPY(複写)またはLOAN(貸借)",
    ),
    "order-no-artcl": (
        "ARTCL: a copy request needs the article (title, author); without it OCLC would turn it "
        "into a loan request (N-7)",
        "ARTCL: 複写依頼には論題(論文名・著者)が必要です。記述しないとOCLCでは現物貸借申込と"
        "なります(N-7)",
    ),
    "order-no-omlid": (
        "OMLID: the requesting library is required (OCLC's :Borrower:)",
        "OMLID: 依頼館は必須です(OCLCの:Borrower:)",
    ),
    "order-no-lender": (
        "HMLISO: the lender's code is required (or a holding's HMLID)",
        "HMLISO: 受付館のコードは必須です(または所蔵のHMLID)",
    ),
    "order-lender-separator": (
        "{field}: {code} holds {sep}, which separates the lender from ODATE in the transaction id",
        "{field}: {code}に{sep}が含まれています。{sep}はISO処理IDで受付館とODATEを区切る文字です",
    ),
    "order-no-bibnt": (
        "BIBNT: the title is required (OCLC refuses a request without one)",
        "BIBNT: 書名は必須です(書名のない依頼はOCLCが受け付けません)",
    ),
    "order-check-digit": (
        "STDNO: {number} is not an {kind}: its check digit should be {check}",
        "STDNO: {number}は{kind}ではありません。チェックディジットは{check}のはずです",
    ),
    "order-no-oadrs": (
        "OADRS: the delivery address is required (OCLC refuses a request without a postal address)",
        "OADRS: 送付先住所は必須です(郵送先住所のない依頼はOCLCが受け付けません)",
    ),
    "address-lines": (
        "at most {most} lines fit a postal address, not {lines}",
        "郵送先住所は{most}行までです({lines}行あります)",
    ),
    "order-no-spvia": (
        "SPVIA: required (N-5): 速達 (express), 書留 (registered), FAX or Ariel, OCLC's SHIP VIA",
        "SPVIA: 送付方法は必須です(N-5)。速達、書留、FAX、Ariel(OCLCのSHIP VIA)",
    ),
    "order-bad-spvia": (
        "SPVIA: {spvia} is not a shipping method of the OCLC link: 速達 (express), 書留 "
        "(registered), FAX or Ariel (N-5)",
        "SPVIA: {spvia}はOCLCとのリンクの送付方法ではありません。速達、書留、FAX、Arielのいずれか"
        "です(N-5)",
    ),
    "order-no-ariel": (
        "CMMNT: SPVIA Ariel needs the Ariel address, NOTE=ARIEL=<address> (N-5); OADRS shows "
        "none either",
        "CMMNT: 送付方法がArielのときは送付先アドレスをNOTE=ARIEL=<アドレス>で記述してください"
        "(N-5)。OADRSにもありません",
    ),
    "order-no-payment": (
        "CMMNT: PAYMENT=IFM is missing; the OCLC link settles through IFM only, and NII sends "
        "the record back as a transfer error without it (N-6)",
        "CMMNT: PAYMENT=IFMがありません。OCLCとのリンクの決済はIFMだけで、ないとNIIは転送エラー"
        "(新着照会)としてレコードを戻します(N-6)",
    ),
    "order-no-max-cost": (
        "CMMNT: MAX-COST=<currency><amount> is missing (as in MAX-COST=USD35.50); it is OCLC's "
        "MAXCOST, the most the library will pay (N-6)",
        "CMMNT: MAX-COST=<通貨><金額>がありません(例: MAX-COST=USD35.50)。OCLCのMAXCOSTで、"
        "依頼館が支払う上限金額です(N-6)",
    ),
    "order-max-cost-usd": (
        "CMMNT: 'MAX-COST={maximum}': IFM settles in US dollars, so OCLC wants the maximum cost "
        "in USD (O-2)",
        "CMMNT: 'MAX-COST={maximum}': IFMはドル建てで決済するため、上限金額はUSDで記述して"
        "ください(O-2)",
    ),
    "order-no-copyright": (
        "CMMNT: ISO-CC=US:CCG or ISO-CC=US:CCL is missing; a copy request must state US "
        "copyright compliance (N-4)",
        "CMMNT: ISO-CC=US:CCGまたはISO-CC=US:CCLがありません。複写依頼には著作権応諾(CCGまたは"
        "CCL)を記載する必要があります(N-4)",
    ),
    "order-need-before-past": (
        "CMMNT: 'NEED-BEFORE={need}' is before the order date {today}; OCLC refuses a "
        "need-before date in the past (O-3)",
        "CMMNT: 'NEED-BEFORE={need}'が依頼日{today}より前です。OCLCは過去の期限を受け付けません"
        "(O-3)",
    ),
    "order-answer-token": (
        "CMMNT: {key}= is a lender's answer, not part of a request; only the newest CMMNT "
        "travels, so take it out before ORDER",
        "CMMNT: {key}=は受付館の回答で、依頼の一部ではありません。送られるのは最新のCMMNTだけ"
        "なので、ORDERの前に削除してください",
    ),
    # Single-byte typing (N-8) and its NFKC normalisation (record.normalised).
    "nfkc-note": (
        "{field}: full-width characters made single-byte (NFKC): {fixed}",
        "{field}: 全角文字を半角にしました(NFKC): {fixed}",
    ),
    "not-single-byte": (
        "{field}: {char} at character {position} is not single-byte; only TYPE and SPVIA may "
        "hold Japanese on the OCLC link{hint}",
        "{field}: {position}文字目の{char}は半角ではありません。OCLCとのリンクで日本語を使える"
        "のはTYPEとSPVIAだけです{hint}",
    ),
    "single-byte-hint": (" (write {fixed})", "({fixed}と書いてください)"),
    # What is wrong with a CMMNT token (cmmnt.read), after the token itself.
    "cmmnt-no-value": ("the value is missing", "値がありません"),
    "cmmnt-twice": (
        "{key} is given twice; only the first is used",
        "{key}が2回書かれています。最初のものだけを使います",
    ),
    "cmmnt-payment": (
        "the only payment method on the GIF link is IFM",
        "GIFリンクの決済方法はIFMだけです",
    ),
    "cmmnt-no-ariel": (
        "NOTE=ARIEL= needs the Ariel address",
        "NOTE=ARIEL=にはArielの送付先アドレスが必要です",
    ),
    "cmmnt-second-ariel": (
        "a second Ariel address; only the first is used",
        "2つ目のArielアドレスです。最初のものだけを使います",
    ),
    "cmmnt-illnum": ("an OCLC ILL number is digits only", "OCLCのILL番号は数字だけです"),
    "cmmnt-code": (
        "CODE is the number of an ISO reason or condition (13, 27 ...)",
        "CODEはISOの謝絶理由または条件の番号です(13、27など)",
    ),
    "cmmnt-code-unknown": (
        "{number} is not an ISO reason-unfilled or condition number",
        "{number}はISOの謝絶理由(reason-unfilled)・条件の番号ではありません",
    ),
    "cmmnt-comma": (
        "write the amount with a decimal point and no commas (USD35.50)",
        "金額は小数点で書き、カンマは使わないでください(USD35.50)",
    ),
    "cmmnt-amount": (
        "expected a currency code and an amount, as in USD35.50",
        "通貨コードと金額を書いてください(例: USD35.50)",
    ),
    "cmmnt-currency": (
        "{currency} is not an ISO 4217 currency code",
        "{currency}はISO 4217の通貨コードではありません",
    ),
    "not-amount": ("{amount} is not an amount", "{amount}は金額ではありません"),
    "cmmnt-amount-long": (
        "at most ten characters of amount travel in ISO ILL",
        "ISO ILLで送れる金額は10文字までです",
    ),
    "cmmnt-copyright": (
        "copyright compliance is US:CCG (CONTU guidelines) or US:CCL (the law)",
        "著作権応諾はUS:CCG(著作権ガイドラインへの応諾)またはUS:CCL(著作権法への応諾)です",
    ),
    "cmmnt-enum": (
        "not one of {names} (or their numbers)",
        "{names}(またはその番号)のいずれでもありません",
    ),
    "cmmnt-date": ("a date is written YYYYMMDD", "日付はYYYYMMDDで書きます"),
    "cmmnt-not-date": ("not a date: {why}", "日付ではありません: {why}"),
    # What the checks before RECEIVE find besides the above (receive_guard.check_receive).
    "not-set": ("not set", "未設定"),
    "at-shipped": ("発送 (SHIPPED)", "発送"),
    "in-history": ("history: {problem}", "履歴: {problem}"),
    "note-no-illnum": (
        "N-16: the OCLC ILL number (OCLC-ILLNUM) is not in the history",
        "N-16: 履歴にOCLCのILL番号(OCLC-ILLNUM)がありません",
    ),
    "return-by-unknown": (
        "the date the lender asks for (none recorded yet)",
        "受付館の指定する返却期限(まだ記録されていません)",
    ),
    "note-physical": (
        "N-25: a physical item was sent for a copy: return it by {due}",
        "N-25: 複写物の代わりに現物が届きました。{due}までに返送してください",
    ),
    "note-yen": (
        "N-19: the yen charge comes on the monthly invoice from Kinokuniya",
        "N-19: 円貨による請求額は紀伊國屋書店からの月締めの請求書によります",
    ),
    "why-max-cost-missing": (
        "N-14: CMMNT has no readable MAX-COST{detail}: the total {cost} cannot be checked "
        "against it",
        "N-14: CMMNTに読み取れるMAX-COSTがありません{detail}。合計額 {cost} をMAX-COSTと照合"
        "できません",
    ),
    "why-no-currency": (
        "O-4: the lender's total {cost} has no currency; MAX-COST is {limit}",
        "O-4: 受付館の合計額 {cost} に通貨がありません(MAX-COSTは{limit})",
    ),
    "why-currency": (
        "O-4: the total {cost} is not in {currency}, the currency of MAX-COST {limit}: IFM does "
        "not pay it",
        "O-4: 合計額 {cost} がMAX-COST {limit} の通貨{currency}ではないため、IFMでは支払われません",
    ),
    "note-free": (
        "N-22: no PAYMENT=IFM, but the amount is {cost} and the lending policy says the item is "
        "free: RECEIVE and finish the record normally",
        "N-22: PAYMENT=IFMはありませんが、金額は{cost}で、レンディング・ポリシーで無料と"
        "確認できます。RECEIVEし、通常どおり最終段階まで処理してください",
    ),
    "why-free-no-policy": (
        "N-16/N-22: no PAYMENT=IFM; the amount is {cost} but there is no lending policy to "
        "confirm it is free",
        "N-16/N-22: PAYMENT=IFMがありません。金額は{cost}ですが、無料であることを確認できる"
        "レンディング・ポリシーがありません",
    ),
    "why-free-not-free": (
        "N-16/N-22: no PAYMENT=IFM; the amount is {cost} but the lending policy of {lender} "
        "does not say it is free",
        "N-16/N-22: PAYMENT=IFMがありません。金額は{cost}ですが、{lender}のレンディング・ポリシーに"
        "無料とは書かれていません",
    ),
    "charge-free": ("free", "無料"),
    "charge-not-stated": ("not stated", "記載なし"),
    "why-policy-no-charge": (
        "N-15: {lender}'s lending policy states no charge",
        "N-15: {lender}のレンディング・ポリシーに料金の記載がありません",
    ),
    "why-free-fee": (
        "N-15/N-24: the amount is {cost} but {lender}'s lending policy says {stated}",
        "N-15/N-24: 金額は{cost}ですが、{lender}のレンディング・ポリシーでは{stated}です",
    ),
    "why-policy-no-field": (
        "N-15: {lender}'s lending policy states no {fields}: the charge {cost} cannot be compared",
        "N-15: {lender}のレンディング・ポリシーに{fields}の記載がないため、請求額 {cost} を"
        "照合できません",
    ),
    "why-policy-currency": (
        "N-15/N-24: the charge {cost} is not in {currency}, the currency of {lender}'s lending "
        "policy ({stated})",
        "N-15/N-24: 請求額 {cost} が{lender}のレンディング・ポリシーの通貨{currency}ではありません"
        "({stated})",
    ),
    "max-cost-currency": ("the MAX-COST currency", "MAX-COSTの通貨"),
    # Who the lender is, in an action.
    "the-lender": ("the lender", "受付館"),
    "the-lender-named": ("the lender {who}", "受付館 {who}"),
    "lender-no-email": (
        "{symbol} (e-mail: its lending policy's ILL-Commun1 or ILL-Commun2)",
        "{symbol}(メールアドレスはレンディング・ポリシーのILL-Commun1またはILL-Commun2)",
    ),
    # A letter or a dummy record that cannot be made (receive_guard.letter_for, dummy_record).
    "checks-pass": ("the checks pass", "受付前チェックはすべて通っています"),
    "letter-nothing": (
        "{case}: nothing to ask the lender: {why}",
        "{case}: 受付館に問い合わせることはありません: {why}",
    ),
    "letter-no-problem": (
        "{case}: say what is wrong with the copy (the problem)",
        "{case}: 複写物の何が誤っているか(瑕疵)を書いてください(problem)",
    ),
    "letter-case-unknown": (
        "{case}: not a letter case; one of {cases}",
        "{case}: レター文例の事例ではありません。次のいずれかです: {cases}",
    ),
    "dummy-illnum": (
        "OCLC ILL number {number}: an OCLC ILL number is 8 digits",
        "OCLC ILL番号 {number}: OCLCのILL番号は8桁です",
    ),
    "dummy-no-staff": (
        "staff name: name the lender's staff the e-mails were exchanged with",
        "担当者名: 協議のためにメールをやりとりした相手館の担当者名を書いてください",
    ),
    "dummy-staff-single-byte": (
        "staff name {name}: ARTCL travels to OCLC, so write it in single-byte characters",
        "担当者名 {name}: ARTCLはOCLCに送られるため、半角文字で書いてください",
    ),
    "from-requester": (
        "{apdu} is sent by the requester; it cannot come from OCLC",
        "{apdu}は依頼館が送るAPDUで、OCLCの受付館から届くことはありません",
    ),
    # The commands' own refusals (commands.py) and the HTTP options of a command.
    "role-requester": ("requester", "依頼館"),
    "role-responder": ("responder", "受付館"),
    "not-a-command": (
        "{command} is not a {role}'s command on the link",
        "{command}はOCLCとのリンクで{role}が使うコマンドではありません",
    ),
    "not-ordered": (
        "the record has not been ordered",
        "レコードはまだ依頼(ORDER)されていません",
    ),
    "answer-not-conditional": (
        "ANSWER replies to the lender's conditions; the ISO state is {state}, not CONDITIONAL "
        "(to refuse conditions, CANCEL)",
        "ANSWERは受付館の条件付き回答(照会)への返答です。ISO状態は{state}で、CONDITIONALでは"
        "ありません(条件を断るにはCANCEL)",
    ),
    "iso-refused": ("{note}", "ISOの状態遷移で許されないため送信しません: {note}"),
    "what-to-do": ("what to do: {action}", "対応: {action}"),
    "option-policy": (
        "policy: the gateway takes the lending policy from its configuration and its "
        "transaction, not from the request",
        "policy: レンディング・ポリシーはゲートウェイが設定と処理から取ります。リクエストでは指定"
        "できません",
    ),
    "option-shipped": (
        "shipped: the gateway takes the Shipped from its configuration and its transaction, "
        "not from the request",
        "shipped: Shippedはゲートウェイが設定と処理から取ります。リクエストでは指定できません",
    ),
    "option-unknown": (
        "{key}: not an option; options are force and reason",
        "{key}: そのようなオプションはありません。オプションはforceとreasonです",
    ),
    "option-bool": ("{key}: true or false", "{key}: trueかfalseで指定してください"),
    "option-text": ("{key}: text", "{key}: 文字列で指定してください"),
    "force-unguarded": (
        "force: only RECEIVE and BORROW have checks to override, not {command}",
        "force: 強制できるのはチェックのあるRECEIVEとBORROWだけです({command}は不可)",
    ),
    "ok-needs-arrival": (
        "OK finishes a copy after RECEIVE (到着処理中)",
        "OKはRECEIVE後(到着処理中)の複写を完了するコマンドです",
    ),
    "accept-nothing": (
        "no new request to accept (ISO {state})",
        "受け付ける新しい依頼がありません(ISO状態 {state})",
    ),
    "send-no-ifm": (
        "CMMNT: SEND needs PAYMENT=IFM (rule N-36; OCLC refuses it otherwise)",
        "CMMNT: SEND(発送)にはPAYMENT=IFMが必要です(N-36。ないとOCLCが受け付けません)",
    ),
    "send-no-due": (
        "DDATE: a loan needs its due date (rule N-32)",
        "DDATE: 貸借には返却期限が必要です(N-32)",
    ),
    "send-no-sum": (
        "SUM: SEND needs the total (rule N-36; write 0 for a free copy)",
        "SUM: SEND(発送)には合計金額が必要です(N-36。無料なら0)",
    ),
    "inquire-needs": (
        "CMMNT: INQUIRE needs CODE=<n> or COND= (or a NOTE=) (rule N-36)",
        "CMMNT: INQUIRE(照会)にはCODE=<番号>かCOND=(またはNOTE=)が必要です(N-36)",
    ),
    "pardon-needs": (
        "CMMNT: PARDON needs CODE=<n> or UNFILL= (or a NOTE=) (rule N-36)",
        "CMMNT: PARDON(謝絶)にはCODE=<番号>かUNFILL=(またはNOTE=)が必要です(N-36)",
    ),
    "not-a-date": (
        "{field}: {text} is not a date (YYYYMMDD)",
        "{field}: {text}は日付(YYYYMMDD)ではありません",
    ),
    "edit-nothing": (
        'give an object of the fields to change, like {{"SUM": "15.00"}}',
        '変更する項目をオブジェクトで指定してください(例: {{"SUM": "15.00"}})',
    ),
    # The records API's own refusals (gateway), as the records network's staff read them.
    "no-record": ("no record {id}", "レコード{id}はありません"),
    "unknown-command": (
        "unknown command {command}; one of {known}",
        "{command}というコマンドはありません。次のいずれかです: {known}",
    ),
    "options-object": ("options must be an object", "optionsはオブジェクトで指定してください"),
    "unknown-keys": ("unknown keys {keys}; {usage}", "不明なキーがあります({keys})。{usage}"),
    "usage-command": (
        'give {{"command": "ORDER", "options": {{...}}}}',
        '{{"command": "ORDER", "options": {{...}}}}の形で指定してください',
    ),
    "usage-dummy": (
        'give {{"oclc_number": "12345678", "lender_staff": "..."}}',
        '{{"oclc_number": "12345678", "lender_staff": "..."}}の形で指定してください',
    ),
    "busy": (
        "the transaction is busy; try again",
        "処理が他の操作と重なっています。もう一度試してください",
    ),
    "no-records-network": (
        "this gateway has no records network",
        "このゲートウェイにはレコードを扱うネットワークがありません",
    ),
    "no-iso-leg": ("no ISO leg for {key}", "{key}のISO側の処理がないため、送れません"),
    "record-exists": ("ID: record {id} exists already", "ID: レコード{id}は既にあります"),
    "policies-unreadable": (
        "the lending policies ({file}) cannot be read: {why}",
        "レンディング・ポリシーの表({file})を読めません: {why}",
    ),
    # The command line's own words.
    "note-stat-from-shipped": (
        "STAT {stat}: from the Shipped message (the record gives none)",
        "STAT {stat}: Shippedから判断しました(レコードに状態がありません)",
    ),
    "id-given": ("ID {id} (from --id)", "ID {id}(--idによる)"),
    "id-assigned": (
        "ID {id} (assigned: the record had none)",
        "ID {id}(レコードにIDがないため付与しました)",
    ),
    "id-not-single-byte": (
        "--id {given}: an ID is single-byte text (it travels to OCLC)",
        "--id {given}: IDは半角文字で書きます(OCLCに送られます)",
    ),
    "id-conflict": (
        "ID: the record has ID {own}, --id says {wanted}; drop one",
        "ID: レコードのIDは{own}ですが、--idは{wanted}です。どちらかを外してください",
    ),
    "no-policy-entry": (
        "policy: {file} has no entry for {wanted}",
        "policy: {file}に{wanted}の項目がありません",
    ),
    "lender-no-hmliso": ("the lender (no HMLISO)", "受付館(HMLISOなし)"),
    # A lending-policy table that cannot be used (policy.read_policies), line by line.
    "at-line": ("line {line}: {problem}", "{line}行目: {problem}"),
    "policy-no-header": (
        "no header line: expected {columns}",
        "見出し行がありません。必要な列: {columns}",
    ),
    "policy-header": (
        "header {parts} (expected {columns})",
        "見出し行: {parts}(必要な列: {columns})",
    ),
    "header-missing": ("missing {columns}", "不足 {columns}"),
    "header-unknown": ("unknown {columns}", "不明 {columns}"),
    "header-repeated": ("repeated {columns}", "重複 {columns}"),
    "policy-cells": (
        "{cells} cells, the header has {columns}",
        "セルが{cells}個あります(見出しは{columns}列)",
    ),
    "policy-symbol-twice": (
        "symbol {symbol} is already on line {first}",
        "シンボル{symbol}は既に{first}行目にあります",
    ),
    "policy-no-symbol": (
        "symbol: the lender's OCLC symbol is missing",
        "symbol: 受付館のOCLCシンボルがありません",
    ),
    "policy-symbol-chars": ("an OCLC symbol is letters and digits", "OCLCシンボルは英数字です"),
    "policy-amount": (
        "an amount is digits with an optional decimal point (15.00)",
        "金額は数字(と小数点)で書きます(15.00)",
    ),
    "policy-currency": ("not an ISO 4217 currency code", "ISO 4217の通貨コードではありません"),
    "policy-no-currency": (
        "currency: a charge is given, so its currency is needed",
        "currency: 料金があるので通貨が必要です",
    ),
    "policy-yes-no": ("write yes or no", "yesかnoで書いてください"),
    "policy-free-copy": (
        "free_copy is yes, so the copy charge is blank or 0",
        "free_copyがyesなので、複写料金は空欄か0にしてください",
    ),
    "policy-email": (
        "email {email}: not an e-mail address",
        "email {email}: メールアドレスではありません",
    ),
    # A directory of NACSIS codes and OCLC symbols that cannot be used (directory.Directory).
    "line": ("line {line}", "{line}行目"),
    "dir-nacsis-twice": (
        "{where}: NACSIS code {code} is listed twice (also {first})",
        "{where}: NACSISコード{code}が2回あります({first}にも)",
    ),
    "dir-oclc-twice": (
        "{where}: OCLC symbol {symbol} is listed twice (also {other}, for {nacsis})",
        "{where}: OCLCシンボル{symbol}が2回あります({other}の{nacsis}にも)",
    ),
    "dir-header": (
        "line {line}: the header must be 'nacsis,oclc' or 'nacsis,oclc,name', not {found}",
        "{line}行目: 見出しは'nacsis,oclc'か'nacsis,oclc,name'です({found}ではありません)",
    ),
    "dir-columns-2": (
        "line {line}: 2 columns expected, found {found}",
        "{line}行目: 2列のはずが{found}列あります",
    ),
    "dir-columns-3": (
        "line {line}: 2 or 3 columns expected, found {found}",
        "{line}行目: 2列か3列のはずが{found}列あります",
    ),
    "dir-empty-code": (
        "line {line}: the {column} code is empty",
        "{line}行目: {column}のコードが空です",
    ),
    "dir-space": (
        "line {line}: the {column} code {value} has a space in it",
        "{line}行目: {column}のコード{value}に空白があります",
    ),
    "dir-empty": (
        "line 1: empty directory; the header 'nacsis,oclc[,name]' is missing",
        "1行目: 空のディレクトリです。見出し'nacsis,oclc[,name]'がありません",
    ),
    "not-shipped": ("a Shipped APDU, not {name}", "Shipped APDUではありません({name})"),
    "max-cost-like": (
        "--max-cost {given}: like USD50.00",
        "--max-cost {given}: USD50.00のように書きます",
    ),
    # The command line's labels around a letter and what it could not read.
    "case": ("case", "事例"),
    "letter-to-lender": ("letter to the lender", "受付館へのレター(英文)"),
    "not-json": ("not JSON: {why}", "JSONとして読めません: {why}"),
    "file-missing": ("{file}: no such file", "{file}: ファイルがありません"),
    "file-unreadable": ("{file}: cannot be read: {why}", "{file}: 読めません({why})"),
    # A record's JSON that is no record (record.Record.from_json).
    "record-not-object": (
        "a record is a JSON object, not {type}",
        "レコードはJSONオブジェクトで書きます({type}ではありません)",
    ),
    "record-history": ("HISTORY: a list of lines (strings)", "HISTORY: 行(文字列)のリストです"),
    "record-not-string": (
        "{key}: a string, not {type}",
        "{key}: 文字列で書きます({type}ではありません)",
    ),
    "record-unknown-field": (
        "{key}: not a NACSIS-ILL field this record knows",
        "{key}: NACSIS-ILLのレコードにない項目です",
    ),
    "group-not-object": (
        "{key} {index}: an object of {names}",
        "{key} {index}: {names}からなるオブジェクトで書きます",
    ),
    "group-unknown": ("{key} {index}: unknown fields {names}", "{key} {index}: 不明な項目 {names}"),
    "group-strings": ("{key} {index}: values are strings", "{key} {index}: 値は文字列で書きます"),
    "group-empty-fee": ("{key} {index}: an empty fee line", "{key} {index}: 空の料金行です"),
    "group-no-hmlid": (
        "HMLID.{index}: a holding group needs its library code",
        "HMLID.{index}: 所蔵グループには所蔵館のコードが必要です",
    ),
    "not-one-of": (
        "{key}: {raw} is not one of {allowed}",
        "{key}: {raw}は{allowed}のいずれでもありません",
    ),
}


def say(key: str, /, **fields: object) -> Text:
    """The message ``key`` with ``fields`` filled in, in both languages. A field that is a
    :class:`Text` itself (a reason inside a reason) gives its Japanese to the Japanese."""
    en, ja = MESSAGES[key]
    filled = said({"en": en, "ja": ja}, "en", **fields)
    return Text(filled, filled.langs["ja"])


def role_name(role: str) -> Text:
    """A party of the link by its name: requester (依頼館), responder (受付館)."""
    return say(f"role-{role}") if f"role-{role}" in MESSAGES else Text(str(role), str(role))


def prefixed(label: str, text: str) -> Text:
    """``label: text`` in both languages: a problem of a field or token, named first the way
    every reason names what it is about (the label is a field or token, the same in both)."""
    return Text(f"{label}: {text}", f"{label}: {_ja(text)}")


def joined(texts: Iterable[str], sep: str = " ", ja_sep: str = "") -> Text:
    """Several messages as one, each in its own language."""
    parts = list(texts)
    return Text(sep.join(parts), ja_sep.join(str(_ja(part)) for part in parts))


def reason_of(err: BaseException) -> str:
    """The reason an exception was raised with: the :class:`Text` itself when it carries one
    (``str(err)`` would keep only the English)."""
    first = err.args[0] if len(err.args) == 1 else None
    return first if isinstance(first, Text) else str(err)


def _ja(value: object) -> object:
    return _in_lang(value, "ja") if isinstance(value, Said) else value


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
