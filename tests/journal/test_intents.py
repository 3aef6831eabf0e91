"""The intent log (openclaw/journal/intents.py) and the journal's send path through it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.aio import run
from support.orders import make_order

from openclaw.journal import IntentLog, IntentLogError, IntentLogFull, Journal
from openclaw.journal.intents import MAX_LEGS, RECORD_SIZE
from openclaw.model.errors import DuplicateClientIdError
from openclaw.model.orders import OrderStatus

FIELDS = ("client_id", "venue", "symbol", "side", "order_type", "qty", "price",
          "opportunity_id", "leg", "created_ns")


def _same(a: object, b: object) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in FIELDS)


def test_records_round_trip_release_and_wrap(tmp_path: Path) -> None:
    path = tmp_path / "j-intents"
    log, found = IntentLog.open(path, slots=4)
    assert found == [] and path.stat().st_size == RECORD_SIZE * 5
    lists = [[make_order(), make_order(price=None, leg=1)], [make_order(qty="0.0001")]]
    slots = [log.append(x) for x in lists]
    log.release(slots[0])
    log.close()
    log, found = IntentLog.open(path, slots=99)          # the file keeps its slot count
    assert log.slots == 4
    assert [r.slot for r in found] == [slots[1]] and found[0].seq == 2
    assert _same(found[0].orders[0], lists[1][0])
    assert found[0].orders[0].status is OrderStatus.NEW
    for r in found:
        log.release(r.slot)
    # wraps around over released slots; a LIVE slot at the head stops it (nothing written)
    for _ in range(4):
        log.append([make_order()])
    with pytest.raises(IntentLogFull):
        log.append([make_order()])
    log.close()
    log, found = IntentLog.open(path)
    assert len(found) == 4 and [r.seq for r in found] == [3, 4, 5, 6]
    log.close()


def test_too_large_and_torn_records_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "j-intents"
    log, _ = IntentLog.open(path, slots=4)
    with pytest.raises(IntentLogError):
        log.append([make_order(leg=k) for k in range(MAX_LEGS + 1)])
    with pytest.raises(IntentLogError):
        log.append([make_order(venue="v" * 17)])
    slot = log.append([make_order(), make_order()])
    log.close()
    with path.open("r+b") as f:        # a record cut short: its CRC no longer matches
        at = RECORD_SIZE * (1 + slot) + 32 + 176 + 5
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 0xFF]))     # always a different byte (a fixed one could match)
    log, found = IntentLog.open(path)
    assert found == [] and log.torn == 1
    log.close()


def test_send_path_through_the_intent_log(tmp_path: Path) -> None:
    async def body() -> None:
        j = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL", intent_log=True)
        try:
            legs = [make_order(leg=k) for k in range(3)]
            assert await j.prepare_ids(legs[0].client_id)
            fut = j.record_new_batch(legs)
            assert fut.done() and fut.exception() is None      # durable: send now
            ilog = j.intent_log
            assert ilog is not None and ilog.live_count == 1
            for o in legs:                 # events right after: ordered after the rows
                j.record_event(o, o.mark_sent())
            got = await j.order(legs[2].client_id)
            assert got is not None and got.status is OrderStatus.SENT
            assert ilog.live_count == 0                         # released: SQLite holds it
            st = j.stats()
            assert st.intent_writes == 1 and st.intent_fallbacks == 0
            # a client id journaled before is refused before anything is written
            dup = make_order()
            dup.client_id = legs[1].client_id
            again = j.record_new_batch([make_order(), dup])
            with pytest.raises(DuplicateClientIdError):
                again.result()
            assert j.stats().intent_writes == 1
        finally:
            await j.close()

    run(body)


def test_ids_of_an_earlier_session_are_checked_and_full_log_falls_back(tmp_path: Path) -> None:
    async def body() -> None:
        path = tmp_path / "j.sqlite"
        j = await Journal.open(path, synchronous="NORMAL")         # no intent log
        old = make_order()
        await j.record_new_batch([old])
        await j.close()
        j = await Journal.open(path, synchronous="NORMAL", intent_log=True, intent_slots=2)
        try:
            await j.prepare_ids(old.client_id)
            fut = j.record_new_batch([old])         # in SQLite only: still refused up front
            with pytest.raises(DuplicateClientIdError):
                fut.result()
            ilog = j.intent_log
            assert ilog is not None
            ilog.release = lambda slot: None  # type: ignore[method-assign]  # SQLite "slow"
            for _ in range(3):
                assert j.record_new_batch([make_order()]).done()
            st = j.stats()
            assert st.intent_writes == 2 and st.intent_fallbacks == 1   # full: SQLite-first
            n = await j.orders_by_prefix(old.client_id[:11])
            assert len(n) == 4
        finally:
            await j.close()

    run(body)


def test_open_restores_legs_sqlite_lacks(tmp_path: Path) -> None:
    """A record written but whose rows never reached SQLite (the process died): restored as
    NEW orders (possibly sent); legs SQLite holds are left alone; the record is released."""

    async def body() -> None:
        path = tmp_path / "j.sqlite"
        j = await Journal.open(path, synchronous="NORMAL")
        known = make_order()
        await j.record_new_batch([known])
        await j.close()
        lost = [make_order(leg=k) for k in range(2)]
        log, _ = IntentLog.open(f"{path}-intents")
        log.append([known, *lost])
        log.close()
        j = await Journal.open(path, synchronous="FULL")   # read whatever the option says
        try:
            assert j.stats().intents_restored == 2 and j.intent_log is None
            opened = await j.open_orders()
            assert sorted(o.client_id for o in opened) == sorted(
                o.client_id for o in [known, *lost])
            back = await j.order(lost[1].client_id)
            assert back is not None and _same(back, lost[1])
        finally:
            await j.close()
        log, found = IntentLog.open(f"{path}-intents")
        assert found == []
        log.close()
        con = sqlite3.connect(path)
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 3

    run(body)
