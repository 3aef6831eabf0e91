"""``Journal``: the connection, the writer thread and the send path (see the package
docstring for the design), and the orders' reads and writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from openclaw.journal.control import ControlJournal
from openclaw.journal.intents import IntentLog, IntentLogError, IntentLogFull
from openclaw.journal.records import (
    BalanceSnapshot,
    Inconsistency,
    JournalBusyError,
    JournalFill,
    JournalStats,
    Synchronous,
)
from openclaw.journal.rows import (
    ORDER_COLS,
    consistency,
    event_row,
    insert_new,
    load_order,
    new_row,
    order_snapshot,
    row_event,
)
from openclaw.journal.runs import (
    RunJournal,
)
from openclaw.journal.schema import (
    SCHEMA,
    SCHEMA_VERSION,
)
from openclaw.model.errors import (
    DuplicateClientIdError,
    DuplicateFillError,
    JournalClosedError,
    JournalError,
    OpenclawError,
)
from openclaw.model.orders import (
    Fill,
    Order,
    OrderEvent,
    to_decimal,
)

log = logging.getLogger("openclaw.journal")


_CHECKPOINT_EVERY = 256  # commits between two checkpoint requests


_CHECKPOINT_IDLE_S = 1.0  # and at least this often while writes trickle in


T = TypeVar("T")


# one queued call: the function run on the writer thread, the future to resolve
_Call = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]"]


_STOP = object()


_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes


_BUSY_WAIT_S = 5.0  # the writer thread's longest wait for another process's write lock


class _CheckpointRunning(Exception):
    """Internal: an inline write found a checkpoint running."""


def _is_busy(e: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (any extended code): another connection holds the file."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(e) or "busy" in str(e)
    return (code & 0xFF) in (_SQLITE_BUSY, _SQLITE_LOCKED)


class Journal(RunJournal, ControlJournal):

    """The SQLite journal; open with ``await Journal.open(path)``, close with ``await close()``.

    Writes (``record_*``) return a future that resolves once the row is committed; reads are
    coroutines run on the same writer thread (so they see every earlier write).
    """

    def __init__(
        self,
        path: Path,
        synchronous: Synchronous,
        max_batch: int,
        checkpoint_pages: int,
        inline: bool = False,
        inline_wait_ms: float = 1.0,
    ) -> None:
        """Use ``Journal.open``; this only sets fields."""
        self._path = path
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._checkpoint_pages = checkpoint_pages
        # the send path's inline writes (NORMAL only) use the writer's connection on the
        # caller's thread; _write_lock serialises them with the writer's transactions
        self._inline_wanted = inline and synchronous == "NORMAL"
        self._conn: sqlite3.Connection | None = None  # the writer's, set by the writer thread
        self._inline_conn: sqlite3.Connection | None = None  # the same, once open and inline
        self._inline_wait_s = inline_wait_ms / 1e3
        self._write_lock = threading.Lock()
        self._inline_writes = 0
        self._inline_busy = 0
        self._inline_max_ns = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # lists of calls, or _STOP
        # calls made during one loop callback, handed to the writer in one put at its end
        # (one wake-up; the writer does not compete for the GIL with the rest of that
        # callback, e.g. the send that follows an inline write); the send path puts at once
        self._pending: list[_Call] = []
        self._flush_scheduled = False
        self._loop_tid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dead: str | None = None  # why the writer thread stopped unexpectedly
        self._calls = 0
        self._batches = 0
        self._failed = 0
        self._largest_batch = 0
        # checkpoints run on their own thread and connection, off the commit path
        self._ckpt_thread: threading.Thread | None = None
        self._ckpt_wake = threading.Event()
        self._ckpt_stop = threading.Event()
        self._ckpt_due = 0  # batches committed since the last checkpoint request
        self._checkpoints = 0
        self._ckpt_active = False  # inline mode: a checkpoint may be running (inline steps aside)
        self._wal_frames = 0  # WAL length (frames) the last checkpoint saw
        self._shm_fd: int | None = None  # the wal-index, read by the writer thread (inline mode)
        # the intent log (``intent_log=True``): the send path's durable record; SQLite rows
        # follow on the writer thread. Duplicate ids are refused before the send from memory:
        # every id this process journaled, and the ids SQLite held for each id prefix
        # (ClientIdFactory session) when it was first seen
        self._intents: IntentLog | None = None
        self._intent_use = False
        self._ids_seen: set[str] = set()
        self._prefix_ok: dict[str, bool] = {}
        self._intent_writes = 0
        self._intent_fallbacks = 0
        self._intent_max_ns = 0
        self._intents_restored = 0

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        max_batch: int = 512,
        checkpoint_pages: int = 4000,
        inline: bool = True,
        inline_wait_ms: float = 1.0,
        intent_log: bool = False,
        intent_slots: int = 4096,
    ) -> Journal:
        """Open (creating if needed) the journal at ``path`` in WAL mode and start its writer.

        ``inline``: with ``synchronous="NORMAL"``, write the send path (``record_new_batch``,
        ``record_new_now``) on the caller's thread (ignored with FULL: its fsync stays off the
        loop). ``inline_wait_ms``: longest wait of an inline write for a writer-thread batch
        in progress before it gives up (``JournalBusyError`` / hand-off to the writer).
        ``max_batch``: most calls committed in one transaction (the calls one loop callback
        made are handed over together and never split). ``checkpoint_pages``: WAL size
        (pages) at which the writer thread checkpoints within its own commit; the checkpoint
        thread normally does it in the background, but under a write stream with no idle
        second it cannot finish one (a WAL is reset only after a checkpoint that saw no
        concurrent commit), so this bounds the WAL.

        ``intent_log``: the send path writes one record per list to the intent log
        (``<path>-intents``, ``intent_slots`` records; fdatasync'ed per list with FULL) and the
        SQLite rows off the hot path (openclaw/journal/intents.py). An existing intent log is
        read at every open, whatever ``intent_log`` says: legs SQLite lacks are restored as
        NEW orders (possibly sent).

        Raises ``JournalError`` if the file cannot be opened, is not a journal of this schema
        version, or cannot be put in WAL mode (no fallback to another journal mode).
        """
        if synchronous not in ("FULL", "NORMAL"):
            raise JournalError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        if max_batch < 1:
            raise JournalError(f"max_batch must be >= 1, not {max_batch!r}")
        if checkpoint_pages < 1:
            raise JournalError(f"checkpoint_pages must be >= 1, not {checkpoint_pages!r}")
        if not 0 <= inline_wait_ms <= 100:
            raise JournalError(f"inline_wait_ms must be in [0, 100], not {inline_wait_ms!r}")
        p = Path(path)
        if str(path) == ":memory:" or not str(path):
            raise JournalError(f"the journal needs a file path, not {str(path)!r}")
        self = cls(p, synchronous, max_batch, checkpoint_pages, inline, inline_wait_ms)
        self._loop = asyncio.get_running_loop()
        self._loop_tid = threading.get_ident()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(
            target=self._main, args=(ready,), name=f"journal-writer:{p.name}", daemon=True
        )
        self._thread.start()
        try:
            await ready
        except BaseException:
            self._closed = True
            await asyncio.to_thread(self._thread.join)
            raise
        if self._inline_wanted:
            self._inline_conn = self._conn
        try:
            await self._open_intents(intent_log, intent_slots)
        except BaseException:
            await self.close()
            raise
        self._ckpt_thread = threading.Thread(
            target=self._checkpoint_loop, name=f"journal-checkpoint:{p.name}", daemon=True
        )
        self._ckpt_thread.start()
        return self

    async def close(self) -> None:
        """Commit what is queued, checkpoint, close the file and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        if self._ckpt_thread is not None:
            self._ckpt_stop.set()
            self._ckpt_wake.set()
            await asyncio.to_thread(self._ckpt_thread.join)
        self._inline_conn = None  # later inline writes: JournalClosedError (checked under lock)
        if self._thread is None:
            return
        self._flush()
        self._queue.put(_STOP)  # the writer's close is the last one: it checkpoints the WAL
        await asyncio.to_thread(self._thread.join)
        await asyncio.sleep(0)  # the release callbacks of the last rows
        if self._intents is not None:
            self._intents.close()
            self._intents = None

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    @property
    def synchronous(self) -> Synchronous:
        """The SQLite ``synchronous`` level writes are committed with."""
        return self._synchronous

    @property
    def inline(self) -> bool:
        """True if the send path commits on the caller's thread (NORMAL with ``inline``)."""
        return self._inline_conn is not None

    def stats(self) -> JournalStats:
        """Counters of the writer thread (read without locking: approximate while writing)."""
        return JournalStats(
            self._calls,
            self._batches,
            self._failed,
            self._largest_batch,
            self._checkpoints,
            self._inline_writes,
            self._inline_busy,
            self._inline_max_ns / 1e3,
            self._intent_writes,
            self._intent_fallbacks,
            self._intent_max_ns / 1e3,
            self._intents_restored,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"Journal({str(self._path)!r}, synchronous={self._synchronous}, {state})"

    @property
    def intent_log(self) -> IntentLog | None:
        """The intent log the send path writes to, or None (``intent_log=False``)."""
        return self._intents if self._intent_use else None

    async def _open_intents(self, use: bool, slots: int) -> None:
        """Read an existing intent log (restore legs SQLite lacks) and open it for use."""
        ipath = Path(f"{self._path}-intents")
        if not use and not ipath.exists():
            return
        log_, records = IntentLog.open(ipath, slots=slots, fsync=self._synchronous == "FULL")
        self._intents = log_
        if log_.torn:
            log.warning("journal %s: %d torn intent records ignored (never acted on)",
                        self._path.name, log_.torn)
        if records:
            rows = [new_row(o) for r in records for o in r.orders]

            def restore(conn: sqlite3.Connection) -> int:
                n = 0
                for row in rows:
                    if conn.execute("SELECT 1 FROM orders WHERE client_id=?",
                                    (row[0],)).fetchone() is None:
                        insert_new(conn, [row])
                        n += 1
                return n

            self._intents_restored = await self._submit(restore, now=True)
            for r in records:
                log_.release(r.slot)
            log.warning("journal %s: %d intent records found, %d orders restored from them "
                        "(possibly sent: recovery asks their venues)", self._path.name,
                        len(records), self._intents_restored)
        self._intent_use = use
        if not use:
            log_.close()
            self._intents = None

    def _record_intent(self, orders: Sequence[Order],
                       rows: list[tuple[Any, ...]]) -> asyncio.Future[None] | None:
        """The send path through the intent log: one record written (durable as the journal's
        mode) before this returns, the SQLite rows queued to the writer; the returned future
        is done. None: the list goes the SQLite-first way (log full, record too large, an id
        prefix not checked against SQLite yet), counted in ``intent_fallbacks``."""
        self._check_open()
        loop = self._loop
        assert loop is not None
        seen = self._ids_seen
        fut: asyncio.Future[None] = loop.create_future()
        ok = True
        for o in orders:
            cid = o.client_id
            if cid in seen:
                fut.set_exception(DuplicateClientIdError(
                    f"client id {cid} was journaled before; nothing of the list written"))
                return fut
            pre = cid[:11]
            state = self._prefix_ok.get(pre)
            if state is None:
                self._check_prefix(pre)
                ok = False
            elif not state:
                ok = False
        ilog = self._intents
        if not ok or ilog is None:
            self._intent_fallbacks += 1
            return None
        t0 = time.perf_counter_ns()
        try:
            slot = ilog.append(orders)
        except (IntentLogFull, IntentLogError) as e:
            self._intent_fallbacks += 1
            log.warning("journal %s: %s; the list goes SQLite-first", self._path.name, e)
            return None
        dt = time.perf_counter_ns() - t0
        if dt > self._intent_max_ns:
            self._intent_max_ns = dt
        self._intent_writes += 1
        for o in orders:
            seen.add(o.client_id)
        # the rows go to the writer one loop turn later than other calls: after the legs'
        # first steps (the sends) have run, so the writer thread's INSERTs do not compete
        # with them for the GIL
        rfut = self._submit(lambda conn: insert_new(conn, rows), late=True)
        rfut.add_done_callback(lambda f, slot=slot: self._rows_written(f, slot))
        fut.set_result(None)
        return fut

    def _rows_written(self, fut: asyncio.Future[None], slot: int) -> None:
        """SQLite holds the rows of an intent record: release it (or keep it for the next
        open's recovery if the insert failed)."""
        if fut.cancelled() or fut.exception() is not None:
            err = None if fut.cancelled() else fut.exception()
            log.critical("journal %s: rows of intent slot %d not written (%s); the record "
                         "stays for recovery at the next open", self._path.name, slot, err)
            return
        ilog = self._intents
        if ilog is not None:
            ilog.release(slot)

    async def prepare_ids(self, client_id: str) -> bool:
        """Check the id prefix (the ``ClientIdFactory`` session, 11 chars) of ``client_id``
        against SQLite now, so that the first list with it already goes through the intent
        log; True if lists with that prefix may use it. Call at start-up."""
        pre = client_id[:11]
        if pre not in self._prefix_ok:
            self._check_prefix(pre)
        await self._submit(_noop)
        return self._prefix_ok.get(pre, False)

    def _check_prefix(self, prefix: str) -> None:
        """Learn (on the writer thread) which ids with ``prefix`` SQLite holds; until then
        lists with that prefix go SQLite-first. Over 10,000 ids: never through the log."""
        self._prefix_ok[prefix] = False
        hi = prefix + "\x7f"

        def run(conn: sqlite3.Connection) -> list[str]:
            return [r[0] for r in conn.execute(
                "SELECT client_id FROM orders WHERE client_id >= ? AND client_id < ? "
                "LIMIT 10001", (prefix, hi))]

        def done(f: asyncio.Future[list[str]]) -> None:
            if f.cancelled() or f.exception() is not None:
                self._prefix_ok.pop(prefix, None)
                return
            ids = f.result()
            if len(ids) <= 10000:
                self._ids_seen.update(ids)
                self._prefix_ok[prefix] = True

        self._submit(run).add_done_callback(done)

    def record_new(self, order: Order) -> asyncio.Future[None]:
        """Journal a NEW order; await it BEFORE sending the order to the venue.

        Always through the writer thread (see ``record_new_batch`` for the send path). Fails
        with ``DuplicateClientIdError`` if the client id was ever journaled before.
        """
        rows = [new_row(order)]
        if self._intent_use:
            self._ids_seen.add(order.client_id)
        return self._submit(lambda conn: insert_new(conn, rows), now=True)

    def record_new_batch(self, orders: Sequence[Order]) -> asyncio.Future[None]:
        """Journal NEW orders (the legs of one list) in ONE transaction; await before sending.

        Inline (NORMAL, ``self.inline``): committed before this returns, on this thread; the
        future is already done (awaiting it does not yield), so the caller can send at once.
        If the file stays busy past ``inline_wait_ms`` the same transaction goes to the writer
        thread (``stats().inline_busy``). FULL: one call to the writer thread (one commit, one
        fsync for all legs). All or nothing: ``DuplicateClientIdError`` (through the future)
        if any client id was journaled before, and then none of the orders is written.
        """
        rows = [new_row(o) for o in orders]
        if not rows:
            raise JournalError("record_new_batch needs at least one order")
        if self._intent_use:
            fut_i = self._record_intent(orders, rows)
            if fut_i is not None:
                return fut_i
            self._ids_seen.update(o.client_id for o in orders)
        if self._inline_conn is not None:
            self._check_open()
            loop = self._loop
            assert loop is not None
            fut: asyncio.Future[None] = loop.create_future()
            try:
                self._write_inline(rows)
            except JournalBusyError:
                log.info("journal %s: file busy, %d orders go through the writer thread",
                         self._path.name, len(rows))
            except JournalError as e:
                fut.set_exception(e)
                return fut
            else:
                fut.set_result(None)
                return fut
        return self._submit(lambda conn: insert_new(conn, rows), now=True)

    def record_new_now(self, *orders: Order) -> None:
        """Journal NEW orders in ONE transaction committed before this returns (inline only).

        Blocks the calling thread for at most ``inline_wait_ms`` plus the write itself (no
        fsync). Raises ``JournalError`` if the journal is not inline (FULL: use
        ``record_new_batch``, its fsync never runs here), ``JournalBusyError`` if the file
        stayed busy (nothing written), ``DuplicateClientIdError`` (nothing written).
        """
        rows = [new_row(o) for o in orders]
        if not rows:
            raise JournalError("record_new_now needs at least one order")
        if self._inline_conn is None:
            self._check_open()
            raise JournalError(
                f"record_new_now writes inline, which needs synchronous=NORMAL and inline=True"
                f" (this journal: {self._synchronous}); use record_new_batch"
            )
        self._check_open()
        self._write_inline(rows)
        if self._intent_use:
            self._ids_seen.update(o.client_id for o in orders)

    def record_event(self, order: Order, *events: OrderEvent | None) -> asyncio.Future[None]:
        """Journal events of ``order`` and its resulting state, in one transaction.

        Pass what the order's transition methods returned; ``None`` s (duplicates: nothing
        changed) are skipped, and a call with only ``None`` s writes nothing but still resolves
        after every earlier call is committed. Fails with ``DuplicateFillError`` if a fill's
        trade id is already journaled for the order (nothing of the call is written then).
        """
        if not events:
            raise JournalError("record_event needs at least one event")
        for ev in events:
            if ev is not None and not isinstance(ev, OrderEvent):
                raise JournalError(f"not an OrderEvent: {ev!r}")
            if ev is not None and ev.client_id != order.client_id:
                raise JournalError(f"event of {ev.client_id} passed with order {order.client_id}")
        real = [ev for ev in events if ev is not None]
        if not real:
            return self._submit(_noop)
        now = time.time_ns()
        rows = [event_row(ev, now) for ev in real]
        snap = order_snapshot(order)
        client_id = order.client_id

        def run(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE orders SET status=?, venue_order_id=?, filled_qty=?, notional=?, fees=?,"
                " reason=?, sent_ns=?, acked_ns=?, updated_ns=?, closed_ns=?, final=?"
                " WHERE client_id=?",
                (*snap, client_id),
            )
            if cur.rowcount != 1:
                raise JournalError(f"order {client_id} is not in the journal (record_new first)")
            for r in rows:
                try:
                    conn.execute(
                        "INSERT INTO order_events (client_id, kind, status, ts_ns, venue_order_id,"
                        " trade_id, qty, price, fee, fee_asset, reason, recorded_ns)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        r,
                    )
                except sqlite3.IntegrityError:
                    raise DuplicateFillError(
                        f"order {client_id}: trade {r[5]!r} is already journaled"
                    ) from None

        return self._submit(run)

    def record_balances(
        self,
        venue: str,
        balances: Mapping[str, Decimal | str | int],
        ts_ns: int | None = None,
    ) -> asyncio.Future[int]:
        """Journal a snapshot of a venue's balances ({asset: amount}); resolves to its id."""
        if not isinstance(venue, str) or not venue:
            raise JournalError(f"venue must be a non-empty string, not {venue!r}")
        rows: list[tuple[str, str]] = []
        for asset, amount in balances.items():
            if not isinstance(asset, str) or not asset:
                raise JournalError(f"asset must be a non-empty string, not {asset!r}")
            try:
                rows.append((asset, str(to_decimal(f"balance {asset}", amount))))
            except OpenclawError as e:
                raise JournalError(str(e)) from None
        ts = time.time_ns() if ts_ns is None else ts_ns

        def run(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO balance_snapshots (venue, ts_ns) VALUES (?, ?)", (venue, ts)
            )
            sid = cur.lastrowid
            assert sid is not None
            conn.executemany(
                "INSERT INTO balances (snapshot_id, asset, amount) VALUES (?, ?, ?)",
                [(sid, a, v) for a, v in rows],
            )
            return sid

        return self._submit(run)

    async def orders_by_prefix(self, prefix: str) -> list[Order]:
        """Journaled orders whose client id starts with ``prefix`` (e.g. one run's orders)."""
        if not isinstance(prefix, str) or not prefix or not prefix.isascii():
            raise JournalError(f"prefix must be a non-empty ASCII string, not {prefix!r}")
        hi = prefix + "\x7f"

        def run(conn: sqlite3.Connection) -> list[Order]:
            rows = conn.execute(
                f"SELECT {ORDER_COLS} FROM orders WHERE client_id >= ? AND client_id < ?"
                " ORDER BY client_id",
                (prefix, hi),
            ).fetchall()
            return [load_order(conn, r) for r in rows]

        return await self._submit(run)

    async def order(self, client_id: str) -> Order | None:
        """The journaled order with its fills, or None."""

        def run(conn: sqlite3.Connection) -> Order | None:
            row = conn.execute(
                f"SELECT {ORDER_COLS} FROM orders WHERE client_id=?", (client_id,)
            ).fetchone()
            return None if row is None else load_order(conn, row)

        return await self._submit(run)

    async def open_orders(self, venue: str | None = None) -> list[Order]:
        """Orders not FILLED/CANCELED/REJECTED (start-up recovery), oldest first.

        NEW and SENT orders among them may or may not exist at the venue: mark them UNKNOWN and
        query the venue by client id before deciding anything.
        """

        def run(conn: sqlite3.Connection) -> list[Order]:
            sql = f"SELECT {ORDER_COLS} FROM orders WHERE final = 0"
            args: tuple[Any, ...] = ()
            if venue is not None:
                sql += " AND venue = ?"
                args = (venue,)
            rows = conn.execute(sql + " ORDER BY created_ns, client_id", args).fetchall()
            return [load_order(conn, r) for r in rows]

        return await self._submit(run)

    async def events(self, client_id: str) -> list[OrderEvent]:
        """Every journaled event of one order, in the order they were recorded."""

        def run(conn: sqlite3.Connection) -> list[OrderEvent]:
            rows = conn.execute(
                "SELECT client_id, kind, status, ts_ns, venue_order_id, trade_id, qty, price, fee,"
                " fee_asset, reason FROM order_events WHERE client_id=? ORDER BY id",
                (client_id,),
            ).fetchall()
            return [row_event(r) for r in rows]

        return await self._submit(run)

    async def fills(
        self,
        client_id: str | None = None,
        *,
        opportunity_id: int | None = None,
        venue: str | None = None,
        since_ns: int | None = None,
    ) -> list[JournalFill]:
        """Journaled fills, oldest first, filtered by order, opportunity, venue, fill time."""
        where = ["e.kind = 'fill'"]
        args: list[Any] = []
        for col, val in (
            ("e.client_id", client_id),
            ("o.opportunity_id", opportunity_id),
            ("o.venue", venue),
        ):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if since_ns is not None:
            where.append("e.ts_ns >= ?")
            args.append(since_ns)
        sql = (
            "SELECT e.client_id, o.venue, o.symbol, o.side, o.opportunity_id, o.leg,"
            " e.trade_id, e.qty, e.price, e.fee, e.fee_asset, e.ts_ns"
            " FROM order_events e JOIN orders o ON o.client_id = e.client_id"
            f" WHERE {' AND '.join(where)} ORDER BY e.id"
        )

        def run(conn: sqlite3.Connection) -> list[JournalFill]:
            return [
                JournalFill(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    Fill(r[6], Decimal(r[7]), Decimal(r[8]), Decimal(r[9]), r[10], r[11]),
                )
                for r in conn.execute(sql, args)
            ]

        return await self._submit(run)

    async def balances(self, venue: str) -> BalanceSnapshot | None:
        """The latest balance snapshot of a venue, or None."""

        def run(conn: sqlite3.Connection) -> BalanceSnapshot | None:
            head = conn.execute(
                "SELECT id, ts_ns FROM balance_snapshots WHERE venue=? ORDER BY id DESC LIMIT 1",
                (venue,),
            ).fetchone()
            if head is None:
                return None
            rows = conn.execute(
                "SELECT asset, amount FROM balances WHERE snapshot_id=? ORDER BY asset", (head[0],)
            )
            return BalanceSnapshot(head[0], venue, head[1], {a: Decimal(v) for a, v in rows})

        return await self._submit(run)

    async def settings(self) -> dict[str, Any]:
        """The connection's effective SQLite settings (journal_mode, synchronous, foreign_keys).

        ``synchronous`` as SQLite reports it: 2 = FULL, 1 = NORMAL.
        """

        def run(conn: sqlite3.Connection) -> dict[str, Any]:
            return {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }

        return await self._submit(run)

    async def consistency_check(self) -> list[Inconsistency]:
        """Check the file and every order against its events; an empty list means consistent.

        Per order: filled qty, notional and fees equal the sums over its fills, filled qty is in
        [0, qty], the status agrees with the filled qty and with its last event, and the
        ``final`` flag with the status. Whole file: ``PRAGMA integrity_check`` and
        ``foreign_key_check``. Reads the whole journal: meant for start-up and tests.
        """
        return await self._submit(consistency)

    def _check_open(self) -> None:
        if self._closed or self._dead is not None:
            why = f"writer thread died: {self._dead}" if self._dead else "journal is closed"
            raise JournalClosedError(f"{self._path.name}: {why}")

    def _submit(
        self, fn: Callable[[sqlite3.Connection], T], *, now: bool = False, late: bool = False
    ) -> asyncio.Future[T]:
        """Queue ``fn`` for the writer: at the end of this loop callback, or at once (``now``,
        the send path, or a call from another thread); call order is kept either way."""
        self._check_open()
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[T] = loop.create_future()
        if threading.get_ident() != self._loop_tid:
            self._queue.put([(fn, fut)])
            return fut
        self._pending.append((fn, fut))
        if now:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            if late:  # two loop turns: after the callbacks the caller schedules now
                loop.call_soon(loop.call_soon, self._flush)
            else:
                loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        """Hand the calls made on the loop thread so far to the writer (one put)."""
        self._flush_scheduled = False
        if self._pending:
            calls, self._pending = self._pending, []
            if self._dead is not None:  # nobody would run them
                err = JournalClosedError(f"{self._path.name}: writer thread died: {self._dead}")
                _resolve([(fut, None, err) for _, fut in calls])
                return
            self._queue.put(calls)

    def _main(self, ready: asyncio.Future[None]) -> None:
        """Writer thread: connect, then run queued calls in batches until stopped."""
        try:
            conn = self._connect()
            self._conn = conn
        except BaseException as e:  # reported to the opener, thread ends
            err = e if isinstance(e, JournalError) else JournalError(f"cannot open journal: {e}")
            self._deliver([(ready, None, err)])
            return
        self._deliver([(ready, None, None)])
        stop = False
        try:
            while not stop:
                item = self._queue.get()
                if item is _STOP:
                    break
                batch: list[_Call] = list(item)
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.extend(item)
                self._run_batch(conn, batch)
                if self._ckpt_due >= _CHECKPOINT_EVERY:
                    self._ckpt_due = 0
                    self._ckpt_wake.set()
        except BaseException as e:  # a bug here must not hang the awaiting callers
            self._dead = f"{type(e).__name__}: {e}"
            log.critical("journal writer thread died: %s", self._dead)
            self._fail_queued()
        finally:
            with self._write_lock:  # no inline write is using it; none will after this
                self._inline_conn = None
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
                if self._shm_fd is not None:
                    os.close(self._shm_fd)
                    self._shm_fd = None

    def _checkpoint_loop(self) -> None:
        """Checkpoint thread: copy the WAL into the database every 256 commits or second.

        Keeps the copying and the database fsync of checkpoints off the commit path (and the
        acknowledgements waiting on it); PASSIVE never blocks the writer. The writer's own
        auto-checkpoint (``checkpoint_pages``) then only finishes a nearly done job.
        """
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as e:
            log.critical("journal %s: checkpoint thread cannot start: %s", self._path, e)
            return
        try:
            while not self._ckpt_stop.is_set():
                self._ckpt_wake.wait(_CHECKPOINT_IDLE_S)
                self._ckpt_wake.clear()
                if self._ckpt_stop.is_set():
                    break
                try:
                    if self._inline_wanted:
                        self._checkpoint_inline_mode(conn)
                    else:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self._checkpoints += 1
                except sqlite3.Error as e:
                    log.warning("journal %s: checkpoint failed: %s", self._path, e)
        finally:
            conn.close()

    def _checkpoint_inline_mode(self, conn: sqlite3.Connection) -> None:
        """A checkpoint that never leaves an fsync to an inline (loop-thread) commit.

        After a checkpoint that copied the whole WAL, the next commit restarts the WAL and
        fsyncs its new header, even with ``synchronous=NORMAL``. So while a checkpoint runs
        inline writes step aside (``_ckpt_active``: they go to the writer queue), and a
        complete one is followed at once, under the write lock, by a one-row write on this
        thread that takes that fsync. With the WAL at ``checkpoint_pages`` or more (a
        sustained write stream never lets a background checkpoint complete), the checkpoint
        runs under the write lock, so that it completes and the WAL is bounded.
        """
        self._ckpt_active = True
        try:
            if self._wal_frames >= self._checkpoint_pages:
                with self._write_lock:
                    _, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames == done and frames > 0:  # all copied: the next write restarts
                        self._restart_wal(conn)
                        frames = done = 0
            else:
                _, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames == done and frames > 0:  # all copied: the next write restarts
                    with self._write_lock:
                        self._restart_wal(conn)
                    frames = done = 0
            self._wal_frames = max(0, frames)
        finally:
            self._ckpt_active = False

    def _restart_wal(self, conn: sqlite3.Connection) -> None:
        """One tiny write: restarts a fully checkpointed WAL (and fsyncs its header) here."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('wal_restarted_ns', ?)",
                (str(time.time_ns()),),
            )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _fail_queued(self) -> None:
        failed: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                failed += [
                    (fut, None, JournalClosedError(f"writer died: {self._dead}"))
                    for _, fut in item
                ]
        self._deliver(failed)

    def _connect(self) -> sqlite3.Connection:
        # inline writes use this connection on the loop thread too (under _write_lock)
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=not self._inline_wanted
        )
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{self._path}: cannot use WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            # inline: SQLITE_BUSY must never sleep on the loop (the writer retries it itself)
            conn.execute(f"PRAGMA busy_timeout={0 if self._inline_wanted else 5000}")
            # the checkpoint thread does the work; this is the bound under a sustained stream.
            # Inline mode: on only around the writer thread's own commits (a commit on the loop
            # must not checkpoint)
            conn.execute(f"PRAGMA wal_autocheckpoint={self._checkpoint_pages}")
            conn.executescript(SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif row[0] != str(SCHEMA_VERSION):
                raise JournalError(
                    f"{self._path}: schema version {row[0]}, this code reads {SCHEMA_VERSION}"
                )
            if self._inline_wanted:
                conn.execute("PRAGMA wal_autocheckpoint=0")
        except sqlite3.DatabaseError as e:
            conn.close()
            raise JournalError(f"{self._path}: not a usable journal: {e}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _write_inline(self, rows: list[tuple[Any, ...]]) -> None:
        """INSERT ``rows`` and commit on the calling thread, under the writer lock.

        Bounded: the lock is waited for at most ``inline_wait_s``; SQLITE_BUSY (another
        process) is not waited for at all. Either way ``JournalBusyError``, nothing written.
        """
        t0 = time.perf_counter_ns()
        if not self._write_lock.acquire(timeout=self._inline_wait_s):
            self._inline_busy += 1
            raise JournalBusyError(
                f"{self._path.name}: writer thread busy for more than"
                f" {self._inline_wait_s * 1e3:g} ms; nothing written inline"
            )
        try:
            conn = self._inline_conn
            if conn is None:  # closed while we waited
                raise JournalClosedError(f"{self._path.name}: journal is closed")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if self._ckpt_active:  # its end may leave a WAL-header fsync to us
                        raise _CheckpointRunning
                    insert_new(conn, rows)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
            except _CheckpointRunning:
                self._inline_busy += 1
                raise JournalBusyError(
                    f"{self._path.name}: checkpoint running; nothing written inline"
                ) from None
            except sqlite3.OperationalError as e:
                if _is_busy(e):
                    self._inline_busy += 1
                    raise JournalBusyError(
                        f"{self._path.name}: file locked by another writer; nothing written"
                    ) from None
                raise JournalError(f"inline commit failed, nothing written: {e}") from None
            except sqlite3.Error as e:
                raise JournalError(f"inline commit failed, nothing written: {e}") from None
            self._inline_writes += 1
            self._ckpt_due += 1
            if self._ckpt_due >= _CHECKPOINT_EVERY:
                self._ckpt_due = 0
                self._ckpt_wake.set()
        finally:
            self._write_lock.release()
            dt = time.perf_counter_ns() - t0
            if dt > self._inline_max_ns:
                self._inline_max_ns = dt

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Call]) -> None:
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] | None = None
        deadline = time.monotonic() + _BUSY_WAIT_S
        delay = 0.0002
        while results is None:
            with self._write_lock:  # excludes the send path's inline writes
                results = self._run_batch_locked(conn, batch, time.monotonic() < deadline)
            if results is None:  # SQLITE_BUSY (another process writes): wait, lock released
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
        self._calls += len(batch)
        self._batches += 1
        self._failed += sum(1 for r in results if r[2] is not None)
        self._largest_batch = max(self._largest_batch, len(batch))
        self._deliver(results)  # after releasing the lock: the loop may write inline at once

    def _run_batch_locked(
        self, conn: sqlite3.Connection, batch: list[_Call], may_wait: bool
    ) -> list[tuple[asyncio.Future[Any], Any, BaseException | None]] | None:
        """One transaction of the batch; None if the file was busy and ``may_wait``."""
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if may_wait and _is_busy(e):
                    return None
                raise
            for fn, fut in batch:
                conn.execute("SAVEPOINT call")
                try:
                    value = fn(conn)
                except Exception as e:  # becomes the caller's typed error
                    conn.execute("ROLLBACK TO call")
                    conn.execute("RELEASE call")
                    err = (
                        e
                        if isinstance(e, OpenclawError)
                        else JournalError(f"{type(e).__name__}: {e}")
                    )
                    results.append((fut, None, err))
                else:
                    conn.execute("RELEASE call")
                    results.append((fut, value, None))
            if self._inline_wanted:
                # this commit may checkpoint (the WAL bound); an inline one never does
                conn.execute(f"PRAGMA wal_autocheckpoint={self._checkpoint_pages}")
                try:
                    conn.execute("COMMIT")
                finally:
                    conn.execute("PRAGMA wal_autocheckpoint=0")
            else:
                conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            err = JournalError(f"commit failed, nothing of this batch was written: {e}")
            results = [(fut, None, err) for _, fut in batch]
        if self._inline_wanted and self._wal_fully_checkpointed():
            # the checkpoint completed: restart the WAL here, not in an inline commit
            try:
                self._restart_wal(conn)
            except sqlite3.Error as e:  # the calls are committed; only the restart waits
                log.warning("journal %s: WAL restart failed: %s", self._path, e)
        self._ckpt_due += 1
        return results

    def _wal_fully_checkpointed(self) -> bool:
        """True if every WAL frame is in the database (the next commit restarts the WAL and
        fsyncs its header). Read from the wal-index header in the ``-shm`` file: ``mxFrame``
        (u32 at byte 16) and ``nBackfill`` (u32 at byte 96), native byte order, as documented
        in https://www.sqlite.org/walformat.html."""
        if self._shm_fd is None:
            try:
                self._shm_fd = os.open(f"{self._path}-shm", os.O_RDONLY)
            except OSError:
                return False
        head = os.pread(self._shm_fd, 100, 0)
        if len(head) < 100:
            return False
        mx_frame = int.from_bytes(head[16:20], sys.byteorder)
        backfill = int.from_bytes(head[96:100], sys.byteorder)
        return 0 < mx_frame == backfill

    def _deliver(
        self, results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]
    ) -> None:
        if not results or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(_resolve, results)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _noop(conn: sqlite3.Connection) -> None:
    return None


def _resolve(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, err in results:
        if fut.done():  # cancelled by the awaiting task: the write itself still happened
            continue
        if err is not None:
            fut.set_exception(err)
        else:
            fut.set_result(value)
