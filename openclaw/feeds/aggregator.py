"""Starts the feeds of a set of instruments, owns the BookSet and the merged books.

Subscribers (the signal stage) are told the id of each book that changed and the receive
timestamp; they read the books in place (no copy). A book that changes is merged into its
symbol's cross-venue ``MergedBook`` before anyone is notified.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from openclaw._core.book import BookSet, OrderBook
from openclaw._core.merge import MergedBook
from openclaw.feeds.connection import ConnectionConfig, VenueConnection
from openclaw.feeds.record import Recorder
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.feeds.sync import BookSync
from openclaw.model.instrument import Instrument
from openclaw.model.venues import UnknownVenueError, crypto_venue


class VenueFeed(Protocol):
    """What a venue provides for its depth feed (``venues/<venue>/feed.py``; the app layer
    passes them as ``Aggregator(feeds=openclaw.venues.registry.FEEDS)``)."""

    def connection(self, bookset: BookSet, insts: list[tuple[Instrument, int]],
                   endpoints: VenueEndpoints, *, category: str, depth: int,
                   config: ConnectionConfig, listener: Callable[[int, int], None],
                   session: aiohttp.ClientSession | None,
                   counters: FeedCounters) -> VenueConnection: ...

    def replay_sync(self, bookset: BookSet, counters: FeedCounters, *, category: str,
                    auto_units: tuple[str, str]) -> BookSync: ...

log = logging.getLogger("openclaw.feeds")

BookSubscriber = Callable[[int, int], None]     # (book id, receive timestamp ns)


@dataclass(frozen=True)
class VenueEndpoints:
    """Where a venue is: its WebSocket and REST bases (simulator or live)."""

    ws: str          # Binance ws base, OKX full public URL, Bybit ws base (no /v5/... path)
    rest: str = ""


class Aggregator:
    """All feeds of a configuration in one BookSet, with merged books per symbol."""

    def __init__(
        self,
        instruments: list[Instrument],
        endpoints: dict[str, VenueEndpoints],
        *,
        feeds: Mapping[str, VenueFeed],
        capacity: int = 5000,
        merge_depth: int = 10,
        bybit_depth: int = 50,
        config: ConnectionConfig | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        """``recorder``: every connection's frames also go to its channel (``[record]``)."""
        if not instruments:
            raise ValueError("the aggregator needs at least one instrument")
        seen: set[tuple[str, str]] = set()
        for inst in instruments:
            if (inst.venue, inst.key) in seen:
                raise ValueError(f"instrument {inst.venue}:{inst.key} listed twice")
            seen.add((inst.venue, inst.key))
            if inst.venue not in endpoints:
                raise ValueError(f"no endpoints configured for venue {inst.venue!r}")
            if inst.venue not in feeds:
                raise UnknownVenueError(inst.venue, tuple(feeds))
        self.feeds = feeds
        self.instruments = list(instruments)
        self.endpoints = endpoints
        self.bookset = BookSet(max_books=len(instruments), capacity=capacity)
        self.book_ids: dict[tuple[str, str], int] = {}
        self.instrument_of: dict[int, Instrument] = {}
        for inst in instruments:
            book_id = self.bookset.add(inst.tick_size, inst.lot_size)
            self.book_ids[(inst.venue, inst.key)] = book_id
            self.instrument_of[book_id] = inst
        # merged books: one per normalised pair, over its spot books on every venue
        self.merged: dict[str, MergedBook] = {}
        self._merge_slot: dict[int, tuple[MergedBook, int]] = {}
        by_pair: dict[str, list[int]] = {}
        for book_id, inst in self.instrument_of.items():
            if inst.category == "spot":
                by_pair.setdefault(inst.pair, []).append(book_id)
        for pair, ids in by_pair.items():
            mb = MergedBook([self.bookset.book(i) for i in ids], depth=merge_depth)
            self.merged[pair] = mb
            for slot, i in enumerate(ids):
                self._merge_slot[i] = (mb, slot)
        self.merged_venues = {
            pair: [self.instrument_of[i].venue for i in ids] for pair, ids in by_pair.items()
        }
        self.subscribers: list[BookSubscriber] = []
        self.config = config or ConnectionConfig()
        self.bybit_depth = bybit_depth
        self.counters: dict[str, FeedCounters] = {}
        self.connections: list[VenueConnection] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self.recorder = recorder

    # -- reading ------------------------------------------------------------------------------
    def book(self, venue: str, key: str) -> OrderBook:
        """The live book of ``venue``'s instrument ``key`` (a view: no copy)."""
        try:
            return self.bookset.book(self.book_ids[(venue, key)])
        except KeyError:
            raise KeyError(f"no book for {venue}:{key}") from None

    def state(self, book_id: int) -> BookState:
        return BookState(self.bookset.state(book_id))

    def subscribe(self, callback: BookSubscriber) -> None:
        """Call ``callback(book_id, recv_ts_ns)`` after every change of a book."""
        self.subscribers.append(callback)

    def stats(self) -> dict[str, object]:
        """Counters per venue connection and the state of every book (for CLI and logs)."""
        return {
            "feeds": {name: c.as_dict() for name, c in self.counters.items()},
            "books": {
                f"{inst.venue}:{inst.key}": self.state(b).name
                for b, inst in self.instrument_of.items()
            },
        }

    def on_book(self, book_id: int, recv_ts: int) -> None:
        """A book changed: merge it, tell the subscribers (the feeds call this; a backtest
        too)."""
        self._on_book(book_id, recv_ts)

    def _on_book(self, book_id: int, recv_ts: int) -> None:
        slot = self._merge_slot.get(book_id)
        if slot is not None:
            slot[0].update(slot[1])
        for cb in self.subscribers:
            cb(book_id, recv_ts)

    # -- lifecycle ----------------------------------------------------------------------------
    def build(self) -> list[VenueConnection]:
        """The connections (not started): one per venue stream, each with its sync."""
        if not self.connections:
            self._build()
        return self.connections

    def _build(self) -> None:
        groups: dict[tuple[str, str], list[tuple[Instrument, int]]] = {}
        for book_id, inst in self.instrument_of.items():
            groups.setdefault((inst.venue, inst.category), []).append((inst, book_id))
        for (venue, category), insts in groups.items():
            ep = self.endpoints[venue]
            by_category = crypto_venue(venue).category_in_book_key
            name = f"{venue}:{category}" if by_category else venue
            counters = self.counters.setdefault(name, FeedCounters())
            conn = self.feeds[venue].connection(
                self.bookset, insts, ep, category=category, depth=self.bybit_depth,
                config=self.config, listener=self._on_book, session=self._session,
                counters=counters)
            if self.recorder is not None:
                conn.recorder = self.recorder.channel(venue, category)
            self.connections.append(conn)

    async def start(self) -> None:
        """Open every connection (one asyncio task each)."""
        if self._tasks:
            raise RuntimeError("aggregator already started")
        self._session = aiohttp.ClientSession()
        if not self.connections:    # built ahead (``build``): each opens its own session
            self._build()
        for conn in self.connections:
            self._tasks.append(asyncio.create_task(conn.run(), name=f"feed:{conn.sync.venue}"))

    async def wait_live(self, timeout: float = 10.0) -> None:
        """Wait until every book is LIVE; raises the first feed error, or TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for task in self._tasks:
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if all(self.bookset.state(b) == BookState.LIVE for b in self.instrument_of):
                return
            if loop.time() > deadline:
                waiting = [f"{i.venue}:{i.key}={self.state(b).name}"
                           for b, i in self.instrument_of.items()
                           if self.bookset.state(b) != BookState.LIVE]
                raise TimeoutError(f"books not LIVE after {timeout}s: {', '.join(waiting)}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Close every connection and wait for the tasks to end."""
        for conn in self.connections:
            await conn.stop()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception as e:  # noqa: BLE001 - already reported by wait_live / logs
                log.info("feed task ended with %s", e)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
