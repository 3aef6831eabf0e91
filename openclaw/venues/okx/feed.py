"""OKX v5 ``books`` feed: pushed snapshot (or REST-seeded) + seqId/prevSeqId chain + CRC32.

Continuity is always checked when the frames carry ``seqId``: an update must name the last
applied ``seqId`` as its ``prevSeqId``. The checksum of the top 25 levels is verified on every
message whose ``checksum`` is not 0 (live OKX has sent 0 since June 2026). A broken chain or a
checksum mismatch resubscribes for a fresh snapshot. If OKX stops pushing the initial snapshot
(docs/venues/okx.md §2.7), updates are buffered and the REST book seeds the chain (§2.8).
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
    KIND_SNAPSHOT,
    BookSync,
    FetchSnapshot,
    Send,
    SubscriptionError,
)
from openclaw.model.instrument import Instrument
from openclaw.venues.okx.depth import OkxDepthDecoder


class OkxSync(BookSync):
    """Sans-IO OKX book sync (live feed and replay)."""

    venue = "okx"
    decoder_type = OkxDepthDecoder
    decoder: OkxDepthDecoder

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        counters: FeedCounters | None = None,
        auto_units: tuple[str, str] | None = None,
        channel: str = "books",
        verify_checksum: bool = True,
    ) -> None:
        self.channel = channel
        self.verify_checksum = verify_checksum
        super().__init__(bookset, instruments, counters, auto_units)

    def _args(self, book_ids: list[int]) -> list[dict[str, str]]:
        return [{"channel": self.channel, "instId": self.instruments[b].symbol} for b in book_ids]

    def subscribe(self, book_ids: list[int]) -> None:
        if book_ids:
            self.actions.append(Send(orjson.dumps({"op": "subscribe",
                                                   "args": self._args(book_ids)}).decode()))

    def on_control(self, raw: bytes) -> bool:
        if raw == b"pong":
            return True
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        if isinstance(msg, dict) and msg.get("event") == "error":
            self.fatal = SubscriptionError(
                "okx", f"code {msg.get('code')}: {msg.get('msg')}")
            return True
        return isinstance(msg, dict)

    def on_depth(self, kind: int, book_id: int, raw: bytes | str, recv_ts: int) -> int:
        dec = self.decoder
        state = self.bookset.state(book_id)
        if kind == KIND_SNAPSHOT:
            self.buffers[book_id].clear()
            return self._apply_checked(book_id, recv_ts)
        if state in (BookState.SYNCING, BookState.RESYNCING):
            # no pushed snapshot (yet): buffer and seed from REST (docs/venues/okx.md §2.8)
            if dec.last_id < 0:
                dec.discard()      # an old-format frame without seqId: wait for a snapshot
                return -1
            if self.buffer(book_id, dec.prev_id, dec.last_id, raw):
                self.actions.append(FetchSnapshot(book_id, self.instruments[book_id]))
            return -1
        return self._chained(book_id, recv_ts)

    def _chained(self, book_id: int, recv_ts: int) -> int:
        """Apply an update if it continues the chain (frames without seqId, as in recordings
        from before 2022-06, carry no chain: the checksum alone guards them)."""
        dec = self.decoder
        if dec.last_id >= 0 and dec.prev_id != self.books[book_id].seq:
            dec.discard()
            self.resync(book_id, "gap")
            return -1
        return self._apply_checked(book_id, recv_ts)

    def _apply_checked(self, book_id: int, recv_ts: int) -> int:
        dec = self.decoder
        has_checksum, expected = dec.has_checksum, dec.checksum
        changed = self.apply(book_id, recv_ts)
        if changed < 0:
            return -1
        if has_checksum and self.verify_checksum:
            if dec.okx_checksum(book_id) != expected:
                self.counters.checksum_failed += 1
                self.resync(book_id, "checksum")
                return -1
            self.counters.checksum_ok += 1
        return changed

    def resync(self, book_id: int, cause: str) -> None:
        super().resync(book_id, cause)
        self.buffers[book_id].clear()
        args = self._args([book_id])
        self.actions.append(Send(orjson.dumps({"op": "unsubscribe", "args": args}).decode()))
        self.actions.append(Send(orjson.dumps({"op": "subscribe", "args": args}).decode()))

    def on_snapshot(self, book_id: int, raw: bytes, recv_ts: int) -> int:
        """REST ``/api/v5/market/books`` seeds the chain of buffered updates."""
        if self.bookset.state(book_id) in (BookState.LIVE, BookState.STALE):
            return -1
        dec = self.decoder
        dec.decode_snapshot(raw, book_id)
        rest_seq = dec.last_id
        buf = self.buffers[book_id]
        if buf and rest_seq < buf[0][0]:
            dec.discard()       # older than the first buffered update's prevSeqId: again
            self.counters.resync("stale_snapshot")
            self.actions.append(FetchSnapshot(book_id, self.instruments[book_id]))
            return -1
        dec.commit(recv_ts)
        self.bookset.set_state(book_id, BookState.LIVE)
        pending, self.buffers[book_id] = buf, []
        first = True
        for prev, seq, raw_event in pending:
            if seq <= rest_seq:
                continue
            dec.decode(raw_event)
            if first:
                first = False
                if not (prev <= rest_seq < seq):
                    dec.discard()
                    self.resync(book_id, "gap")
                    return -1
                if self._apply_checked(book_id, recv_ts) < 0:
                    return -1
                continue
            if self._chained(book_id, recv_ts) < 0:
                return -1
        return self.uncrossed(book_id)


class OkxFeed(VenueConnection):
    """OKX public WebSocket ``books`` channel for a list of instruments."""

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        ws_url: str,
        rest_base: str,
        *,
        config: ConnectionConfig | None = None,
        listener: BookListener | None = None,
        session: aiohttp.ClientSession | None = None,
        counters: FeedCounters | None = None,
    ) -> None:
        if not instruments:
            raise ValueError("an OKX feed needs at least one instrument")
        self.rest_base = rest_base.rstrip("/")
        super().__init__(OkxSync(bookset, instruments, counters), ws_url,
                         config or ConnectionConfig(ping_interval=20.0, data_timeout=30.0),
                         listener, session)

    def ping_frame(self) -> str | None:
        return "ping"

    def snapshot_url(self, fetch: FetchSnapshot) -> str:
        inst = quote(fetch.instrument.symbol)
        return f"{self.rest_base}/api/v5/market/books?instId={inst}&sz=400"


# ---- the venue's entries for the services (``openclaw.venues.registry.FEEDS``) ----------------

def connection(bookset: BookSet, insts: list[tuple[Instrument, int]], endpoints: Any, *,
               category: str, depth: int, config: ConnectionConfig,
               listener: Callable[[int, int], None], session: Any,
               counters: FeedCounters) -> OkxFeed:
    """The aggregator's depth connection for ``insts`` (``endpoints``: ``VenueEndpoints``)."""
    return OkxFeed(bookset, insts, endpoints.ws, endpoints.rest, config=config,
                       listener=listener, session=session, counters=counters)


def replay_sync(bookset: BookSet, counters: FeedCounters, *, category: str,
                auto_units: tuple[str, str]) -> OkxSync:
    """A sync fed from recorded frames (``openclaw-trading replay``)."""
    return OkxSync(bookset, [], counters, auto_units=auto_units)
