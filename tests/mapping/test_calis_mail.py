"""The gateway's e-mails: readable in Chinese then English, correctly encoded, header-safe."""

from __future__ import annotations

import dataclasses
import email
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.mapping import calis_mail
from isoill.mapping.reader_form import (
    FIELD_LABELS,
    Delivery,
    DocumentType,
    ReaderForm,
    ServiceType,
    Urgency,
    from_request,
)
from isoill.testing.strategies import for_type
from tests.mapping.test_reader_form import reader_forms

AT = datetime(2012, 4, 6, 10, 30, tzinfo=timezone(timedelta(hours=8)))
SENDER = "ill@lib.tsinghua.edu.cn"
STAFF = "ill-staff@lib.tsinghua.edu.cn"
LIBRARY = "清华大学图书馆"

#: The seed's example request (Tsinghua guide, step 3), with a reader who fills more in.
SEED = ReaderForm(
    service=ServiceType.COPY,
    document_type=DocumentType.JOURNAL_ARTICLE,
    title="Interlending & Document Supply",
    volume_issue="32(2)",
    article_title="Licence to Deny? Publisher restrictions on document delivery",
    year="2004",
    pages="94-101",
    issn="0264-1615",
    language="eng",
    delivery=Delivery.EMAIL,
    cost_limit=Decimal(0),
    urgency=Urgency.NORMAL,
    reference="thesis-ch2",
    name="张三",
    address="北京市海淀区\n清华园1号",
    postcode="100084",
    email="illuserzj2@dd.co",
    phone="010-62782137",
    notes="急用",
)


def parsed(message: EmailMessage) -> EmailMessage:
    """The message as a mail reader sees it, from the bytes that would be sent."""
    data = bytes(message)
    for line in data.split(b"\r\n"):
        assert len(line) <= 998  # RFC 5322 line limit
    result = email.message_from_bytes(data, policy=default)
    assert isinstance(result, EmailMessage)
    return result


def body_of(message: EmailMessage) -> str:
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    content = message.get_content()
    assert isinstance(content, str)
    return content


def request_mail(form: ReaderForm = SEED, number: int | None = 73689) -> EmailMessage:
    return calis_mail.request_mail(
        form, number=number, library=LIBRARY, sender=SENDER, recipient=STAFF, at=AT
    )


def notice(outcome: str, **options: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "number": 73689,
        "library": LIBRARY,
        "sender": SENDER,
        "recipient": SEED.email,
        "outcome": outcome,
        "at": AT,
    }
    arguments.update(options)
    return calis_mail.reader_notice(SEED, **arguments)  # type: ignore[arg-type]


# --- the request mail (CALIS e-mail mode) -----------------------------------------------------


def test_the_request_mail_has_utf8_headers_and_reply_to_the_reader() -> None:
    raw = bytes(request_mail())
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head  # the Chinese subject as RFC 2047 encoded words
    message = parsed(request_mail())
    assert message["Subject"] == (
        "读者馆际互借申请 73689 / Interlibrary loan request from a reader 73689: "
        "Licence to Deny? Publisher restrictions on document delivery"
    )
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["From"].addresses[0].display_name == LIBRARY
    assert message["To"] == STAFF
    assert message["Reply-To"].addresses[0].addr_spec == "illuserzj2@dd.co"
    assert message["Reply-To"].addresses[0].display_name == "张三"
    assert message["Date"].datetime == AT
    assert message["Auto-Submitted"] is None


