"""Books over the bus: the feed role publishes each book's changes, the strategy role mirrors
them into its own BookSet with the states and counters of a local feed.

Subjects (``prefix`` "oc" by default): ``oc.book.<venue>.<instrument>`` carries deltas and
heartbeats, ``oc.snap.<venue>.<instrument>`` answers a snapshot request; a subscriber listens
by pattern (``oc.book.>``, ``oc.book.binance.>``, ``oc.book.*.BTCUSDT``). A subscriber that
starts late or sees a gap in the sequence (or a new publisher epoch) asks for a snapshot,
buffers the deltas meanwhile, and resyncs: SYNCING -> LIVE, then LIVE -> RESYNCING -> LIVE on
a gap, LIVE -> STALE when nothing (not even a heartbeat) came within ``stale_after_s``. A book
is LIVE only while the publisher's own book is LIVE, so the detector's LIVE-only rule holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np

from openclaw._core.book import BookSet, OrderBook
from openclaw.bus.codec import (
    DELTA,
    HEARTBEAT,
    SNAPSHOT,
    BookMessage,
    CodecError,
    Levels,
    decode,
    encode,
    side_changes,
)
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.model.instrument import Instrument

__all__ = ["BookPublisher", "BookSubscriber", "book_subject", "snapshot_subject", "token"]

log = logging.getLogger("openclaw.bus.books")
_BAD = re.compile(r"[^A-Za-z0-9_-]")
BookListener = Callable[[int, int], None]       # (book id, receive timestamp ns)


def token(name: str) -> str:
    """``name`` as one subject token (characters other than ``A-Za-z0-9_-`` become ``_``)."""
    return _BAD.sub("_", name)


def book_subject(prefix: str, venue: str, key: str) -> str:
    """Where the changes of ``venue``'s book ``key`` are published."""
    return f"{prefix}.book.{token(venue)}.{token(key)}"


def snapshot_subject(prefix: str, venue: str, key: str) -> str:
    """Where a snapshot of ``venue``'s book ``key`` is asked for (request/reply)."""
    return f"{prefix}.snap.{token(venue)}.{token(key)}"


def _levels(bs: BookSet, book_id: int, side: int, n: int) -> Levels:
    out = np.empty((n, 2), dtype=np.int64)
    out[:, 0] = bs.px[book_id, side, :n]
    out[:, 1] = bs.qty[book_id, side, :n]
    return out


