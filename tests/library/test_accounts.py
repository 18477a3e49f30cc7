"""Accounts without a web page: password hashes, registration forms, who confirms whom, and
accounts and sessions in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill.library  # noqa: F401  (the library kind: its sessions table)
from isoill.gateway.logins import AccountError, hash_password, verify_password
from isoill.gateway.store import Change, Conflict, Store
from isoill.library.accounts import (
    Account,
    AccountRole,
    Accounts,
    Sessions,
    can_confirm,
    confirm,
    disable,
    link_accounts,
    may_log_in,
    new_reset,
    new_session,
    read_new_password,
    read_profile,
    read_registration,
    registration_role,
    reject,
    sees,
    session_key,
    staff_account,
    use_reset,
)
from isoill.library.settings import Library, Member

AT = datetime(2026, 12, 2, 9, 0)
DISTRIBUTED = Library("thu", symbol="CALIS:THU")
CENTRAL = Library(
    "centre",
    symbol="CALIS:CENTRE",
    mode="central",
    members=(Member("CALIS:M1"), Member("CALIS:M2")),
)
GROUP = replace(CENTRAL, name="group", accounts="group")

REGISTRATION = {
    "username": "zhangsan",
    "password": "reader-pass-1",
    "password2": "reader-pass-1",
    "name": "张三",
    "email": "zhangsan@example.edu.cn",
    "phone": "010-62780000",
}


@settings(max_examples=8)
@given(st.text(min_size=0, max_size=40))
def test_a_hash_verifies_its_password_and_nothing_else(password: str) -> None:
    encoded = hash_password(password)
    assert encoded.startswith("scrypt$32768$8$1$")
    assert verify_password(password, encoded)
    assert not verify_password(password + "x", encoded)


def test_hashes_are_salted_and_unreadable_ones_never_verify() -> None:
    one, two = hash_password("same-password"), hash_password("same-password")
    assert one != two and "same-password" not in one
    assert verify_password("same-password", two)
    for broken in (
        "",
        "plain",
        "md5$x$y",
        one.replace("scrypt", "bcrypt"),
        one[:-8],
        "scrypt$1$2$3$!!$!!",
    ):
        assert not verify_password("same-password", broken)


def test_registration_reports_every_problem_at_once() -> None:
    with pytest.raises(AccountError) as refused:
        read_registration(
            DISTRIBUTED,
            {
                "username": "x",
                "password": "short",
                "password2": "",
                "email": "nope",
                "name": "a\x07b",
            },
        )
    fields = {p.split(":")[0] for p in refused.value.reasons}
    assert fields == {"username", "password", "password2", "email", "name"}
    with pytest.raises(AccountError, match="password: must not be the user name"):
        read_registration(
            DISTRIBUTED, {**REGISTRATION, "password": "zhangsan", "password2": "zhangsan"}
        )
    account, password = read_registration(DISTRIBUTED, REGISTRATION)
    assert password == "reader-pass-1" and account.password == ""
    assert account.role is AccountRole.READER and not account.confirmed and account.member == ""
    with pytest.raises(AccountError, match="member"):
        read_registration(DISTRIBUTED, {**REGISTRATION, "member": "CALIS:M1"})


def test_central_mode_needs_a_member_and_group_mode_makes_group_accounts() -> None:
    with pytest.raises(AccountError, match="member"):
        read_registration(CENTRAL, REGISTRATION)
    with pytest.raises(AccountError, match="member"):
        read_registration(CENTRAL, {**REGISTRATION, "member": "CALIS:ELSEWHERE"})
    account, _ = read_registration(CENTRAL, {**REGISTRATION, "member": "calis:m1"})
    assert account.member == "CALIS:M1" and account.role is AccountRole.READER
    assert registration_role(GROUP) is AccountRole.GROUP
    group, _ = read_registration(GROUP, {**REGISTRATION, "member": "CALIS:M2"})
    assert group.role is AccountRole.GROUP


def _staff(network: Library, member: str = "") -> Account:
    return staff_account(network, f"staff{member[-2:]}", member, "hash", AT)


@pytest.mark.parametrize(
    ("who", "account", "allowed"),
    [
        ("centre", ("reader", "CALIS:M1"), True),
        ("centre", ("group", "CALIS:M1"), True),
        ("m1", ("reader", "CALIS:M1"), True),
        ("m1", ("reader", "CALIS:M2"), False),
        ("m1", ("group", "CALIS:M1"), False),
        ("m1", ("staff", ""), False),
        ("other-library", ("reader", "CALIS:M1"), False),
    ],
)
def test_who_confirms_whom(who: str, account: tuple[str, str], allowed: bool) -> None:
    staff = {
        "centre": _staff(CENTRAL),
        "m1": _staff(CENTRAL, "CALIS:M1"),
        "other-library": _staff(DISTRIBUTED),
    }[who]
    target = Account("centre", "someone", AccountRole(account[0]), "hash", member=account[1])
    assert can_confirm(staff, target) is allowed
    if allowed:
        done = confirm(staff, target, AT)
        assert done.confirmed and done.confirmed_by == staff.username
        with pytest.raises(AccountError, match="已确认"):
            confirm(staff, done, AT)
    else:
        with pytest.raises(AccountError):
            confirm(staff, target, AT)


def test_member_staff_see_only_their_own_readers() -> None:
    m1 = _staff(CENTRAL, "CALIS:M1")
    mine = Account("centre", "a", AccountRole.READER, "h", member="CALIS:M1")
    theirs = Account("centre", "b", AccountRole.READER, "h", member="CALIS:M2")
    assert sees(m1, mine) and not sees(m1, theirs) and not sees(m1, None)
    assert sees(_staff(CENTRAL), theirs) and sees(_staff(CENTRAL), None)
    with pytest.raises(AccountError, match="member"):
        staff_account(CENTRAL, "staff", "CALIS:NOT-A-MEMBER", "h", AT)


# --- in the store ---------------------------------------------------------------------------------


def test_accounts_are_kept_versioned_and_unique(store: Store) -> None:
    account, _ = read_registration(DISTRIBUTED, REGISTRATION)
    account = replace(account, password=hash_password("reader-pass-1"), created=AT)
    accounts = Accounts(store)
    store.commit(Change(rows=(account.row(),)), time.time())
    with pytest.raises(Conflict):  # the same name again
        store.commit(Change(rows=(account.row(),)), time.time())
    loaded = accounts.get("thu", "zhangsan")
    assert loaded is not None and loaded.version == 1
    assert replace(loaded, version=0) == account
    assert accounts.of("thu", confirmed=False) == [loaded]
    assert accounts.of("thu", confirmed=True) == []
    assert accounts.get("elsewhere", "zhangsan") is None
    confirmed = confirm(_staff(DISTRIBUTED), loaded, AT)
    store.commit(Change(rows=(confirmed.row(),)), time.time())
    with pytest.raises(Conflict):  # a stale copy does not overwrite the confirmation
        store.commit(Change(rows=(replace(loaded, name="someone else").row(),)), time.time())
    now = accounts.get("thu", "zhangsan")
    assert now is not None and now.confirmed and now.name == "张三" and now.version == 2
    assert [a.username for a in accounts.of("thu", confirmed=True)] == ["zhangsan"]


def test_sessions_expire_and_end(store: Store) -> None:
    sessions = Sessions(store)
    account = _staff(DISTRIBUTED)
    now = time.time()
    token, session = new_session(account, now)
    assert session.key == session_key(token) and token not in session.key
    sessions.open(session, now)
    assert sessions.get(session_key(token), now) == session
    assert sessions.get(session_key(token), session.expires + 1) is None
    assert sessions.get(session_key("made-up"), now) is None
    # An expired session is swept when a new one opens.
    other_token, other = new_session(account, session.expires + 10)
    sessions.open(other, session.expires + 10)
    assert sessions.get(session.key, now) is None
    assert sessions.get(other.key, session.expires + 10) == other
    sessions.close(other.key)
    assert sessions.get(other.key, session.expires + 10) is None
    assert other_token != token


def test_a_reset_token_works_once_until_it_expires_and_only_its_hash_is_kept() -> None:
    account, _ = read_registration(DISTRIBUTED, REGISTRATION)
    token, waiting = new_reset(account, 1000.0)
    assert token not in waiting.reset and waiting.reset == session_key(token)
    assert "reset" in waiting.to_json() and token not in str(waiting.to_json())
    with pytest.raises(AccountError, match="token"):
        use_reset(waiting, token + "x", "new-hash", 1001.0)
    with pytest.raises(AccountError, match="token"):
        use_reset(waiting, token, "new-hash", waiting.reset_until)
    done = use_reset(waiting, token, "new-hash", waiting.reset_until - 1)
    assert done.password == "new-hash" and done.reset == ""
    with pytest.raises(AccountError, match="token"):
        use_reset(done, token, "other-hash", 1001.0)
    # A second link replaces the first.
    first, _ = new_reset(account, 1000.0)
    _, second = new_reset(account, 1000.0)
    with pytest.raises(AccountError):
        use_reset(second, first, "hash", 1001.0)
    stored = Account.from_json(account.library, account.username, waiting.to_json(), 1)
    assert stored.reset == waiting.reset and stored.reset_until == waiting.reset_until


def test_profiles_and_new_passwords_are_checked_like_registrations() -> None:
    account, _ = read_registration(DISTRIBUTED, REGISTRATION)
    with pytest.raises(AccountError) as refused:
        read_profile(account, {"name": "", "email": "x", "phone": "1" * 51})
    assert {p.split(":")[0] for p in refused.value.reasons} == {"name", "email", "phone"}
    changed = read_profile(
        account, {"name": "张三丰", "email": "z@example.org", "id_type": "借书证"}
    )
    assert (changed.name, changed.email, changed.id_type, changed.phone) == (
        "张三丰",
        "z@example.org",
        "借书证",
        "",
    )
    assert changed.username == account.username and changed.role is account.role
    with pytest.raises(AccountError, match="password2"):
        read_new_password(account, {"password": "long-enough-1", "password2": "other"})
    with pytest.raises(AccountError, match="password"):
        read_new_password(account, {"password": "zhangsan", "password2": "zhangsan"})
    assert read_new_password(account, {"password": "new-pass-12", "password2": "new-pass-12"})


def test_staff_reject_registrations_and_disable_only_the_accounts_they_confirm() -> None:
    waiting = Account("centre", "someone", AccountRole.READER, "hash", member="CALIS:M1")
    m1, m2 = _staff(CENTRAL, "CALIS:M1"), _staff(CENTRAL, "CALIS:M2")
    with pytest.raises(AccountError, match="无权管理"):
        reject(m2, waiting)
    rejected = reject(m1, waiting)
    assert rejected.disabled and not rejected.confirmed
    assert not may_log_in({AccountRole.READER})(rejected)
    confirmed = confirm(m1, waiting, AT)
    with pytest.raises(AccountError, match="已确认"):
        reject(m1, confirmed)
    off = disable(m1, confirmed)
    assert off.disabled and not may_log_in({AccountRole.READER})(off)
    with pytest.raises(AccountError, match="已停用"):
        disable(m1, off)
    with pytest.raises(AccountError, match="无权管理"):
        disable(m2, off, disabled=False)
    assert may_log_in({AccountRole.READER})(disable(m1, off, disabled=False))
    with pytest.raises(AccountError, match="无权管理"):
        disable(_staff(CENTRAL), m1)


def test_linking_makes_two_reader_accounts_one() -> None:
    kept = Account("thu", "new", AccountRole.READER, "h", confirmed=True, email="n@x.org")
    old = Account(
        "thu", "old", AccountRole.READER, "h", confirmed=True, email="o@x.org", id_number="3245"
    )
    joined, gone = link_accounts(kept, old)
    assert joined.linked == ("old",) and joined.email == "n@x.org" and joined.id_number == "3245"
    assert gone.linked_into == "new" and not may_log_in({AccountRole.READER})(gone)
    with pytest.raises(AccountError):
        link_accounts(joined, gone)  # linked already
    with pytest.raises(AccountError):
        link_accounts(kept, kept)
    with pytest.raises(AccountError):
        link_accounts(kept, replace(old, library="other"))
    with pytest.raises(AccountError):
        link_accounts(kept, replace(old, role=AccountRole.STAFF))
    with pytest.raises(AccountError):
        link_accounts(kept, replace(old, confirmed=False))
    stored = Account.from_json("thu", "new", joined.to_json(), 1)
    assert stored.linked == ("old",)
