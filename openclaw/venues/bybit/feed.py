"""Bybit v5 public ``orderbook.{depth}.{symbol}`` feed (spot, linear, inverse).

A snapshot (also the ``u == 1`` one after a Bybit restart) replaces the book; a delta must carry
``u == previous u + 1``, otherwise messages were lost and the topic is resubscribed for a fresh
snapshot. One connection serves one category; books are keyed by category + symbol.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from openclaw._core.book import BookSet
from openclaw.feeds.connection import BookListener, ConnectionConfig, VenueConnection
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.feeds.sync import KIND_SNAPSHOT, BookSync, Send, SubscriptionError
from openclaw.model.instrument import Instrument
from openclaw.venues.bybit.depth import BybitDepthDecoder

SPOT_ARGS_PER_REQUEST = 10


class BybitSync(BookSync):
    """Sans-IO Bybit book sync for one category (live feed and replay)."""

    venue = "bybit"
    decoder_type = BybitDepthDecoder

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        counters: FeedCounters | None = None,
        auto_units: tuple[str, str] | None = None,
        depth: int = 50,
        category: str = "spot",
    ) -> None:
        self.depth = depth
        self.category = category
        self._req_ids = itertools.count(1)
        for inst, _ in instruments:
            if inst.category != category:
                raise ValueError(f"{inst.key} is not in category {category!r}")
        super().__init__(bookset, instruments, counters, auto_units)

    def make_instrument(self, symbol: str) -> Instrument:
        return Instrument("bybit", symbol, *self.auto_units,  # type: ignore[misc]
                          category=self.category)

    def _topics(self, book_ids: list[int]) -> list[str]:
        return [f"orderbook.{self.depth}.{self.instruments[b].symbol}" for b in book_ids]

    def _send(self, op: str, topics: list[str]) -> None:
        step = SPOT_ARGS_PER_REQUEST if self.category == "spot" else 100
        for i in range(0, len(topics), step):
            self.actions.append(Send(orjson.dumps(
                {"op": op, "args": topics[i:i + step], "req_id": str(next(self._req_ids))}
            ).decode()))

    def subscribe(self, book_ids: list[int]) -> None:
        if book_ids:
            self._send("subscribe", self._topics(book_ids))

    def on_control(self, raw: bytes) -> bool:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(msg, dict):
            return False
        if msg.get("success") is False:
            self.fatal = SubscriptionError("bybit", str(msg.get("ret_msg", msg))[:300])
        return True

    def on_depth(self, kind: int, book_id: int, raw: bytes | str, recv_ts: int) -> int:
        dec = self.decoder
        if kind == KIND_SNAPSHOT:
            return self.apply(book_id, recv_ts)
        state = self.bookset.state(book_id)
        if state in (BookState.SYNCING, BookState.RESYNCING):
            dec.discard()            # waiting for the snapshot that follows (re)subscription
            return -1
        if dec.last_id != self.books[book_id].seq + 1:
            dec.discard()
            self.resync(book_id, "gap")
            return -1
        return self.apply(book_id, recv_ts)

    def resync(self, book_id: int, cause: str) -> None:
        super().resync(book_id, cause)
        topics = self._topics([book_id])
        self._send("unsubscribe", topics)
        self._send("subscribe", topics)


class BybitFeed(VenueConnection):
    """One Bybit public connection (one category) for a list of instruments."""

    def __init__(
        self,
        bookset: BookSet,
        instruments: list[tuple[Instrument, int]],
        ws_base: str,
        *,
        category: str = "spot",
        depth: int = 50,
        config: ConnectionConfig | None = None,
        listener: BookListener | None = None,
        session: aiohttp.ClientSession | None = None,
        counters: FeedCounters | None = None,
    ) -> None:
        if not instruments:
            raise ValueError("a Bybit feed needs at least one instrument")
        url = f"{ws_base.rstrip('/')}/v5/public/{category}"
        sync = BybitSync(bookset, instruments, counters, depth=depth, category=category)
        super().__init__(sync, url, config or ConnectionConfig(ping_interval=20.0), listener,
                         session)

    def ping_frame(self) -> str | None:
        return '{"op":"ping"}'


# ---- the venue's entries for the services (``openclaw.venues.registry.FEEDS``) ----------------

def connection(bookset: BookSet, insts: list[tuple[Instrument, int]], endpoints: Any, *,
               category: str, depth: int, config: ConnectionConfig,
               listener: Callable[[int, int], None], session: Any,
               counters: FeedCounters) -> BybitFeed:
    """The aggregator's depth connection for ``insts`` (``endpoints``: ``VenueEndpoints``)."""
    return BybitFeed(bookset, insts, endpoints.ws, category=category, depth=depth,
                         config=config, listener=listener, session=session,
                         counters=counters)


def replay_sync(bookset: BookSet, counters: FeedCounters, *, category: str,
                auto_units: tuple[str, str]) -> BybitSync:
    """A sync fed from recorded frames (``openclaw-trading replay``)."""
    return BybitSync(bookset, [], counters, auto_units=auto_units, category=category)