class BookPublisher:
    """Publishes every change of some books of a BookSet (the feed role).

    ``on_book(book_id, recv_ts)`` is an aggregator subscriber: synchronous, it diffs the book
    against what was last published (numpy, per side), encodes the delta and queues it; a task
    hands the queue to the NATS client. A heartbeat per book every ``heartbeat_s`` carries the
    state and last sequence (a quiet book is not stale; a lost last delta is a gap).
    """

    def __init__(self, nc: Any, bookset: BookSet, books: dict[int, Instrument], *,
                 prefix: str = "oc", heartbeat_s: float = 0.25) -> None:
        self.nc = nc
        self.bookset = bookset
        self.books = dict(books)
        self.prefix = prefix
        self.heartbeat_s = heartbeat_s
        self.epoch = time.time_ns()
        self.seq = dict.fromkeys(self.books, 0)
        self.published = 0
        self.subjects = {b: book_subject(prefix, i.venue, i.key) for b, i in self.books.items()}
        empty = np.zeros((0, 2), dtype=np.int64)
        self._shadow: dict[int, tuple[Levels, Levels]] = {b: (empty, empty) for b in self.books}
        self._out: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Any] = []

    async def start(self) -> None:
        """Answer snapshot requests of the books (as they are now: sequence 0), start the
        sender and the heartbeats."""
        for book_id in self.books:
            nb, na = self.bookset.book(book_id).depth()
            self._shadow[book_id] = (_levels(self.bookset, book_id, 0, nb),
                                     _levels(self.bookset, book_id, 1, na))
        for book_id, inst in self.books.items():
            subject = snapshot_subject(self.prefix, inst.venue, inst.key)
            self._subs.append(await self.nc.subscribe(
                subject, cb=partial(self._on_snapshot_request, book_id)))
        self._tasks = [asyncio.create_task(self._send(), name="bus:book-publisher"),
                       asyncio.create_task(self._heartbeats(), name="bus:book-heartbeat")]

    async def stop(self) -> None:
        """Send what is queued, stop answering and heartbeating."""
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        self._wake.set()
        await asyncio.sleep(0)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        await self._flush_out()

    # -- the feed's callback (synchronous) ----------------------------------------------------
    def on_book(self, book_id: int, recv_ts: int) -> None:
        """The book changed: queue the delta (nothing when no level changed)."""
        if book_id not in self._shadow:
            return
        bs = self.bookset
        book = bs.book(book_id)
        nb, na = book.depth()
        bids, asks = _levels(bs, book_id, 0, nb), _levels(bs, book_id, 1, na)
        old_b, old_a = self._shadow[book_id]
        db, da = side_changes(old_b, bids), side_changes(old_a, asks)
        self._shadow[book_id] = (bids, asks)
        if not len(db) and not len(da):
            return
        seq = self.seq[book_id] + 1
        self.seq[book_id] = seq
        self._out.append((self.subjects[book_id], encode(
            DELTA, bs.state(book_id), self.epoch, seq, book.seq, book.exch_ts, recv_ts,
            time.monotonic_ns(), db, da)))
        self._wake.set()

    def snapshot(self, book_id: int) -> bytes:
        """The book as last published (levels and sequence agree)."""
        bids, asks = self._shadow[book_id]
        book = self.bookset.book(book_id)
        return encode(SNAPSHOT, self.bookset.state(book_id), self.epoch, self.seq[book_id],
                      book.seq, book.exch_ts, book.recv_ts, time.monotonic_ns(), bids, asks)

    # -- tasks --------------------------------------------------------------------------------
    async def _on_snapshot_request(self, book_id: int, msg: Any) -> None:
        await msg.respond(self.snapshot(book_id))

    async def _flush_out(self) -> None:
        out = self._out
        while out:
            subject, data = out.popleft()
            await self.nc.publish(subject, data)
            self.published += 1

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush_out()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for book_id, subject in self.subjects.items():
                book = self.bookset.book(book_id)
                self._out.append((subject, encode(
                    HEARTBEAT, self.bookset.state(book_id), self.epoch, self.seq[book_id],
                    book.seq, book.exch_ts, book.recv_ts, time.monotonic_ns())))
            self._wake.set()


class _Mirror:
    """The sync state of one mirrored book."""

    __slots__ = ("book_id", "epoch", "fetching", "last_rx", "pending", "seq", "snap_subject",
                 "upstream", "venue")

    def __init__(self, book_id: int, venue: str, snap_subject: str) -> None:
        self.book_id = book_id
        self.venue = venue
        self.snap_subject = snap_subject
        self.epoch = 0
        self.seq = -1                   # -1: not synced
        self.upstream = int(BookState.SYNCING)
        self.fetching = False
        self.pending: list[BookMessage] = []
        self.last_rx = 0


