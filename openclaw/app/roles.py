"""Roles across processes on the bus (``openclaw-trading run FILE --role ROLE``; docs/bus.md).

One run file with ``[bus] url``; each process takes one or more roles:

* ``execution``: keys, risk, journal and routes (``start_system`` without strategies: the only
  role that talks to the venues' trading APIs); answers order intents (``IntentServer`` into
  ``OrderManager.submit``) and writes order events and fills to the JetStream stream;
* ``feed``: venue sockets -> books -> ``BookPublisher`` (the execution role's own books when
  both run in one process, otherwise its own aggregator, and simulators for ``sim`` venues);
* ``strategy``: ``BookSubscriber`` over the run's instruments (books LIVE only when synced) and
  an ``IntentClient``; configured strategies get them as ``ctx.aggregator`` and
  ``ctx.extras["intents"]``;
* ``observer``: a durable reader of the order stream (counts per event in the summary).

Without ``--role`` the run is the single process of ``run_config`` (no server needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from openclaw.app.config import Config, ConfigError
from openclaw.app.runner import (
    RunContext,
    Running,
    check_sim_instruments,
    close_system,
    preflight,
    shutdown_system,
    start_system,
)
from openclaw.bus.books import BookPublisher, BookSubscriber
from openclaw.bus.intents import IntentClient, IntentServer
from openclaw.bus.stream import OrderStream, StreamReader
from openclaw.model.instrument import Instrument
from openclaw.model.venues import crypto_venue

__all__ = ["ROLES", "RoleSet", "run_roles", "start_roles", "stop_roles"]

log = logging.getLogger("openclaw.roles")
ROLES = ("feed", "strategy", "execution", "observer")


@dataclass
class RoleSet:
    """What the roles of one process started (stopped in reverse by ``stop_roles``)."""

    roles: tuple[str, ...]
    nc: Any = None
    running: Running | None = None          # execution: start_system's
    sims: Any = None                        # feed without execution, sim venues
    aggregator: Any = None                  # feed without execution
    publisher: BookPublisher | None = None
    subscriber: BookSubscriber | None = None
    intents: IntentClient | None = None
    server: IntentServer | None = None
    stream: OrderStream | None = None
    reader: StreamReader | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)


def check_roles(cfg: Config, roles: list[str] | tuple[str, ...],
                source: str = "<config>") -> tuple[str, ...]:
    """The roles, validated against the config (ConfigError: unknown role, no ``[bus]``)."""
    errors = [("--role", f"unknown role {r!r}: choose from {', '.join(ROLES)}")
              for r in roles if r not in ROLES]
    if cfg.bus is None:
        errors.append(("bus", "--role needs a [bus] section with url = \"nats://...\""))
    if errors:
        raise ConfigError(source, errors)
    return tuple(dict.fromkeys(roles))


def instruments_of(cfg: Config) -> list[Instrument]:
    """The run's instruments as the feeds and the subscribers name them."""
    return [Instrument(i.venue, i.symbol, str(i.tick_size), str(i.lot_size),
                       category=i.category, base=i.base, quote=i.quote) for i in cfg.instruments]


async def _own_feeds(cfg: Config, rs: RoleSet, *, paper: bool, seed: int, source: str) -> Any:
    """The feed role's aggregator when no execution role runs here (simulators for ``sim``
    venues, as ``start_system`` does)."""
    from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
    from openclaw.feeds.connection import ConnectionConfig
    from openclaw.venues.registry import FEEDS

    endpoints: dict[str, VenueEndpoints] = {}
    if any(v.mode == "sim" for v in cfg.venues.values()):
        from openclaw.sim import start_simulators

        rs.sims = await start_simulators(seed=seed, rate=20)
        check_sim_instruments(cfg, rs.sims, source)
    for name, v in cfg.venues.items():
        if v.mode == "sim":
            s = rs.sims.servers[name]
            endpoints[name] = VenueEndpoints(ws=getattr(s, crypto_venue(name).sim_ws_attr),
                                             rest=s.url)
        else:
            endpoints[name] = VenueEndpoints(ws=v.ws, rest=v.rest)
    f = cfg.feeds
    agg = Aggregator(instruments_of(cfg), endpoints, capacity=f.capacity,
                     bybit_depth=f.bybit_depth, feeds=FEEDS,
                     config=ConnectionConfig(stale_after=f.stale_after_ms / 1e3,
                                             data_timeout=f.data_timeout_ms / 1e3))
    rs.aggregator = agg
    await agg.start()
    await agg.wait_live(30)
    return agg


