"""A leg's history in the store: appended as rows, one per entry, never rewritten whole; the
leg read back is the one written; a body from before the rows still loads, and moves its
history to rows when next written."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

import isoill
from isoill.gateway.store import Change, Conflict, Store, StoredLeg
from isoill.mapping.record import Record
from tests.gateway.test_store import _leg
from tests.mapping.support import GIF


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.transaction() as cur:
        cur.execute(store.sql(sql))
        return [tuple(row) for row in cur.fetchall()]


def _history_rows(store: Store) -> int:
    return int(_rows(store, "SELECT COUNT(*) FROM leg_history")[0][0])


def _body_size(store: Store) -> int:
    return int(_rows(store, "SELECT LENGTH(body) FROM legs")[0][0])


def _step(leg: StoredLeg, n: int, line: str = "") -> StoredLeg:
    """The leg one step on: one more history entry (a copy of the first, later), and a
    record history line when ``line`` is given."""
    first = leg.transaction.history[0]
    entry = replace(first, at=first.at + timedelta(minutes=n))
    txn = replace(leg.transaction, history=(*leg.transaction.history, entry))
    record = leg.record.with_history(line) if leg.record is not None and line else leg.record
    return replace(leg, transaction=txn, record=record)


def _load(store: Store, leg: StoredLeg) -> StoredLeg:
    loaded = store.load(leg.network, leg.key)
    assert loaded is not None
    return loaded


def test_each_step_appends_its_entry_and_the_body_stays_the_same_size(store: Store) -> None:
    leg = _leg()
    store.commit(Change((leg,)), time.time())
    assert _history_rows(store) == len(leg.transaction.history) == 1
    sizes = [_body_size(store)]
    for n in range(1, 101):
        before = _history_rows(store)
        leg = _step(_load(store, leg), n)
        store.commit(Change((leg,)), time.time())
        assert _history_rows(store) == before + 1
        sizes.append(_body_size(store))
        assert _load(store, leg) == replace(leg, version=leg.version + 1)
    # Only the count of rows in the body grows, by a digit at 10 and at 100.
    assert max(sizes) - min(sizes) <= 2
    assert len(_load(store, leg).transaction.history) == 101


def test_record_history_lines_are_rows_too(store: Store) -> None:
    record = Record.from_json({**GIF, "ID": "ILL0001"}).with_history("ordered")
    leg = _leg("A/1/x", record)
    store.commit(Change((leg,)), time.time())
    assert _history_rows(store) == 2  # the machine's entry and the record's line
    leg = _step(_load(store, leg), 1, "shipped")
    store.commit(Change((leg,)), time.time())
    assert _history_rows(store) == 4
    found = store.find_record("ILL0001")
    assert found == replace(leg, version=2)
    assert found is not None and found.record is not None
    assert found.record.HISTORY == ("ordered", "shipped")
    assert [(row.key, row) for row in store.search("ILL0001")] == [("A/1/x", found)]
    assert store.legs_of("east") == [found]
    assert "HISTORY" not in json.loads(_rows(store, "SELECT body FROM legs")[0][0])["record"]


def test_a_stale_leg_conflicts_and_appends_nothing(store: Store) -> None:
    store.commit(Change((_leg(),)), time.time())
    loaded = _load(store, _leg())
    store.commit(Change((_step(loaded, 1),)), time.time())
    with pytest.raises(Conflict):  # written from the version loaded before that step
        store.commit(Change((_step(_step(loaded, 2), 3),)), time.time())
    assert _history_rows(store) == 2
    assert _load(store, _leg()) == replace(_step(loaded, 1), version=2)


def test_a_leg_made_anew_with_a_version_writes_its_history_again(store: Store) -> None:
    store.commit(Change((_leg(),)), time.time())
    # Not loaded: which rows the store has is unknown, so they are all written again.
    made = _step(replace(_leg(), version=1), 1)
    store.commit(Change((made,)), time.time())
    assert _history_rows(store) == 2
    assert _load(store, made) == replace(made, version=2)


def test_a_body_from_before_the_rows_loads_and_moves_its_history_on_writing(
    store: Store,
) -> None:
    record = Record.from_json({**GIF, "ID": "ILL0001"}).with_history("ordered")
    leg = _step(_leg("A/1/x", record), 1)
    store.commit(Change((leg,)), time.time())
    # The body as the store wrote it before history rows: all of it inline, and no rows.
    old = {"transaction": leg.transaction.to_json(), "record": record.to_json()}
    with store.transaction() as cur:
        cur.execute("DELETE FROM leg_history")
        cur.execute(store.sql("UPDATE legs SET body = ?"), (json.dumps(old),))
    loaded = _load(store, leg)
    assert loaded == replace(leg, version=1)
    assert store.find_record("ILL0001") == loaded
    assert store.legs_of("east") == [loaded]
    stepped = _step(loaded, 2, "shipped")
    store.commit(Change((stepped,)), time.time())
    assert _history_rows(store) == 5  # three entries and two lines, all as rows now
    body = json.loads(_rows(store, "SELECT body FROM legs")[0][0])
    assert "history" not in body["transaction"] and body["history"] == 5
    assert _load(store, leg) == replace(stepped, version=2)


def _history_bodies(store: Store) -> list[dict[str, Any]]:
    return [json.loads(row[0]) for row in _rows(store, "SELECT body FROM leg_history ORDER BY seq")]


def test_a_history_row_keeps_its_apdu_as_ber(store: Store) -> None:
    leg = _step(_leg(), 1)
    store.commit(Change((leg,)), time.time())
    rows = _history_bodies(store)
    assert len(rows) == 2 and all("apdu" not in row for row in rows)
    for row, entry in zip(rows, leg.transaction.history, strict=True):
        assert base64.b64decode(row["ber"]) == isoill.encode(entry.apdu, tcp_safe=False)
    assert _load(store, leg) == replace(leg, version=1)


def test_a_history_row_of_the_json_form_still_loads(store: Store) -> None:
    """Rows written before the BER form hold the APDU's JSON form: they read as before."""
    leg = _step(_leg(), 1)
    store.commit(Change((leg,)), time.time())
    with store.transaction() as cur:
        for seq, entry in enumerate(leg.transaction.history):
            cur.execute(
                store.sql("UPDATE leg_history SET body = ? WHERE seq = ?"),
                (json.dumps(entry.to_json()), seq),
            )
    assert all("apdu" in row and "ber" not in row for row in _history_bodies(store))
    assert _load(store, leg) == replace(leg, version=1)