class BookSubscriber:
    """Mirrors the books of ``instruments`` published on the bus into its own BookSet.

    The reading side is the aggregator's (``bookset``, ``book_ids``, ``instrument_of``,
    ``book()``, ``state()``, ``subscribe()``, ``stats()``, ``counters`` per venue), so a
    strategy reads a mirrored book as it reads a local one. ``patterns``: the subjects to
    listen to (default every book of the prefix); messages for other books are counted
    ``unknown_symbol``. ``hop_ns``: a ring of publish -> applied times (ns) of the last deltas.
    """

    def __init__(self, nc: Any, instruments: Iterable[Instrument], *, prefix: str = "oc",
                 patterns: Iterable[str] | None = None, capacity: int = 5000,
                 stale_after_s: float = 5.0, snapshot_timeout_s: float = 1.0,
                 retry_s: float = 0.2, ring: int = 1 << 16) -> None:
        self.nc = nc
        self.instruments = list(instruments)
        self.prefix = prefix
        self.patterns = list(patterns) if patterns is not None else [f"{prefix}.book.>"]
        self.stale_after_ns = int(stale_after_s * 1e9)
        self.snapshot_timeout_s = snapshot_timeout_s
        self.retry_s = retry_s
        self.bookset = BookSet(max_books=max(1, len(self.instruments)), capacity=capacity)
        self.book_ids: dict[tuple[str, str], int] = {}
        self.instrument_of: dict[int, Instrument] = {}
        self.counters: dict[str, FeedCounters] = {}
        self._by_subject: dict[str, _Mirror] = {}
        for inst in self.instruments:
            book_id = self.bookset.add(inst.tick_size, inst.lot_size)
            self.book_ids[(inst.venue, inst.key)] = book_id
            self.instrument_of[book_id] = inst
            self.counters.setdefault(inst.venue, FeedCounters())
            self._by_subject[book_subject(prefix, inst.venue, inst.key)] = _Mirror(
                book_id, inst.venue, snapshot_subject(prefix, inst.venue, inst.key))
        self.subscribers: list[BookListener] = []
        self.hop_ns = np.zeros(ring, dtype=np.int64)
        self.hops = 0
        self._subs: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = False

    # -- reading (the aggregator's interface) ---------------------------------------------------
    def book(self, venue: str, key: str) -> OrderBook:
        """The mirrored book of ``venue``'s instrument ``key`` (a view: no copy)."""
        try:
            return self.bookset.book(self.book_ids[(venue, key)])
        except KeyError:
            raise KeyError(f"no book for {venue}:{key}") from None

    def state(self, book_id: int) -> BookState:
        """The book's state (LIVE only when synced and the publisher's book is LIVE)."""
        return BookState(self.bookset.state(book_id))

    def subscribe(self, callback: BookListener) -> None:
        """Call ``callback(book_id, recv_ts_ns)`` after every applied change of a book."""
        self.subscribers.append(callback)

    def stats(self) -> dict[str, object]:
        """Counters per venue and the state of every book (as ``Aggregator.stats``)."""
        return {
            "feeds": {name: c.as_dict() for name, c in self.counters.items()},
            "books": {f"{i.venue}:{i.key}": self.state(b).name
                      for b, i in self.instrument_of.items()},
        }

    def hop_percentiles(self) -> dict[str, float]:
        """p50/p99/max of publish -> applied (µs) over the ring."""
        n = min(self.hops, len(self.hop_ns))
        if not n:
            return {}
        a = self.hop_ns[:n] / 1e3
        return {"n": float(self.hops), "p50_us": float(np.percentile(a, 50)),
                "p99_us": float(np.percentile(a, 99)), "max_us": float(a.max())}

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen to the patterns, ask every book's snapshot, watch for stale books."""
        for pattern in self.patterns:
            self._subs.append(await self.nc.subscribe(pattern, cb=self._on_msg,
                                                      pending_msgs_limit=1 << 20))
        for m in self._by_subject.values():
            self._resync(m, None)
        self._spawn(self._watch(), "bus:book-stale")

    async def stop(self) -> None:
        """Stop listening; the books keep their last state."""
        self._stopped = True
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def wait_live(self, timeout: float = 10.0) -> None:
        """Wait until every book is LIVE; TimeoutError naming those that are not."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not all(self.bookset.state(b) == BookState.LIVE for b in self.instrument_of):
            if loop.time() > end:
                waiting = [f"{i.venue}:{i.key}={self.state(b).name}"
                           for b, i in self.instrument_of.items()
                           if self.bookset.state(b) != BookState.LIVE]
                raise TimeoutError(f"bus books not LIVE after {timeout}s: {', '.join(waiting)}")
            await asyncio.sleep(0.01)

    # -- messages -------------------------------------------------------------------------------
    async def _on_msg(self, msg: Any) -> None:
        self.on_message(msg.subject, msg.data)

    def on_message(self, subject: str, data: bytes) -> None:
        """One book message (synchronous; the subscription's callback)."""
        now = time.monotonic_ns()
        m = self._by_subject.get(subject)
        if m is None:
            c = self.counters.setdefault("?", FeedCounters())
            c.messages += 1
            c.unknown_symbol += 1
            return
        c = self.counters[m.venue]
        c.messages += 1
        c.bytes += len(data)
        try:
            msg = decode(data)
        except CodecError:
            c.parse_errors += 1
            self._resync(m, "parse")
            return
        m.last_rx = now
        if msg.kind == DELTA:
            c.depth_messages += 1
        if m.fetching:
            if msg.kind == DELTA:
                m.pending.append(msg)
            return
        if msg.epoch != m.epoch:
            self._resync(m, "reconnect")
            if msg.kind == DELTA:
                m.pending.append(msg)
            return
        if msg.kind == HEARTBEAT:
            if msg.seq != m.seq:
                self._resync(m, "gap")
                return
            m.upstream = msg.state
            self._set_state(m)
            return
        if msg.kind != DELTA:
            return
        if msg.seq <= m.seq:
            c.duplicates += 1
            return
        if msg.seq != m.seq + 1:
            self._resync(m, "gap")
            m.pending.append(msg)
            return
        self._apply(m, msg, now)

    def _apply(self, m: _Mirror, msg: BookMessage, now: int) -> None:
        book = self.bookset.book(m.book_id)
        book.apply_ticks(msg.bids, msg.asks, False, msg.venue_seq, msg.exch_ts, now)
        m.seq = msg.seq
        m.upstream = msg.state
        self._set_state(m)
        self.hop_ns[self.hops % len(self.hop_ns)] = time.monotonic_ns() - msg.pub_ts
        self.hops += 1
        for cb in self.subscribers:
            cb(m.book_id, now)

    def _set_state(self, m: _Mirror) -> None:
        up = m.upstream
        self.bookset.set_state(m.book_id, BookState.LIVE if up == BookState.LIVE else up)

    # -- resync -------------------------------------------------------------------------------
    def _resync(self, m: _Mirror, cause: str | None) -> None:
        if cause is not None:
            self.counters[m.venue].resync(cause)
        m.pending.clear()
        if m.fetching:
            return
        m.fetching = True
        self.bookset.set_state(m.book_id, BookState.SYNCING if m.seq < 0
                               else BookState.RESYNCING)
        self._spawn(self._fetch(m), f"bus:snapshot:{m.snap_subject}")

    async def _fetch(self, m: _Mirror) -> None:
        while not self._stopped:
            try:
                reply = await self.nc.request(m.snap_subject, b"",
                                              timeout=self.snapshot_timeout_s)
                snap = decode(reply.data)
            except Exception as e:  # noqa: BLE001 - no responder, timeout, reconnecting, bad reply
                log.debug("snapshot of %s failed: %r", m.snap_subject, e)
                await asyncio.sleep(self.retry_s)
                continue
            self._sync(m, snap)
            return

    def apply_snapshot(self, subject: str, data: bytes) -> None:
        """Sync the book of ``subject`` from a snapshot message (what a snapshot request
        answers), then the deltas buffered meanwhile."""
        self._sync(self._by_subject[subject], decode(data))

    def _sync(self, m: _Mirror, snap: BookMessage) -> None:
        self.counters[m.venue].snapshots_fetched += 1
        now = time.monotonic_ns()
        book = self.bookset.book(m.book_id)
        book.apply_ticks(snap.bids, snap.asks, True, snap.venue_seq, snap.exch_ts, now)
        m.epoch, m.seq, m.upstream, m.last_rx = snap.epoch, snap.seq, snap.state, now
        m.fetching = False
        pending, m.pending = m.pending, []
        gap = False
        for msg in pending:
            if msg.epoch != m.epoch or msg.seq <= m.seq:
                continue
            if msg.seq != m.seq + 1:
                gap = True
                break
            book.apply_ticks(msg.bids, msg.asks, False, msg.venue_seq, msg.exch_ts, now)
            m.seq, m.upstream = msg.seq, msg.state
        self._set_state(m)
        if gap:
            self._resync(m, "gap")
            return
        for cb in self.subscribers:
            cb(m.book_id, now)

    async def _watch(self) -> None:
        step = max(0.01, self.stale_after_ns / 4e9)
        while True:
            await asyncio.sleep(step)
            now = time.monotonic_ns()
            for m in self._by_subject.values():
                if (not m.fetching and self.bookset.state(m.book_id) == BookState.LIVE
                        and now - m.last_rx > self.stale_after_ns):
                    self.bookset.set_state(m.book_id, BookState.STALE)
                    m.upstream = int(BookState.STALE)

    def _spawn(self, coro: Any, name: str) -> None:
        t = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
