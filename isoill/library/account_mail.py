"""The mails of account management: the one-time link that resets a forgotten password,
and the notice that tells a library's ILL staff someone registered and waits for them.

They are in Chinese, as the library's readers and staff read it, with the shape and header
rules of the CALIS notices (:mod:`isoill.mapping.calis_mail`).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from isoill.mapping.calis_mail import notice, one_line


def reset_notice(
    *,
    name: str,
    username: str,
    library: str,
    link: str,
    minutes: int,
    sender: str,
    recipient: str,
    at: datetime,
) -> EmailMessage:
    """The link that lets ``username`` choose a new password, good once for ``minutes``."""
    library, name, username = one_line(library), one_line(name), one_line(username)
    zh = [
        f"{name} 您好:" if name else "您好:",
        "",
        f"有人为您在{library}馆际互借系统的帐户 (用户名 {username}) 申请了重设密码。",
        f"请在{minutes}分钟内打开以下链接设置新密码 (链接只能使用一次):",
        link,
        "如果不是您本人申请, 请忽略本邮件, 您的密码不会改变。",
    ]
    subject = "馆际互借帐户重设密码"
    body = [*zh, "", library]
    return notice(subject, library, sender, recipient, at, body)


def registered_notice(
    *,
    username: str,
    name: str,
    email: str,
    member: str,
    library: str,
    sender: str,
    recipient: str,
    at: datetime,
) -> EmailMessage:
    """Tells a library's ILL staff that ``username`` registered and waits for them to check
    and confirm the account (管理员核对您填写的信息后...)."""
    library, name, username = one_line(library), one_line(name), one_line(username)
    who = f"{username} ({name}, {one_line(email)}{', ' + member if member else ''})"
    body = [f"{library}馆际互借系统有新用户注册, 请核对信息后确认: {who}"]
    subject = f"新用户注册待确认: {username}"
    return notice(subject, library, sender, recipient, at, body)


def rejected_notice(
    *, name: str, username: str, library: str, sender: str, recipient: str, at: datetime
) -> EmailMessage:
    """Tells a reader that staff could not confirm the registration of ``username``."""
    library, name, username = one_line(library), one_line(name), one_line(username)
    body = [
        f"{name} 您好:" if name else "您好:",
        "",
        f"您在{library}馆际互借系统注册的帐户 (用户名 {username}) 未能通过审核。"
        "如有疑问, 请与本馆馆际互借处联系。",
        "",
        library,
    ]
    subject = "馆际互借帐户未通过审核"
    return notice(subject, library, sender, recipient, at, body)
