"""The send path: ``record_new_batch`` / ``record_new_now`` (inline with NORMAL, one writer-thread
call with FULL), its ordering with the writer thread, SQLITE_BUSY handling, and FULL's fsync."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from support.aio import deadline
from support.orders import make_order
from support.paths import ROOT

from openclaw.execution import Order
from openclaw.journal import Journal, JournalBusyError
from openclaw.model.errors import DuplicateClientIdError, JournalClosedError, JournalError

run = deadline(20.0)


def _rows(path: Path) -> set[str]:
    """Client ids in the file, read through a separate connection (what is on disk)."""
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT client_id FROM orders")}
    finally:
        conn.close()


def test_inline_batch_is_committed_when_the_call_returns(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"

    async def body() -> None:
        async with await Journal.open(path, synchronous="NORMAL") as j:
            assert j.inline
            legs = [make_order(leg=k) for k in range(3)]
            fut = j.record_new_batch(legs)
            assert fut.done() and fut.result() is None
            # no await since the call: another connection already sees all three legs
            assert {o.client_id for o in legs} <= _rows(path)
            one = make_order()
            j.record_new_now(one)
            assert one.client_id in _rows(path)
            st = j.stats()
            assert st.inline_writes == 2 and st.inline_busy == 0 and st.inline_max_us > 0
            # the rest of the API (the writer thread's connection) sees them too
            for o in legs:
                await j.record_event(o, o.mark_sent(), o.ack("V" + o.client_id))
            assert {o.client_id for o in await j.open_orders()} == {
                o.client_id for o in [*legs, one]
            }
            assert [e.kind.value for e in await j.events(legs[1].client_id)] == ["sent", "ack"]
            assert await j.consistency_check() == []

    run(body)


def test_full_batch_goes_through_the_writer_in_one_commit(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"

    async def body() -> None:
        async with await Journal.open(path, synchronous="FULL") as j:
            assert not j.inline
            assert (await j.settings())["synchronous"] == 2
            before = j.stats().batches
            legs = [make_order(leg=k) for k in range(3)]
            fut = j.record_new_batch(legs)
            await fut
            assert j.stats().batches == before + 1  # one transaction, one fsync for the list
            assert {o.client_id for o in legs} <= _rows(path)
            assert j.stats().inline_writes == 0
            with pytest.raises(JournalError, match="inline"):
                j.record_new_now(make_order())  # FULL's fsync never runs on the caller

    run(body)


@pytest.mark.parametrize("sync", ["FULL", "NORMAL"])
def test_batch_is_all_or_nothing(tmp_path: Path, sync: str) -> None:
    path = tmp_path / "j.sqlite"

    async def body() -> None:
        async with await Journal.open(path, synchronous=sync) as j:  # type: ignore[arg-type]
            old = make_order()
            await j.record_new(old)
            dup = Order(**{**asdict(old), "fills": {}, "fees": {}})
            legs = [make_order(leg=0), dup, make_order(leg=2)]
            with pytest.raises(DuplicateClientIdError, match=old.client_id):
                await j.record_new_batch(legs)
            assert _rows(path) == {old.client_id}  # neither good leg was written
            if j.inline:
                with pytest.raises(DuplicateClientIdError):
                    j.record_new_now(make_order(), dup)
                assert _rows(path) == {old.client_id}
            with pytest.raises(JournalError, match="NEW"):
                sent = make_order()
                sent.mark_sent()
                j.record_new_batch([sent])
            with pytest.raises(JournalError, match="at least one"):
                j.record_new_batch([])
            with pytest.raises(JournalError, match="not an Order"):
                j.record_new_batch(["x"])  # type: ignore[list-item]
            assert await j.consistency_check() == []

    run(body)


def test_closed_journal_refuses_the_send_path(tmp_path: Path) -> None:
    async def body() -> None:
        j = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL")
        await j.close()
        with pytest.raises(JournalClosedError):
            j.record_new_batch([make_order()])
        with pytest.raises(JournalClosedError):
            j.record_new_now(make_order())

    run(body)


def test_inline_writes_interleave_with_the_writer_thread_in_order(tmp_path: Path) -> None:
    """Many tasks: inline lists, queued events and fills, queued record_new; every order's rows
    are in call order, nothing is lost, the file is consistent."""
    path = tmp_path / "j.sqlite"

    async def trader(j: Journal, n: int, inline: bool) -> list[Order]:
        done: list[Order] = []
        for _ in range(n):
            legs = [make_order(qty="1", leg=k) for k in range(3)]
            if inline:
                await j.record_new_batch(legs)
            else:
                await asyncio.gather(*(j.record_new(o) for o in legs))
            for k, o in enumerate(legs):
                j.record_event(o, o.mark_sent())  # not awaited: queued behind the insert
                j.record_event(o, o.ack(f"V{o.client_id}"))
                j.record_event(o, o.fill(f"t{k}", "0.5", "100", "0.01", "USDT"))
                await asyncio.sleep(0)
                j.record_event(o, o.fill(f"u{k}", "0.5", "101", "0.01", "USDT"))
            done += legs
        return done

    async def body() -> None:
        async with await Journal.open(path, synchronous="NORMAL") as j:
            groups = await asyncio.gather(
                *(trader(j, 25, inline=k % 3 != 0) for k in range(6))
            )
            await j.record_event(groups[0][0], None)  # barrier: every earlier call committed
            assert j.stats().inline_writes > 0
            orders = [o for g in groups for o in g]
            assert len(_rows(path)) == len(orders)
            for o in orders:
                kinds = [(e.kind.value, e.status.value) for e in await j.events(o.client_id)]
                assert kinds == [
                    ("sent", "sent"),
                    ("ack", "acked"),
                    ("fill", "partially_filled"),
                    ("fill", "filled"),
                ], (o.client_id, kinds)
            assert await j.open_orders() == []
            assert await j.consistency_check() == []

    run(body, timeout=60)


def test_queued_insert_then_inline_duplicate(tmp_path: Path) -> None:
    """A queued record_new not yet committed and an inline write of the same id: exactly one
    wins, the other gets DuplicateClientIdError; the row exists once."""
    path = tmp_path / "j.sqlite"

    async def body() -> None:
        async with await Journal.open(path, synchronous="NORMAL") as j:
            o = make_order()
            queued = j.record_new(o)
            inline = j.record_new_batch([Order(**{**asdict(o), "fills": {}, "fees": {}})])
            res = await asyncio.gather(queued, inline, return_exceptions=True)
            assert sorted(type(r).__name__ for r in res) == ["DuplicateClientIdError", "NoneType"]
            assert _rows(path) == {o.client_id}

    run(body)


def test_writer_busy_past_the_bound(tmp_path: Path) -> None:
    """The writer thread holds the file longer than ``inline_wait_ms``: record_new_now raises
    JournalBusyError after about that wait (nothing written); record_new_batch hands the list
    to the writer thread, which commits it once the file is free."""
    path = tmp_path / "j.sqlite"

    async def body() -> None:
        async with await Journal.open(path, synchronous="NORMAL", inline_wait_ms=2.0) as j:
            held = threading.Event()
            release = threading.Event()

            def long_batch(conn: sqlite3.Connection) -> None:  # runs on the writer thread
                held.set()
                release.wait(10)

            slow = j._submit(long_batch, now=True)  # a long writer batch (test hook)
            assert await asyncio.to_thread(held.wait, 10)
            o = make_order()
            t0 = time.monotonic()
            with pytest.raises(JournalBusyError, match="busy"):
                j.record_new_now(o)
            assert time.monotonic() - t0 < 1.0  # bounded (2 ms asked; generous for the VM)
            assert o.client_id not in _rows(path)
            legs = [make_order(leg=k) for k in range(3)]
            fut = j.record_new_batch(legs)
            assert not fut.done()  # went to the writer queue, behind the long batch
            release.set()
            await slow
            await fut
            assert {o.client_id for o in legs} <= _rows(path)
            assert j.stats().inline_busy == 2
            j.record_new_now(o)  # free again: inline
            assert o.client_id in _rows(path)

    run(body)


def test_sqlite_busy_from_another_process(tmp_path: Path) -> None:
    """Another connection (as another process would) holds the write lock: the inline write
    does not sleep on the loop (JournalBusyError at once, nothing written); the writer thread
    waits for the lock and commits the batch afterwards."""
    path = tmp_path / "j.sqlite"

    async def body() -> None:
        async with await Journal.open(path, synchronous="NORMAL") as j:
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            try:
                o = make_order()
                t0 = time.monotonic()
                with pytest.raises(JournalBusyError, match="another writer"):
                    j.record_new_now(o)
                assert time.monotonic() - t0 < 1.0
                legs = [make_order(leg=k) for k in range(3)]
                fut = j.record_new_batch(legs)
                assert not fut.done()
                await asyncio.sleep(0.2)
                assert not fut.done()  # the writer thread is still waiting for the lock
            finally:
                other.execute("COMMIT")
                other.close()
            await asyncio.wait_for(fut, 10)
            assert {x.client_id for x in legs} <= _rows(path)
            assert o.client_id not in _rows(path)
            assert j.stats().inline_busy == 2
            assert await j.consistency_check() == []

    run(body)


_SYNC_CHILD = """
import asyncio, os, sys, threading
from openclaw.journal import Journal
from tests.support.orders import make_order

