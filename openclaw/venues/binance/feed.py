"""Binance spot diff-depth feed, synchronised with the REST snapshot as Binance documents it.

Procedure (docs/venues/binance.md §1.5): buffer stream events; fetch the REST snapshot; refetch
if it is older than the first buffered event; drop events with ``u <= lastUpdateId``; then
apply events while ``U <= id + 1`` (an event with ``u <= id`` is stale and ignored, one with
``U > id + 1`` means events were lost: resync). Because update ids are global per symbol, the
same sync can read two connections at once: a connection rollover before Binance's 24-hour cut
overlaps the old and new sockets, and the duplicates are simply stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from openclaw._core.book import BookSet
from openclaw.feeds.connection import BookListener, ConnectionConfig, VenueConnection
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.feeds.sync import (
    KIND_UPDATE,
    BookSync,
    FetchSnapshot,
    Reconnect,
    SubscriptionError,
)
from openclaw.model.instrument import Instrument
from openclaw.venues.binance.depth import BinanceDepthDecoder


class BinanceSync(BookSync):
    """Sans-IO Binance book sync (live feed and replay)."""

    venue = "binance"
    decoder_type = BinanceDepthDecoder

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        counters: FeedCounters | None = None,
        auto_units: tuple[str, str] | None = None,
    ) -> None:
        self.pending_snapshots: dict[int, bytes] = {}   # arrived before the first event
        super().__init__(bookset, instruments, counters, auto_units)

    def reset_pending(self) -> None:
        super().reset_pending()
        self.pending_snapshots.clear()

    def subscribe(self, book_ids: list[int]) -> None:
        """The streams are in the URL; ask for every snapshot now, so that an unknown symbol
        is refused by the REST API at once (the stream itself stays silent for it)."""
        for book_id in book_ids:
            if self.bookset.state(book_id) not in (BookState.LIVE, BookState.STALE):
                self.actions.append(FetchSnapshot(book_id, self.instruments[book_id]))

    def on_control(self, raw: bytes) -> bool:
        if b"serverShutdown" in raw:
            self.actions.append(Reconnect("serverShutdown"))
            return True
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        if isinstance(msg, dict) and ("code" in msg or "error" in msg):
            self.fatal = SubscriptionError("binance", raw.decode(errors="replace")[:300])
        return isinstance(msg, dict)

    def on_depth(self, kind: int, book_id: int, raw: bytes | str, recv_ts: int) -> int:
        dec = self.decoder
        if kind != KIND_UPDATE:
            dec.discard()
            return -1
        state = self.bookset.state(book_id)
        if state in (BookState.SYNCING, BookState.RESYNCING):
            first = self.buffer(book_id, dec.first_id, dec.last_id, raw)
            early = self.pending_snapshots.pop(book_id, None)
            if early is not None:
                return self.on_snapshot(book_id, early, recv_ts)
            if first:
                self.actions.append(FetchSnapshot(book_id, self.instruments[book_id]))
            return -1
        return self._live_event(book_id, recv_ts)

    def _live_event(self, book_id: int, recv_ts: int) -> int:
        """Apply the decoded event to a synced book by the U/u rule."""
        dec = self.decoder
        book_seq = self.books[book_id].seq
        if dec.last_id <= book_seq:
            dec.discard()
            self.counters.duplicates += 1
            return -1
        if dec.first_id > book_seq + 1:
            dec.discard()
            self.resync(book_id, "gap")
            return -1
        return self.apply(book_id, recv_ts)

    def resync(self, book_id: int, cause: str) -> None:
        super().resync(book_id, cause)
        self.buffers[book_id].clear()   # the next stream event re-requests a snapshot
        self.pending_snapshots.pop(book_id, None)

    def on_snapshot(self, book_id: int, raw: bytes, recv_ts: int) -> int:
        """REST snapshot for ``book_id``: load it, then the buffered events that follow it."""
        if self.bookset.state(book_id) in (BookState.LIVE, BookState.STALE):
            return -1            # a late answer to an old request: the book is already synced
        buf = self.buffers[book_id]
        if not buf:
            self.pending_snapshots[book_id] = raw   # judged against the first event
            return -1
        dec = self.decoder
        dec.decode_snapshot(raw, book_id)
        if dec.last_id < buf[0][0] - 1:
            # older than the stream we hold: fetch again (step 3)
            dec.discard()
            self.counters.resync("stale_snapshot")
            self.actions.append(FetchSnapshot(book_id, self.instruments[book_id]))
            return -1
        dec.commit(recv_ts)
        self.bookset.set_state(book_id, BookState.LIVE)
        pending, self.buffers[book_id] = buf, []
        for _first, last, raw_event in pending:
            if last <= self.books[book_id].seq:
                continue                       # already in the snapshot (step 4)
            dec.decode(raw_event)
            applied = self._live_event(book_id, recv_ts)
            if applied < 0 and self.bookset.state(book_id) != BookState.LIVE:
                return -1                      # a gap inside the buffer: resync requested
        return self.uncrossed(book_id)


class BinanceFeed(VenueConnection):
    """Binance combined diff-depth stream + REST snapshots for a list of instruments."""

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        ws_base: str,
        rest_base: str,
        *,
        speed: str = "@100ms",
        snapshot_limit: int = 5000,
        config: ConnectionConfig | None = None,
        listener: BookListener | None = None,
        session: aiohttp.ClientSession | None = None,
        counters: FeedCounters | None = None,
    ) -> None:
        if not instruments:
            raise ValueError("a Binance feed needs at least one instrument")
        streams = "/".join(f"{inst.symbol.lower()}@depth{speed}" for inst, _ in instruments)
        url = f"{ws_base.rstrip('/')}/stream?streams={streams}"
        self.rest_base = rest_base.rstrip("/")
        self.snapshot_limit = snapshot_limit
        if config is None:
            config = ConnectionConfig(max_age=23.5 * 3600)
        super().__init__(BinanceSync(bookset, instruments, counters), url, config, listener,
                         session)

    def snapshot_url(self, fetch: FetchSnapshot) -> str:
        return (f"{self.rest_base}/api/v3/depth?symbol={quote(fetch.instrument.symbol)}"
                f"&limit={self.snapshot_limit}")


# ---- the venue's entries for the services (``openclaw.venues.registry.FEEDS``) ----------------

def connection(bookset: BookSet, insts: list[tuple[Instrument, int]], endpoints: Any, *,
               category: str, depth: int, config: ConnectionConfig,
               listener: Callable[[int, int], None], session: Any,
               counters: FeedCounters) -> BinanceFeed:
    """The aggregator's depth connection for ``insts`` (``endpoints``: ``VenueEndpoints``)."""
    return BinanceFeed(bookset, insts, endpoints.ws, endpoints.rest, config=config,
                           listener=listener, session=session, counters=counters)


def replay_sync(bookset: BookSet, counters: FeedCounters, *, category: str,
                auto_units: tuple[str, str]) -> BinanceSync:
    """A sync fed from recorded frames (``openclaw-trading replay``)."""
    return BinanceSync(bookset, [], counters, auto_units=auto_units)