def test_the_request_mail_lists_every_filled_field_with_both_labels() -> None:
    text = body_of(parsed(request_mail()))
    for line in (
        "服务方式 / Service: 复制(非返还) / copy (non-returnable)",
        "文献类型 / Document type: 期刊论文 / journal article",
        "出版物名称 / Publication title: Interlending & Document Supply",
        "文章名称 / Article title: Licence to Deny? Publisher restrictions on document delivery",
        "卷期号 / Volume and issue: 32(2)",
        "出版年 / Year of publication: 2004",
        "页码信息 / Pages: 94-101",
        "ISSN: 0264-1615",
        "语种 / Language: eng",
        "文献传递方式 / Delivery: 电子邮件 / e-mail",
        "费用限制 / Cost limit: 0 元 / CNY 0",
        "急迫程度 / Urgency: 普通 / normal",
        "用户参考号 / Your reference: thesis-ch2",
        "姓名 / Name: 张三",
        "通信地址 / Postal address: 北京市海淀区",
        "    清华园1号",
        "邮政编码 / Postcode: 100084",
        "电子信箱 / E-mail: illuserzj2@dd.co",
        "电话号码 / Phone: 010-62782137",
        "备注 / Notes: 急用",
    ):
        assert line in text.splitlines(), line
    # Empty fields are not listed.
    assert "ISBN" not in text
    assert "传真号码" not in text
    # Chinese first, then English.
    assert text.index("馆际互借员") < text.index("To the interlibrary loan staff")
    assert "73689" in text


def test_the_request_mail_without_a_number_or_a_usable_reply_address() -> None:
    message = parsed(request_mail(dataclasses.replace(SEED, email="not an address"), None))
    assert message["Reply-To"] is None
    assert message["Subject"].startswith(
        "读者馆际互借申请 / Interlibrary loan request from a reader:"
    )


@settings(max_examples=60)
@given(form=reader_forms(date(2000, 1, 1)))
def test_every_filled_field_is_in_the_request_mail(form: ReaderForm) -> None:
    text = body_of(parsed(request_mail(form)))
    lines = text.splitlines()
    for field, (zh, _en) in FIELD_LABELS.items():
        value = getattr(form, field)
        if value in ("", None):
            continue
        assert any(line.startswith(zh) for line in lines), field
        if isinstance(value, str) and not isinstance(value, StrEnum):
            for part in value.split("\n"):
                assert " ".join(part.split()) in " ".join(text.split()), field


# --- reader notices ---------------------------------------------------------------------------


def test_shipped_tells_the_fee_in_yuan_and_how_to_pay() -> None:
    message = parsed(notice("shipped", total_cost=Decimal("12.5")))
    assert (
        message["Subject"] == "馆际互借申请 73689 已运送 / Interlibrary loan request 73689 shipped"
    )
    assert message["To"] == "illuserzj2@dd.co"
    assert message["Auto-Submitted"] == "auto-generated"
    text = body_of(message)
    assert "总费用: 12.50 元" in text
    assert "Total fee: CNY 12.50" in text
    assert "并注明申请号 73689" in text
    assert "quoting request number 73689" in text
    assert "Licence to Deny?" in text
    assert "用户参考号: thesis-ch2" in text
    assert text.index("您好") < text.index("Dear 张三")


def test_an_urgent_request_s_rush_fee_is_named_and_added_to_what_the_reader_pays() -> None:
    text = body_of(parsed(notice("shipped", total_cost=Decimal(60), rush_fee=Decimal(10))))
    assert "总费用: 60.00 元" in text and "加急费: 10.00 元" in text
    assert "应付合计: 70.00 元" in text and "To pay: CNY 70.00" in text
    free = body_of(parsed(notice("shipped", total_cost=Decimal(0), rush_fee=Decimal(10))))
    assert "应付合计: 10.00 元" in free and "请按本馆规定将费用付给" in free
    plain = body_of(parsed(notice("shipped", total_cost=Decimal(60))))
    assert "加急费" not in plain and "应付合计" not in plain
    refused = body_of(parsed(notice("not-supplied", rush_fee=Decimal(10))))
    assert "加急费" not in refused  # nothing shipped, nothing to pay


