"""Sans-IO book synchronisation shared by the venue feeds.

A ``BookSync`` turns raw frames into applied books and says what the connection must do next
(send a frame, fetch a REST snapshot, reconnect) as actions; it never touches a socket. The live
feed and ``openclaw-trading replay`` drive the same object, so replay exercises exactly the live
path.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from openclaw._core.book import BookSet, OrderBook
from openclaw._core.wire import DepthDecoder
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.model.errors import MessageFormatError, OpenclawError, PriceParseError
from openclaw.model.instrument import Instrument

log = logging.getLogger("openclaw.feeds")

KIND_OTHER, KIND_SNAPSHOT, KIND_UPDATE = 0, 1, 2
MAX_BUFFER = 10_000     # events held per book while it waits for a snapshot


class SubscriptionError(OpenclawError):
    """The venue refused a subscription (unknown symbol, bad topic): not retried blindly."""

    def __init__(self, venue: str, detail: str) -> None:
        self.venue = venue
        self.detail = detail
        super().__init__(f"{venue} rejected the subscription: {detail}")


@dataclass(frozen=True)
class Send:
    """Send this text frame on the connection."""

    text: str


@dataclass(frozen=True)
class FetchSnapshot:
    """Fetch the REST depth snapshot of this book and hand it to ``on_snapshot``."""

    book_id: int
    instrument: Instrument


@dataclass(frozen=True)
class Reconnect:
    """Close and reopen the connection (the venue announced a shutdown, say)."""

    reason: str


class BookSync:
    """Common machinery: decode, route, commit, crossed/stale checks, resync bookkeeping.

    A venue's subclass names the venue and its depth decoder (the ``DepthDecoder`` subclass
    of ``venues/<venue>/depth.pyx``)."""

    venue = ""
    decoder_type: Callable[[BookSet], DepthDecoder] | None = None

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        counters: FeedCounters | None = None,
        auto_units: tuple[str, str] | None = None,
    ) -> None:
        """``instruments``: (instrument, book id) pairs already added to ``bookset``.

        ``auto_units`` (replay only): create a book with these (tick, lot) units for any symbol
        that shows up; a live feed leaves it None and counts unknown symbols as errors.
        """
        self.bookset = bookset
        if self.decoder_type is None:
            raise TypeError(f"{type(self).__name__} names no depth decoder (decoder_type)")
        self.decoder = self.decoder_type(bookset)
        self.counters = counters or FeedCounters()
        self.instruments: dict[int, Instrument] = {}
        self.books: dict[int, OrderBook] = {}     # views made once, read on every frame
        # raw events held while a book waits for its snapshot: (id, id, frame) per book
        self.buffers: dict[int, list[tuple[int, int, bytes]]] = {}
        self.actions: deque[Send | FetchSnapshot | Reconnect] = deque()
        self.fatal: OpenclawError | None = None
        self.auto_units = auto_units
        for inst, book_id in instruments:
            self.add(inst, book_id)

    # -- set-up -------------------------------------------------------------------------------
    def add(self, inst: Instrument, book_id: int) -> None:
        if inst.venue != self.venue:
            raise ValueError(f"{inst} is not a {self.venue} instrument")
        self.decoder.register(inst.symbol, book_id)
        self.instruments[book_id] = inst
        self.books[book_id] = self.bookset.book(book_id)
        self.buffers[book_id] = []
        self.bookset.set_state(book_id, BookState.SYNCING)

    def _auto_add(self, symbol: bytes) -> int:
        """Replay: make a book for a symbol first seen in the recording."""
        assert self.auto_units is not None
        inst = self.make_instrument(symbol.decode())
        book_id = self.bookset.add(*self.auto_units)
        self.add(inst, book_id)
        return book_id

    def make_instrument(self, symbol: str) -> Instrument:
        return Instrument(self.venue, symbol, *self.auto_units)  # type: ignore[misc]

    def book_ids(self) -> list[int]:
        return list(self.instruments)

    def state(self, book_id: int) -> BookState:
        return BookState(self.bookset.state(book_id))

    # -- frames -------------------------------------------------------------------------------
    def on_connect(self) -> None:
        """A (re)connection opened: every book starts syncing; queue the subscribe frames."""
        for book_id in self.instruments:
            self.bookset.set_state(book_id, BookState.SYNCING)
        self.reset_pending()
        self.subscribe(list(self.instruments))

    def on_disconnect(self) -> None:
        """The connection dropped: books can no longer be trusted until resynced."""
        for book_id in self.instruments:
            if self.bookset.state(book_id) in (BookState.LIVE, BookState.STALE):
                self.bookset.set_state(book_id, BookState.RESYNCING)

    def on_frame(self, raw: bytes | str, recv_ts: int) -> int:
        """Handle one frame; returns the id of the book it changed, or -1."""
        c = self.counters
        c.messages += 1
        c.bytes += len(raw)
        dec = self.decoder
        try:
            kind = dec.decode(raw)
        except PriceParseError as e:
            c.parse_errors += 1
            log.warning("%s: bad level in depth message: %s", self.venue, e)
            if dec.book_id >= 0:      # this book missed an update: it cannot be trusted
                self.resync(dec.book_id, "parse")
            return -1
        except MessageFormatError as e:
            if isinstance(raw, (bytes, bytearray)):
                text = bytes(raw)
            else:
                text = raw.encode()
            if self.on_control(text):
                return -1
            c.parse_errors += 1
            log.warning("%s: %s", self.venue, e)
            return -1
        if kind == KIND_OTHER:
            self.on_control(raw if isinstance(raw, bytes) else raw.encode())
            return -1
        c.depth_messages += 1
        book_id = dec.book_id
        if book_id < 0:
            if self.auto_units is None:
                c.unknown_symbol += 1
                log.warning("%s: depth message for unsubscribed symbol %r", self.venue, dec.symbol)
                return -1
            book_id = self._auto_add(dec.symbol)
            kind = dec.decode(raw)
        return self.on_depth(kind, book_id, raw, recv_ts)

    def apply(self, book_id: int, recv_ts: int) -> int:
        """Commit the decoded message; a crossed result is a resync, never a signal."""
        self.decoder.commit(recv_ts)
        if self.uncrossed(book_id) < 0:
            return -1
        self.bookset.set_state(book_id, BookState.LIVE)
        return book_id

    def uncrossed(self, book_id: int) -> int:
        """``book_id`` if its book is not crossed; otherwise a counted resync and -1."""
        if self.books[book_id].is_crossed():
            self.resync(book_id, "crossed")
            return -1
        return book_id

    def mark_stale(self, now_ns: int, max_age_ns: int) -> list[int]:
        """LIVE books without an update for ``max_age_ns`` become STALE; returns their ids."""
        out = []
        for book_id in self.instruments:
            if self.bookset.state(book_id) == BookState.LIVE:
                if now_ns - self.books[book_id].recv_ts > max_age_ns:
                    self.bookset.set_state(book_id, BookState.STALE)
                    out.append(book_id)
        return out

    # -- venue hooks --------------------------------------------------------------------------
    def subscribe(self, book_ids: list[int]) -> None:
        """Queue the frames that (re)subscribe these books (venue specific)."""

    def reset_pending(self) -> None:
        """Forget buffered events (a new connection starts from scratch)."""
        for buf in self.buffers.values():
            buf.clear()

    def buffer(self, book_id: int, first: int, last: int, raw: bytes | str) -> bool:
        """Hold a decoded event until the snapshot (bounded); True if it is the first held."""
        buf = self.buffers[book_id]
        if len(buf) >= MAX_BUFFER:
            buf.pop(0)
        buf.append((first, last, raw if isinstance(raw, bytes) else raw.encode()))
        self.decoder.discard()
        return len(buf) == 1

    def on_control(self, raw: bytes) -> bool:
        """A non-depth frame (ack, pong, error). True if it was understood."""
        return False

    def on_depth(self, kind: int, book_id: int, raw: bytes | str, recv_ts: int) -> int:
        raise NotImplementedError

    def on_snapshot(self, book_id: int, raw: bytes, recv_ts: int) -> int:
        """A REST snapshot arrived for ``book_id``."""
        raise NotImplementedError(f"{self.venue} does not use REST snapshots")

    def resync(self, book_id: int, cause: str) -> None:
        """Distrust ``book_id``: count the cause and start a fresh sync (venue specific)."""
        self.counters.resync(cause)
        self.bookset.set_state(book_id, BookState.RESYNCING)
        log.info("%s %s: resync (%s)", self.venue, self.instruments[book_id].key, cause)
