"""What the library desk and its accounts say to readers and staff, in Chinese and English.

CALIS readers and staff read Chinese; ``?lang=en`` asks for English. What the desk writes
(a history line, a supplier's reason, a refusal, a form's problem) is a
:class:`~isoill.multilingual.Said`: its ``str`` is the Chinese, with the English beside it,
so each page shows it in its own language and a stored history line renders in either
(:mod:`isoill.library.requests` keeps both). The Chinese uses the Tsinghua guide's terms
(申请, 文献提供馆, 运送, 无法满足, 归还入库 ...).

A form's problem is ``"<field>: <what is wrong>"`` in both languages: the field's name lets
a page mark the field and show its label (联系方式, 费用限制) in place of the name.
"""

from __future__ import annotations

from isoill.multilingual import Said, said

#: Every phrase, by key: (Chinese, English), ``str.format`` templates with the same fields.
PHRASES: dict[str, tuple[str, str]] = {
    # --- a reader's request, as its history tells it --------------------------------------
    "submitted": ("提交申请", "submitted"),
    "cancelled-reader": ("读者取消", "cancelled by the reader"),
    "cancelled-staff": ("馆员取消", "cancelled by staff"),
    "cancel-asked-reader": ("读者请求取消, 已通知{who}", "the reader asked {who} to cancel"),
    "cancel-asked-staff": ("馆员请求取消, 已通知{who}", "staff asked {who} to cancel"),
    "cancel-reply": ("{who}答复了取消请求", "{who} answered the cancel"),
    "cancel-agreed": ("{who}同意取消", "{who} cancelled it"),
    "cancel-refused": ("{who}拒绝取消", "{who} refused to cancel"),
    "supplier-cancelled": ("{who}未提供, 申请已取消", "{who} did not supply: cancelled"),
    "renew-asked": ("读者申请续借", "the reader asked for a renewal"),
    "recall": ("{who}召回, 请尽快归还", "recalled by {who}: please return it soon"),
    "overdue": ("{who}: 已超过归还日期", "overdue, says {who}"),
    "conditions-accepted": ("读者接受条件: {conditions}", "the reader accepted: {conditions}"),
    "conditions-declined": ("读者不接受条件: {conditions}", "the reader declined: {conditions}"),
    "conditions-from": (
        "{who}提出条件, 等待读者答复: {conditions}",
        "conditions from {who}: {conditions}",
    ),
    "answer-from": ("{who}: {answer}", "{who}: {answer}"),
    "received": ("本馆已收到", "received by the library"),
    "returned": ("已归还文献提供馆", "returned to the supplier"),
    "returned-via": ("已归还文献提供馆, 归还方式: {via}", "returned to the supplier by {via}"),
    "no-answer": ("{span}内未答复", "no answer within {span}"),
    "cancel-unanswered": (
        "{who} {span}内未答复取消, 已通知读者和馆员",
        "{who} did not answer the cancel within {span}: reader and staff told",
    ),
    "cancel-unanswered-why": (
        "{who}: {span}内未答复取消",
        "{who}: no answer to the cancel within {span}",
    ),
    "no-answer-valid": ("有效时间内未答复", "no answer before the valid-until date"),
    "expired": ("超过有效时间, 申请自动结束", "valid-until date passed: the request ended"),
    "late": ("{who}迟到的{apdu}未处理", "late {apdu} from {who}: not acted on"),
    "forwarded": ("{who}已将申请转至{new}", "{who} forwarded the request to {new}"),
    "another-library": ("另一图书馆", "another library"),
    "checked-in": ("{who}已归还入库", "{who} checked it in"),
    "renewed": ("{who}同意续借, 归还日期 {due}", "{who} renewed it until {due}"),
    "renew-refused": ("{who}不同意续借", "{who} refused the renewal"),
    "apdu-received": ("收到: {apdu}", "received: {apdu}"),
    "apdu-sent": ("发出: {apdu}", "sent: {apdu}"),
    "apdu-received-refused": (
        "收到: {apdu} (不符合协议, 未处理)",
        "received: {apdu} (out of turn: not acted on)",
    ),
    "apdu-sent-refused": ("发出: {apdu} (不符合协议)", "sent: {apdu} (out of turn)"),
    "apdu-from": ("收到{who}的{apdu}", "{apdu} from {who}"),
    "shipped-by": ("已由{who}运送", "shipped by {who}"),
    "central-received": (
        "中心模式: 运送即视为收到, 由文献提供馆直接送交读者",
        "received recorded by the centre at shipping (central mode): the supplier delivers"
        " to the reader",
    ),
    "cannot-supply": ("{who}未能提供: {why}", "{who} cannot supply: {why}"),
    "no-route": ("本系统无法连接该图书馆", "no route from this gateway to this library"),
    "cannot-go": ("申请无法发送至该图书馆", "the request cannot go there"),
    "sent-to": ("已发送至{who}", "sent to {who}"),
    "none-could": ("无法满足: 没有文献提供馆能提供", "no library could supply it"),
    "no-holder": ("没有收藏馆, 也未指定文献提供馆", "no library holds it and none was named"),
    "expired-answer": (
        "文献提供馆超过有效期未答复",
        "expired: no answer before the supplier's expiry",
    ),
    "retry-after": ("{date}以后再试", "retry after {date}"),
    # --- what the desk will not do ---------------------------------------------------------
    "sent-already": ("申请 {number} 已发送", "request {number} has been sent already"),
    "no-supplier": (
        "没有文献提供馆: 请指定一个, 或载入列有此文献的馆藏表",
        "no supplier: name one, or load a holdings table that lists this title",
    ),
    "not-cancellable": (
        "申请 {number} 已运送或已结束, 不能取消",
        "request {number} has been shipped or has ended: only a request not yet shipped can"
        " be cancelled",
    ),
    "not-renewable": (
        "申请 {number} 不是借到的文献, 不能续借",
        "request {number} is not a loan received: only a loan received can be renewed",
    ),
    "no-conditions": (
        "申请 {number} 没有等待答复的条件",
        "request {number} has no conditions awaiting an answer",
    ),
    "not-shipped": ("申请 {number} 尚未运送", "request {number} has not been shipped"),
    "not-received": ("申请 {number} 尚未收到", "request {number} has not been received"),
    "a-copy": (
        "申请 {number} 是复制件, 无需归还",
        "request {number} was a copy: there is nothing to return",
    ),
    "transaction-missing": (
        "申请 {number} 的事务 {key} 不存在",
        "the transaction {key} of request {number} is missing",
    ),
    "not-now": ("现在不能进行此操作", "{note}"),
    "answered-already": ("这笔请求已处理", "this request has been answered already"),
    "not-a-date": ("{value} 不是日期 (YYYY-MM-DD)", "{value} is not a date (YYYY-MM-DD)"),
    "not-an-amount": ("{value} 不是以元计的金额", "{value} is not an amount of yuan"),
    "due-past": ("归还日期 {due} 须晚于今天", "the date due {due} must be after today"),
    "over-limit": (
        "总费用 {cost} 元超过读者的费用限制 {limit} 元, 不能照此运送: 请发有条件答复"
        " (费用超过限制), 由读者决定",
        "the fee {cost} is above the reader's limit {limit}: send the conditional answer and"
        " let the reader decide",
    ),
    "not-a-reason": ("原因 {reason} 不是以下之一: {known}", "{reason} is not a reason: {known}"),
    "not-on-loan": ("这笔请求不是借出中的文献", "it is not on loan"),
    "no-renewal": ("没有待答复的续借申请", "no renewal is asked"),
    "not-returned": (
        "这笔请求尚未归还, 不能入库",
        "it has not been returned: it cannot be checked in",
    ),
    "requester-declined": ("请求馆不接受条件", "the requester declined the conditions"),
    "own-staff-only": (
        "只能发送给本馆 ({library}) 的馆际互借员, 不能发送给 {to}",
        "you may send requests only to your own library's ILL staff ({library}), not to {to}",
    ),
    "no-staff-email": (
        "{library}没有馆际互借员的电子信箱",
        "{library} has no ILL staff e-mail address",
    ),
    "supplier-is-self": ("{who} 是本馆", "{who} is this library itself"),
    "unknown-supplier": (
        "{who} 不是已配置的文献提供馆, 请检查代码",
        "{who} is not a library this gateway reaches: check the symbol",
    ),
    "not-held": (
        "馆藏表中 {who} 未收藏此文献, 收藏馆: {holders}",
        "the holdings table does not list {who} for this title; it lists {holders}",
    ),
    "not-a-form": ("表单格式不正确", "not a form post"),
    "form-too-large": ("表单过大", "the form is too large"),
    # --- accounts --------------------------------------------------------------------------
    "choose-member": ("请选择所属成员馆", "choose your library"),
    "no-members": ("{library}没有成员馆", "{library} has no member libraries"),
    "passwords-differ": ("两次输入的密码不一致", "the two passwords differ"),
    "control-characters": ("含有控制字符", "contains control characters"),
    "too-long": ("最多 {limit} 个字符", "at most {limit} characters"),
    "required": ("必填", "required"),
    "not-email": ("电子信箱格式不正确", "not an e-mail address"),
    "link-expired": ("链接已失效或已使用", "the link has expired or was used"),
    "may-not-confirm": ("{staff} 无权确认帐户 {username}", "{staff} may not confirm {username}"),
    "may-not-manage": ("{staff} 无权管理帐户 {username}", "{staff} may not manage {username}"),
    "confirmed-already": ("帐户 {username} 已确认", "account {username} is confirmed already"),
    "rejected-already": ("帐户 {username} 已被拒绝", "account {username} is rejected already"),
    "disabled-already": ("帐户 {username} 已停用", "account {username} is disabled already"),
    "enabled-already": ("帐户 {username} 已启用", "account {username} is enabled already"),
    "link-not-other": ("不是本馆的另一个帐户", "not another account of this library"),
    "link-readers-only": ("只能关联个人用户帐户", "only readers' accounts are linked"),
    "link-refused": ("该帐户不能关联", "that account cannot be linked"),
    "taken": ("用户名 {username} 已被使用", "{username} is taken"),
}