def test_a_centre_s_reader_is_told_to_pay_their_own_member_library() -> None:
    text = body_of(parsed(notice("shipped", total_cost=Decimal(9), payee="医学图书馆")))
    assert "请按本馆规定将费用付给医学图书馆馆际互借处并注明申请号 73689。" in text
    assert "Please pay the interlibrary loan office of 医学图书馆, quoting" in text
    assert f"付给{LIBRARY}" not in text and text.rstrip().endswith(LIBRARY)  # signed all the same
    assert f"付给{LIBRARY}馆际互借处" in body_of(parsed(notice("shipped", total_cost=Decimal(9))))


def test_not_supplied_lists_every_supplier_s_reason_in_both_languages() -> None:
    reasons = ["CALIS:PKU: unfilled in-use-on-loan", "CALIS:FDU: no answer within 3 days"]
    text = body_of(parsed(notice("not-supplied", reasons=reasons)))
    zh, en = text.split("-" * 60)
    for reason in reasons:
        assert f"    - {reason}" in zh
        assert f"    - {reason}" in en
    assert "无法满足" in zh and "原因:" in zh
    assert "could not be supplied" in en and "Reasons:" in en
    assert "总费用" not in text


def test_staff_hear_of_a_cancel_the_supplier_left_unanswered_in_one_line_headers() -> None:
    form = dataclasses.replace(SEED, name="张三\r\nBcc: victim@example.com")
    message = parsed(
        calis_mail.cancel_unanswered_notice(
            form,
            number=73689,
            supplier="CALIS:PKU",
            within=("3 天", "3 days"),
            library="清华大学图书馆",
            sender="ill@lib.tsinghua.edu.cn",
            recipient="ill-staff@lib.tsinghua.edu.cn",
            at=AT,
        )
    )
    assert (
        message["Subject"] == "申请 73689 的取消未获答复 / No answer to the cancel of request 73689"
    )
    assert message["To"] == "ill-staff@lib.tsinghua.edu.cn" and message["Bcc"] is None
    text = body_of(message)
    assert "读者申请 73689 已向 CALIS:PKU 请求取消, 3 天内未获答复" in text
    assert "within 3 days" in text and "Interlending & Document Supply" in text
    assert "读者: 张三 Bcc: victim@example.com <" in text  # the name kept on one line
    reader = body_of(parsed(notice("cancel-unanswered", reasons=["CALIS:PKU: 3 天内未答复取消"])))
    assert "已请求取消, 但文献提供馆在期限内未答复" in reader and "may still be shipped" in reader


def test_cancelled_and_a_supplier_without_the_reader_s_number() -> None:
    message = parsed(notice("cancelled", number=0, total_cost=Decimal(0)))
    assert message["Subject"] == "馆际互借申请已取消 / Interlibrary loan request cancelled"
    text = body_of(message)
    assert "已取消" in text and "has been cancelled" in text
    assert "总费用: 0.00 元" in text
    assert "注明申请号" not in text


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome 'received' is not one of"):
        notice("received")


def test_a_notice_is_the_same_message_when_decided_twice() -> None:
    assert bytes(notice("shipped", total_cost=Decimal(3))) == bytes(
        notice("shipped", total_cost=Decimal(3))
    )
    assert bytes(notice("shipped", total_cost=Decimal(3))) != bytes(
        notice("shipped", total_cost=Decimal(4))
    )


# --- account notices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confirmed", "subject", "zh", "en"),
    [
        (
            False,
            "馆际互借帐户注册信息已提交 / Interlibrary loan account registration received",
            "管理员核对您填写的信息后会发确认邮件给您",
            "Staff will check the details",
        ),
        (
            True,
            "馆际互借帐户已确认 / Interlibrary loan account confirmed",
            "现在可以登录馆际互借系统",
            "You can now log in",
        ),
    ],
)
def test_account_notices(confirmed: bool, subject: str, zh: str, en: str) -> None:
    message = parsed(
        calis_mail.account_notice(
            name="张三",
            username="illuserzj2",
            library=LIBRARY,
            sender=SENDER,
            recipient="illuserzj2@dd.co",
            confirmed=confirmed,
            at=AT,
        )
    )
    assert message["Subject"] == subject
    text = body_of(message)
    assert zh in text and en in text
    assert text.index(zh) < text.index(en)
    assert text.count("illuserzj2") == 2