async def start_roles(cfg: Config, roles: tuple[str, ...], *, paper: bool = False,
                      seed: int = 7, source: str = "<config>",
                      stop: asyncio.Event | None = None) -> RoleSet:
    """Start ``roles`` in this process: execution, then feed, strategy, observer."""
    import nats

    bus = cfg.bus
    assert bus is not None                       # check_roles
    rs = RoleSet(roles)
    rs.nc = await nats.connect(bus.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1,
                               name=f"openclaw:{'+'.join(roles)}")
    try:
        if "execution" in roles:
            rs.running = Running()
            await start_system(cfg, rs.running, paper=paper, seed=seed, source=source,
                               with_strategies=False)
            rs.stream = OrderStream(rs.nc, prefix=bus.prefix, name=bus.stream)
            await rs.stream.start()
            rs.running.manager.after_list.append(rs.stream.on_list)
            rs.server = IntentServer(rs.nc, rs.running.manager, prefix=bus.prefix,
                                     on_answer=rs.stream.on_answer)
            await rs.server.start()
        if "feed" in roles:
            agg = rs.running.aggregator if rs.running is not None else await _own_feeds(
                cfg, rs, paper=paper, seed=seed, source=source)
            rs.publisher = BookPublisher(rs.nc, agg.bookset, agg.instrument_of,
                                         prefix=bus.prefix, heartbeat_s=bus.heartbeat_ms / 1e3)
            agg.subscribe(rs.publisher.on_book)
            await rs.publisher.start()
        if "strategy" in roles:
            entries = preflight(cfg, paper, source)
            rs.subscriber = BookSubscriber(
                rs.nc, instruments_of(cfg), prefix=bus.prefix, capacity=cfg.feeds.capacity,
                stale_after_s=cfg.feeds.stale_after_ms / 1e3,
                snapshot_timeout_s=bus.snapshot_timeout_ms / 1e3)
            await rs.subscriber.start()
            rs.intents = IntentClient(rs.nc, prefix=bus.prefix,
                                      timeout_s=bus.intent_timeout_ms / 1e3,
                                      retries=bus.intent_retries)
            await rs.subscriber.wait_live(30)
            for name, se in entries.items():
                ctx = RunContext(cfg, paper, stop or asyncio.Event(), None, None,
                                 rs.subscriber, None, {"intents": rs.intents},
                                 params=se.params)
                rs.tasks.append(asyncio.create_task(_strategy(name, se.entry, cfg, ctx, rs),
                                                    name=f"strategy:{name}"))
        if "observer" in roles:
            rs.reader = StreamReader(rs.nc, "observer", prefix=bus.prefix, name=bus.stream)
            rs.tasks.append(asyncio.create_task(_observe(rs), name="bus:observer"))
    except BaseException:
        await stop_roles(rs, 1.0)
        raise
    return rs


async def _strategy(name: str, entry: Any, cfg: Config, ctx: RunContext, rs: RoleSet) -> None:
    got = await entry(cfg, ctx)
    if got is not None:
        rs.results[name] = got


async def _observe(rs: RoleSet) -> None:
    assert rs.reader is not None
    while True:
        with contextlib.suppress(Exception):     # server restarting: read again next turn
            rs.events += await rs.reader.read()
        await asyncio.sleep(0.2)


async def stop_roles(rs: RoleSet, drain_timeout: float = 10.0) -> dict[str, Any]:
    """Stop everything ``start_roles`` started; returns the roles' summary."""
    out: dict[str, Any] = {"roles": list(rs.roles)}
    for t in rs.tasks:
        if not t.done():
            t.cancel()
    for t in rs.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t
    if rs.reader is not None:
        with contextlib.suppress(Exception):
            rs.events += await rs.reader.read()
        await rs.reader.close()
        out["observer"] = {"events": dict(Counter(e["event"] for e in rs.events))}
    if rs.subscriber is not None:
        await rs.subscriber.stop()
        out["strategy"] = {**rs.subscriber.stats(), "hop": rs.subscriber.hop_percentiles(),
                           "intent_timeouts": rs.intents.timeouts if rs.intents else 0}
        if rs.results:
            out["strategies"] = rs.results
    if rs.publisher is not None:
        await rs.publisher.stop()
        out["feed"] = {"published": rs.publisher.published,
                       "books": len(rs.publisher.books)}
    if rs.aggregator is not None:
        await rs.aggregator.stop()
    if rs.sims is not None:
        await rs.sims.aclose()
    if rs.running is not None:
        try:
            if rs.server is not None:
                await rs.server.stop(drain_timeout)
                out["intents"] = vars(rs.server.stats).copy()
            out["execution"] = await shutdown_system(rs.running, drain_timeout)
            if rs.stream is not None:
                await rs.stream.stop()
                out["stream"] = {"published": rs.stream.published,
                                 "duplicates": rs.stream.duplicates}
        finally:
            await close_system(rs.running)
    if rs.nc is not None:
        with contextlib.suppress(Exception):
            await rs.nc.close()
    ex = out.get("execution", {})
    out["ok"] = not ex or (bool(ex.get("journal_consistent")) and not ex.get("open_orders")
                           and not ex.get("halted"))
    return out


async def run_roles(cfg: Config, roles: list[str] | tuple[str, ...], *, paper: bool = False,
                    seconds: float | None = None, source: str = "<config>", seed: int = 7,
                    drain_timeout: float = 10.0, stop: asyncio.Event | None = None,
                    install_signals: bool = True) -> dict[str, Any]:
    """Run ``roles`` until ``stop`` (SIGINT/SIGTERM when ``install_signals``) or ``seconds``;
    returns the summary (``ok``: the execution role's journal consistent, nothing open)."""
    chosen = check_roles(cfg, roles, source)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
    try:
        rs = await start_roles(cfg, chosen, paper=paper, seed=seed, source=source, stop=stop)
        log.info("roles running", extra={"roles": list(chosen), "bus": cfg.bus and cfg.bus.url})
        end = None if seconds is None else time.monotonic() + seconds
        while not stop.is_set():
            left = 0.5 if end is None else max(0.0, min(0.5, end - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), left)
            if end is not None and time.monotonic() >= end:
                stop.set()
        return await stop_roles(rs, drain_timeout)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
