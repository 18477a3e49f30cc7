"""帮助 and 关于, ``/reader/help``, ``/reader/about``, ``/staff/help`` and ``/staff/about``:
what the CALIS guide (关于馆际互借服务) and the Tsinghua reader gateway's guide tell readers
and ILL staff, said for these pages. Anyone may read them, logged in or not."""

from __future__ import annotations

from twisted.web.server import Request
from twisted.web.template import Flattenable, tags

from isoill.library.accounts import Account
from isoill.library.pages_common import Area, Page, Words, html_page

#: Each section: its heading and its paragraphs, in Chinese and English.
Section = tuple[tuple[str, str], tuple[tuple[str, str], ...]]

READER_HELP: tuple[Section, ...] = (
    (
        ("注册新用户", "Registering"),
        (
            (
                "访问本馆的馆际互借网关系统, 点击“注册新用户”, 填写个人信息, *号标注的为必填项目。"
                "系统提示“帐户注册信息提交成功”,"
                " 随后在您注册的邮箱中将收到一封有关注册信息的邮件。",
                "On your library's reader gateway, choose Register and fill in your details"
                " (those marked * are required). An e-mail confirms the registration.",
            ),
            (
                "管理员核对您填写的信息后, 会发确认邮件给您, 您注册的帐户就可以登录馆际互借系统,"
                " 提交馆际互借申请了。",
                "Once the ILL staff have checked your details they e-mail you, and the account"
                " logs in.",
            ),
        ),
    ),
    (
        ("申请管理", "Requests"),
        (
            (
                "在申请管理中点击“提交申请”, 认真填写文献信息、馆际互借信息和用户信息,"
                " 在用户信息栏中"
                "留下您的姓名及通讯地址、电话和email信箱, 以方便联系。确认无误后, 提交申请。",
                "Submit a request: fill in the document, the interlibrary loan details and your"
                " own (name, address, phone, e-mail) so the library can reach you.",
            ),
            (
                "在“申请列表”里可以看到提交的申请及其申请号, 在此列表里可以取消尚未处理的申请。",
                "My requests lists them with their numbers; one nobody has acted on yet can be"
                " cancelled there.",
            ),
            (
                "收到可以提供的email通知后, 请将申请费用付给本馆馆际互借处"
                " (并注明申请单号及申请人信息)。",
                "When the mail says the document can be supplied, pay your library's ILL office,"
                " quoting the request number and your name.",
            ),
            (
                "也可以通过“Email方式发送给本馆馆际互借员”: 申请以邮件发到本馆馆际互借员的信箱,"
                " 由馆际互借员通过各种途径得到全文, 再发给读者。",
                "Or e-mail the request to your library's ILL staff, who obtain the document by"
                " whatever way they can and pass it on.",
            ),
        ),
    ),
    (
        ("个人管理与帐户管理", "Your account"),
        (
            (
                "在“个人管理”中可以修改个人信息和密码; 忘记密码时, 在登录页面点击“忘记密码”,"
                " 重设密码的链接将发送到您注册的电子信箱。",
                "My account edits your details and password; if you forget the password, the"
                " login page mails a link to set a new one.",
            ),
            (
                "如果您原来在馆际互借系统中有合法用户, 请选择“关联原有帐户”, 输入原有帐户的用户名和"
                "密码, 确认帐户信息后点击“确定”, 这样可以继续享有该用户的所有权利; 原有帐户不能继续"
                "登录系统, 但可以通过当前帐户查询其申请记录。",
                "Had an account before? Link an old account: give its user name and password,"
                " check its details and press OK. It logs in no more; its requests show here.",
            ),
        ),
    ),
)

STAFF_HELP: tuple[Section, ...] = (
    (
        ("帐户管理", "Accounts"),
        (
            (
                "读者自行登录网关进行用户注册,"
                " 由馆际互借员核对信息 (含证件名称、证件号码) 后确认或拒绝;"
                " 有新用户注册时系统发邮件通知馆际互借员。帐户可以停用和重新启用。",
                "Readers register themselves; ILL staff check the details (with the ID document)"
                " and confirm or reject them, and are mailed when someone registers. Accounts"
                " can be disabled and enabled again.",
            ),
        ),
    ),
    (
        ("事务处理", "Requests"),
        (
            (
                "分布式模式: 馆际互借员将读者申请发送到文献提供馆, 文献由文献提供馆发给请求馆的馆际"
                "互借员, 再由请求馆的馆际互借员发送给读者。",
                "Distributed mode: staff send readers' requests on; documents come to the"
                " library's ILL staff, who pass them to the reader.",
            ),
            (
                "中心模式: 请求提交到馆际互借中心, 由系统根据馆藏自动发送到文献提供馆,"
                " 文献物流由文献"
                "提供馆直接传递给读者。",
                "Central mode: requests go to the centre, which sends them on by holdings; the"
                " supplier ships straight to the reader.",
            ),
            (
                "应答馆查询“待处理外馆请求”: 可以满足则点击“运送”并核算总费用; 无法满足则说明原因,"
                " 系统自动发送Email通知读者。",
                "A supplier sees the requests from other libraries: Ship, with the total cost, or"
                " Cannot supply, with the reason, which the reader is mailed.",
            ),
        ),
    ),
)

ABOUT: tuple[Section, ...] = (
    (
        ("关于馆际互借服务", "About interlibrary loan"),
        (
            (
                "本系统是图书馆的馆际互借网关: 读者通过用户名密码登录提交馆际互借申请,"
                " 或通过Email方式"
                "发送给本馆馆际互借员; 图书馆之间按ISO 10161馆际互借协议交换请求和应答。",
                "This is the library's interlibrary loan gateway: readers log in to send"
                " requests, or e-mail them to their library's ILL staff; libraries exchange"
                " requests and answers by the ISO 10161 interlibrary loan protocol.",
            ),
            (
                "Email模式、分布式模式、中心模式三种模式由各图书馆根据服务状况自行选择。",
                "Each library chooses how it works: e-mail, distributed or central mode.",
            ),
        ),
    ),
)


def _sections(words: Words, sections: tuple[Section, ...]) -> list[Flattenable]:
    out: list[Flattenable] = []
    for heading, paragraphs in sections:
        out.append(tags.h2(words.pick(heading)))
        out += [tags.p(words.pick(p)) for p in paragraphs]
    return out


def mount_help(area: Area) -> None:
    """``help`` and ``about`` under the area."""
    help_text = READER_HELP if area.area_name == "reader" else STAFF_HELP

    def page(key: str, sections: tuple[Section, ...]) -> Page:
        def show(request: Request, words: Words, who: Account | None) -> bytes:
            library = area._library(who.library) if who else area._default_library(request)
            body = _sections(words, sections)
            return html_page(
                request, words, area.area_name, words(key), body, who=who, library=library
            )

        return Page(area, public_get=show)

    area.putChild(b"help", page("help", help_text))
    area.putChild(b"about", page("about", ABOUT))
