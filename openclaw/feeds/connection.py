"""One venue WebSocket connection driving a sans-IO ``BookSync``.

Owns what a socket needs and the sync must not know: connect, heartbeats, a no-data watchdog,
REST snapshot fetches, reconnect with capped exponential backoff and jitter. Every reconnect
puts the books back to syncing and resubscribes; nothing is trusted across a gap.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import websockets

from openclaw.feeds.record import Channel
from openclaw.feeds.state import BookState
from openclaw.feeds.sync import (
    BookSync,
    FetchSnapshot,
    Reconnect,
    Send,
    SubscriptionError,
)

log = logging.getLogger("openclaw.feeds")

BookListener = Callable[[int, int], None]   # (book id, receive timestamp ns)


@dataclass
class ConnectionConfig:
    """Timings of one connection (seconds)."""

    ping_interval: float = 20.0      # application-level ping (OKX text, Bybit op) period
    data_timeout: float = 30.0       # no frame at all for this long -> reconnect
    stale_after: float = 5.0         # a LIVE book without update for this long -> STALE
    backoff_initial: float = 0.1
    backoff_max: float = 10.0
    open_timeout: float = 10.0
    snapshot_timeout: float = 10.0
    max_age: float = 0.0             # > 0: roll the connection over before the venue cuts it


class VenueConnection:
    """Runs one connection of one venue until stopped; books live in the sync's BookSet."""

    def __init__(
        self,
        sync: BookSync,
        url: str,
        config: ConnectionConfig | None = None,
        listener: BookListener | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.sync = sync
        self.url = url
        self.config = config or ConnectionConfig()
        self.listener = listener
        self._session = session
        self._own_session = session is None
        self._stop = asyncio.Event()
        self._ws: websockets.ClientConnection | None = None
        self._last_rx = 0.0
        self._fetching: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()
        self.error: BaseException | None = None
        self.recorder: Channel | None = None     # [record]: every frame, before the sync

    # -- venue hooks ------------------------------------------------------------------------
    def ping_frame(self) -> str | None:
        """The application-level ping this venue wants (None: transport pings suffice)."""
        return None

    def snapshot_url(self, fetch: FetchSnapshot) -> str:
        raise NotImplementedError(f"{self.sync.venue} has no REST snapshot URL")

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, read, reconnect, until ``stop()``; a rejected subscription ends it."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        attempt = 0
        try:
            while not self._stop.is_set():
                try:
                    await self._run_once()
                    attempt = 0
                    if self.sync.fatal is not None:
                        raise self.sync.fatal
                except SubscriptionError as e:
                    self.error = e
                    log.error("%s", e)
                    raise
                except (TimeoutError, OSError, websockets.WebSocketException) as e:
                    log.warning("%s: connection error: %s", self.sync.venue, e)
                finally:
                    self._ws = None
                    self.connected.clear()
                    self.sync.on_disconnect()
                if self._stop.is_set():
                    break
                self.sync.counters.reconnects += 1
                delay = min(self.config.backoff_max, self.config.backoff_initial * 2**attempt)
                attempt += 1
                await self._sleep(delay * (0.5 + random.random() / 2))
        finally:
            for t in list(self._tasks):
                t.cancel()
            if self._own_session and self._session is not None:
                await self._session.close()

    async def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            await self._ws.close()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _connect(self) -> websockets.ClientConnection:
        cfg = self.config
        return await websockets.connect(
            self.url, open_timeout=cfg.open_timeout, max_size=2**24, compression=None,
            ping_interval=20.0, ping_timeout=20.0,
        )

    async def _run_once(self) -> None:
        """One connection's life, including rollovers onto fresh sockets at ``max_age``."""
        ws = await self._connect()
        self._ws = ws
        if self.recorder is not None:
            self.recorder.connect(self.url)
        self._last_rx = time.monotonic()
        self._fetching.clear()
        self.sync.on_connect()
        await self._drain()
        self.connected.set()
        try:
            while ws is not None:
                ws = await self._pump(ws)
                self._ws = ws
        finally:
            if self._ws is not None:
                await self._ws.close()

    async def _pump(self, ws: websockets.ClientConnection) -> websockets.ClientConnection | None:
        """Read ``ws`` until it closes; returns its successor after a rollover, else None.

        Rollover: at ``max_age`` a second socket is opened and read concurrently; once it has
        delivered a depth frame the old one is closed. The sync sees both streams; for Binance
        the overlapping events are duplicates by update id, so no book leaves LIVE.
        """
        cfg = self.config
        watchdog = asyncio.create_task(self._watchdog(ws))
        opened = time.monotonic()
        successor: asyncio.Task[websockets.ClientConnection] | None = None
        try:
            sync = self.sync
            listener = self.listener
            rec = self.recorder
            async for frame in ws:
                recv_ts = time.monotonic_ns()
                if rec is not None:
                    rec.frame(frame, recv_ts)
                self._last_rx = recv_ts / 1e9
                book_id = sync.on_frame(frame, recv_ts)
                if book_id >= 0 and listener is not None:
                    listener(book_id, recv_ts)
                if sync.actions:
                    await self._drain()
                if sync.fatal is not None:
                    raise sync.fatal
                if cfg.max_age and successor is None and time.monotonic() - opened > cfg.max_age:
                    log.info("%s: connection reached max age: rolling over", sync.venue)
                    successor = asyncio.create_task(self._open_successor())
                if successor is not None and successor.done():
                    new_ws = successor.result()
                    await ws.close()
                    return new_ws
            return None
        finally:
            watchdog.cancel()
            if successor is not None and not successor.done():
                successor.cancel()

    async def _open_successor(self) -> websockets.ClientConnection:
        """Open the next socket, subscribe it, and wait for its first depth frame."""
        ws = await self._connect()
        before = self.sync.counters.depth_messages
        self.sync.subscribe(self.sync.book_ids())
        while self.sync.actions:
            action = self.sync.actions.popleft()
            if isinstance(action, Send):
                await ws.send(action.text)
            else:
                self.sync.actions.appendleft(action)
                break
        # frames of the new socket go through the same sync while the old one still reads
        async for frame in ws:
            recv_ts = time.monotonic_ns()
            if self.recorder is not None:
                self.recorder.frame(frame, recv_ts)
            book_id = self.sync.on_frame(frame, recv_ts)
            if book_id >= 0 and self.listener is not None:
                self.listener(book_id, recv_ts)
            if self.sync.counters.depth_messages > before:
                break
        return ws

    async def _watchdog(self, ws: websockets.ClientConnection) -> None:
        """No data -> close (the reader reconnects); app-level pings; STALE marking."""
        cfg = self.config
        last_ping = time.monotonic()
        tick = min(cfg.ping_interval, cfg.data_timeout, cfg.stale_after) / 4
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - self._last_rx > cfg.data_timeout:
                log.warning("%s: no data for %.1fs: reconnecting", self.sync.venue,
                            cfg.data_timeout)
                for book_id in self.sync.book_ids():
                    self.sync.counters.resync("timeout")
                    self.sync.bookset.set_state(book_id, BookState.RESYNCING)
                await ws.close()
                return
            ping = self.ping_frame()
            if ping is not None and now - last_ping >= cfg.ping_interval:
                last_ping = now
                await ws.send(ping)
            self.sync.mark_stale(time.monotonic_ns(), int(cfg.stale_after * 1e9))

    async def _drain(self) -> None:
        """Carry out what the sync asked for."""
        ws = self._ws
        while self.sync.actions:
            action = self.sync.actions.popleft()
            if isinstance(action, Send):
                if ws is not None:
                    await ws.send(action.text)
            elif isinstance(action, FetchSnapshot):
                if action.book_id not in self._fetching:
                    self._fetching.add(action.book_id)
                    task = asyncio.create_task(self._fetch(action))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            elif isinstance(action, Reconnect):
                log.info("%s: reconnect requested: %s", self.sync.venue, action.reason)
                if ws is not None:
                    await ws.close()

    async def _fetch(self, action: FetchSnapshot) -> None:
        """GET the REST snapshot (retrying with backoff) and hand it to the sync."""
        assert self._session is not None
        url = self.snapshot_url(action)
        delay = self.config.backoff_initial
        try:
            while not self._stop.is_set() and self._ws is not None:
                try:
                    timeout = aiohttp.ClientTimeout(total=self.config.snapshot_timeout)
                    async with self._session.get(url, timeout=timeout) as resp:
                        body = await resp.read()
                        if resp.status == 200:
                            break
                        log.warning("%s: snapshot %s -> HTTP %s: %s", self.sync.venue, url,
                                    resp.status, body[:200])
                        if resp.status == 400:
                            self.sync.fatal = SubscriptionError(
                                self.sync.venue, f"snapshot of {action.instrument.key}: "
                                f"{body[:200].decode(errors='replace')}")
                            if self._ws is not None:
                                await self._ws.close()
                            return
                except (TimeoutError, aiohttp.ClientError) as e:
                    log.warning("%s: snapshot %s failed: %s", self.sync.venue, url, e)
                await self._sleep(delay)
                delay = min(self.config.backoff_max, delay * 2)
            else:
                return
        finally:
            self._fetching.discard(action.book_id)
        self.sync.counters.snapshots_fetched += 1
        recv_ts = time.monotonic_ns()
        if self.recorder is not None:
            self.recorder.snapshot(url, action.instrument.key, body, recv_ts)
        book_id = self.sync.on_snapshot(action.book_id, body, recv_ts)
        if book_id >= 0 and self.listener is not None:
            self.listener(book_id, time.monotonic_ns())
        await self._drain()