#: The APDUs by the names CALIS staff know them, for the history of a request to supply.
APDU_NAMES: dict[str, tuple[str, str]] = {
    "ILLRequest": ("馆际互借请求", "ILL request"),
    "ForwardNotification": ("转发通知", "forward notification"),
    "Shipped": ("已运送", "shipped"),
    "ILLAnswer": ("答复", "answer"),
    "ConditionalReply": ("对条件的答复", "reply to conditions"),
    "Cancel": ("取消请求", "cancel"),
    "CancelReply": ("取消答复", "cancel reply"),
    "Received": ("已收到", "received"),
    "Recall": ("召回", "recall"),
    "Returned": ("已归还", "returned"),
    "CheckedIn": ("归还入库", "checked in"),
    "Overdue": ("催还", "overdue"),
    "Renew": ("续借请求", "renewal request"),
    "RenewAnswer": ("续借答复", "renewal answer"),
    "Lost": ("丢失", "lost"),
    "Damaged": ("损坏", "damaged"),
    "Message": ("消息", "message"),
    "StatusQuery": ("状态查询", "status query"),
    "StatusOrErrorReport": ("状态或错误报告", "status or error report"),
    "Expired": ("过期", "expired"),
}


def apdu_line(apdu_type: str, received: bool, accepted: bool) -> Said:
    """One APDU of a transaction as a history line: which, and which way it went."""
    zh, en = APDU_NAMES.get(apdu_type, (apdu_type, apdu_type))
    key = ("apdu-received" if received else "apdu-sent") + ("" if accepted else "-refused")
    return say(key, apdu=Said(zh, zh=zh, en=en))


def say(key: str, /, **fields: object) -> Said:
    """The phrase ``key`` with ``fields`` filled in: Chinese, with its English."""
    zh, en = PHRASES[key]
    return said({"zh": zh, "en": en}, "zh", **fields)


def problem(field: str, key: str, /, **fields: object) -> Said:
    """A form's problem with ``field``: ``"<field>: <the phrase>"`` in both languages."""
    text = say(key, **fields)
    return Said(f"{field}: {text}", **{k: f"{field}: {v}" for k, v in text.langs.items()})