# --- header injection -------------------------------------------------------------------------

HOSTILE = "张三\r\nBcc: victim@example.com\nX-Injected: yes"


def _header_names(message: EmailMessage) -> set[str]:
    return {name.lower() for name in message.keys()}  # noqa: SIM118 - headers repeat


def test_a_name_with_line_breaks_adds_no_header() -> None:
    form = dataclasses.replace(SEED, name=HOSTILE, article_title="x\r\nBcc: a@b.cn")
    messages = [
        calis_mail.request_mail(
            form, number=1, library="Lib\r\nX-Injected: 1", sender=SENDER, recipient=STAFF, at=AT
        ),
        calis_mail.reader_notice(
            form,
            number=1,
            library=LIBRARY,
            sender=SENDER,
            recipient=SEED.email,
            outcome="not-supplied",
            reasons=["a\r\nBcc: c@d.cn"],
            at=AT,
        ),
        calis_mail.account_notice(
            name=HOSTILE,
            username="u\r\nBcc: e@f.cn",
            library=LIBRARY,
            sender=SENDER,
            recipient=SEED.email,
            confirmed=True,
            at=AT,
        ),
    ]
    for message in messages:
        raw = bytes(message)
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert not any(
            line.lower().startswith((b"bcc:", b"x-injected:")) for line in head.split(b"\r\n")
        )
        reader_view = parsed(message)
        names = _header_names(reader_view)
        assert "bcc" not in names and "x-injected" not in names
        assert names <= {
            "subject",
            "from",
            "to",
            "reply-to",
            "date",
            "message-id",
            "auto-submitted",
            "content-type",
            "content-transfer-encoding",
            "mime-version",
        }
    # The name and the library survive, each as one line.
    reply_to = parsed(messages[0])["Reply-To"].addresses[0]
    assert reply_to.display_name == "张三 Bcc: victim@example.com X-Injected: yes"
    assert parsed(messages[0])["From"].addresses[0].display_name == "Lib X-Injected: 1"
    assert parsed(messages[0])["Subject"].endswith(": x Bcc: a@b.cn")
    assert "张三 Bcc: victim@example.com X-Injected: yes 您好:" in body_of(parsed(messages[1]))


@pytest.mark.parametrize(
    "recipient", ["a@b.cn\r\nBcc: c@d.cn", "张三 <a@b.cn>", "a@b.cn, c@d.cn", "", "a@-b.cn"]
)
def test_a_recipient_that_is_not_one_plain_address_is_refused(recipient: str) -> None:
    with pytest.raises(ValueError, match="recipient"):
        calis_mail.reader_notice(
            SEED,
            number=1,
            library=LIBRARY,
            sender=SENDER,
            recipient=recipient,
            outcome="shipped",
            at=AT,
        )


@settings(max_examples=100)
@given(request=for_type(isoill.ILLRequest), name=st.text(max_size=40))
def test_any_request_s_form_makes_well_formed_mails(request: isoill.ILLRequest, name: str) -> None:
    form = dataclasses.replace(from_request(request), name=name)
    for message in (
        request_mail(form),
        calis_mail.reader_notice(
            form,
            number=5,
            library=name or LIBRARY,
            sender=SENDER,
            recipient=SEED.email,
            outcome="shipped",
            reasons=[name],
            total_cost=Decimal("1.5"),
            at=AT,
        ),
    ):
        reader_view = parsed(message)
        assert "bcc" not in _header_names(reader_view)
        assert reader_view["To"] is not None
        assert "interlibrary loan" in body_of(reader_view).lower()