async def main():
    # a small WAL bound: the writer thread's own commits checkpoint too
    j = await Journal.open(sys.argv[1], synchronous=sys.argv[2], checkpoint_pages=16)
    await j.record_new(make_order())  # warm: the WAL exists
    os.write(1, f"TIDS {threading.get_native_id()} {j._thread.native_id}\\n".encode())
    os.write(2, b"BEGIN-WRITES\\n")
    for i in range(int(sys.argv[3])):
        await j.record_new_batch([make_order(leg=k) for k in range(3)])
        await j.record_new(make_order())  # a writer-thread commit in between
        if i % 10 == 9:  # a checkpoint now and then (normally every 256 commits or 1 s)
            done = j.stats().checkpoints
            j._ckpt_wake.set()
            while j.stats().checkpoints == done:
                await asyncio.sleep(0.001)
    os.write(2, b"END-WRITES\\n")
    row = await j._submit(lambda c: c.execute(
        "SELECT count(*) FROM meta WHERE key='wal_restarted_ns'").fetchone()[0])
    os.write(1, f"STATS {j.stats().inline_writes} {j.stats().inline_busy} {row}\\n".encode())
    await j.close()

asyncio.run(main())
"""


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("sync", ["FULL", "NORMAL"])
def test_fsync_per_commit_full_and_never_on_the_loop(tmp_path: Path, sync: str) -> None:
    """Under strace: FULL syncs the WAL at least once per list, on the writer thread; neither
    mode ever syncs on the loop thread (NORMAL's inline commits are write() only), even with
    checkpoints in between (the commit after a complete checkpoint restarts the WAL and syncs
    its header: that commit is never an inline one)."""
    n = 30
    out = subprocess.run(
        ["strace", "-f", "-e", "trace=fsync,fdatasync,write", "-o", str(tmp_path / "trace"),
         sys.executable, "-c", _SYNC_CHILD, str(tmp_path / "j.sqlite"), sync, str(n)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loop_tid, writer_tid = (int(x) for x in out.stdout.split("TIDS ")[1].split()[:2])
    lines = (tmp_path / "trace").read_text().splitlines()
    begin = next(i for i, ln in enumerate(lines) if "BEGIN-WRITES" in ln)
    end = next(i for i, ln in enumerate(lines) if "END-WRITES" in ln)
    syncs: dict[int, int] = {}
    for ln in lines[begin:end]:
        tid, _, call = ln.partition(" ")
        if call.lstrip().startswith(("fsync(", "fdatasync(")):
            syncs[int(tid)] = syncs.get(int(tid), 0) + 1
    assert syncs.get(loop_tid, 0) == 0, syncs
    if sync == "FULL":
        assert syncs.get(writer_tid, 0) >= n, syncs
    else:
        # only checkpoints and the WAL restarts after them sync (writer, checkpoint threads)
        assert sum(syncs.values()) > 0, syncs
        inline_writes, _, restarts = (int(x) for x in out.stdout.split("STATS ")[1].split()[:3])
        assert inline_writes >= n // 2, out.stdout  # the inline path really was exercised
        assert restarts == 1, out.stdout  # the WAL really was restarted (by our own write)