def test_an_apdu_the_codec_cannot_write_keeps_its_json_form(store: Store) -> None:
    """A value read leniently (here an ISSN of nine characters) has no BER of its own: its
    row keeps the JSON form, and the leg reads back the same."""
    leg = _leg()
    first = leg.transaction.history[0]
    odd = replace(first.apdu, item_id=isoill.ItemId(title="T", issn="0264-1615"))
    with pytest.raises(isoill.EncodeError):
        isoill.encode(odd)
    leg = replace(leg, transaction=replace(leg.transaction, history=(replace(first, apdu=odd),)))
    store.commit(Change((leg,)), time.time())
    (row,) = _history_bodies(store)
    assert "ber" not in row and row["apdu"]["ill-request"]["item-id"]["iSSN"] == "0264-1615"
    assert _load(store, leg) == replace(leg, version=1)


def test_a_history_row_whose_ber_is_damaged_is_refused(store: Store) -> None:
    """A row the store cannot read back is an error, never a leg with a different history."""
    store.commit(Change((_leg(),)), time.time())
    with store.transaction() as cur:
        cur.execute(store.sql("UPDATE leg_history SET body = ?"), ('{"ber": "YQMw"}',))
    with pytest.raises(isoill.DecodeError):
        store.load("east", _leg().key)
