"""``openclaw-trading demo``: the triangular-arbitrage case study end to end on the local
simulators.

Starts the Binance, OKX and Bybit simulators (WebSocket depth + REST and WebSocket trading) and a
fake Telegram server, runs feeds -> merged books -> detection -> order lists -> journal -> alerts
for a while, nudging one venue's price now and then so that opportunities appear, then checks the
outcome against the venues' own records: no order lost, none duplicated, the journal consistent
with the venues, P&L per asset from the venues' balances, latency per stage. Orders go through
ccxt (``route="ccxt"``, REST, the default) or the venues' trading WebSockets (``route="ws"``,
openclaw.execution.fast, with ccxt as the counted and alerted fallback while a socket is down).

Journal: ``synchronous="NORMAL"`` by default (``journal_sync``, CLI ``--journal-sync``): every
order is on disk before it is sent and survives ``kill -9``; an OS crash or power cut may lose
the last commits, which here are simulated orders only (docs/journal.md). The send path then
commits inline. ``"FULL"`` (what a live ``openclaw-trading run`` uses) adds an fsync per order list
on the journal's writer thread. The JSON summary says which one ran (``journal_synchronous``).

Imports of ``openclaw.sim`` outside ``openclaw/sim/``: production code does not import the
simulators; the exceptions are the tools whose job includes starting them, because the
simulators are the embedded default venue (``mode = "sim"``, ``--paper``, the demo, the
benchmarks). Each imports them lazily, inside the function that needs them, so nothing else
loads them:
  * ``openclaw/app/demo.py`` (``run_demo``): this demo always runs on the simulators;
  * ``openclaw/app/runner.py``: ``_start_simulators`` (``mode = "sim"`` venues, ``--paper``),
    ``_start_tws_sim`` (an IBKR file without ``port``), ``_start_fake_telegram`` (Telegram
    alerts of an all-simulated run without credentials) and ``check_run_file`` (``openclaw
    config check`` reads the simulated market's tick and lot sizes, as the run checks them);
  * ``openclaw/cli/sim.py``, ``openclaw/cli/ibkr.py``: ``openclaw-trading sim``
    (``openclaw.sim.__main__``: serves the simulators) and ``openclaw-trading ibkr ...``
    without ``--port`` (``openclaw.sim.tws``, in-process);
  * ``openclaw/bench/``: ``feed.py`` (frames from ``SyntheticMarket`` and the OKX checksum),
    ``load.py`` (``default_instruments``; the simulators as a ``python -m openclaw.sim``
    child), ``ibkr.py`` (``tws_universe``; ``python -m openclaw.sim.tws`` as a child) and
    ``orders.py`` (``python -m openclaw.sim`` as a child): benchmarks measure against them.
docs/architecture.md keeps the same list.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from openclaw.alerts import Alerter, TelegramSink
from openclaw.execution.fast import route_report
from openclaw.execution.manager import OrderManager
from openclaw.execution.reconcile import ReconcileConfig, Reconciler
from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.connection import ConnectionConfig
from openclaw.journal import Journal
from openclaw.latency import summarize
from openclaw.model.instrument import Instrument
from openclaw.model.orders import Order
from openclaw.risk.gate import RiskGate
from openclaw.risk.limits import InstrumentLimits, RiskLimits, VenueLimits, build_engine
from openclaw.strategies.triarb import (
    ACKED,
    BOOK,
    RECV,
    RISK,
    SEND,
    SIGNAL,
    SUBMIT,
    ArbPipeline,
)
from openclaw.venues.registry import FEEDS, SIM_URL_KEYS, crypto_venue, make_fast_route

VENUES = ("binance", "okx", "bybit")
#: order entry of the demo's venues: ccxt (REST) or the venues' trading WebSockets
ROUTES = ("ccxt", "ws")
#: kept on ccxt: in 15 s demo runs the WebSocket route cut signal_to_all_acked p50 by 1.5-2x
#: but its p99 was no better (docs/fast-routes.md, "Using it"), and the demo's published numbers
#: and fault tests are ccxt's; ``--route ws`` runs the same demo over the sockets
DEFAULT_ROUTE = "ccxt"
#: the journal's ``synchronous`` levels; the demo trades on simulators only: NORMAL (kill -9
#: safe, inline send-path commit), FULL on request (``--journal-sync full``)
JOURNAL_SYNCS = ("FULL", "NORMAL")
DEFAULT_JOURNAL_SYNC = "NORMAL"
FEES_BPS = {"binance": 10.0, "okx": 10.0, "bybit": 10.0}     # the simulators' taker fees
TELEGRAM_TOKEN = "123456:AAopenclawDemoTokenForTheFakeServer0001"
TELEGRAM_CHAT = "42"
STAGE_PAIRS = {
    "ingest": (RECV, BOOK),
    "signal": (BOOK, SIGNAL),
    "risk": (SIGNAL, RISK),
    "submit": (RISK, SUBMIT),
    "tick_to_order": (RECV, SUBMIT),
    # the router task: its start, the journal commit of all legs, the first leg's request built
    # and handed to its client (ccxt) or written to the socket (fast route)
    "submit_to_send": (SUBMIT, SEND),
    "tick_to_send": (RECV, SEND),
    "signal_to_all_acked": (SIGNAL, ACKED),
}


def stage_latency(rows: np.ndarray) -> dict[str, dict[str, float]]:
    """p50/p99/max/count (us) between the stage pairs of the demo's table."""
    out = {}
    for name, (a, b) in STAGE_PAIRS.items():
        ok = (rows[:, a] > 0) & (rows[:, b] > 0)
        s = summarize(rows[ok, b] - rows[ok, a])
        out[name] = {k: s.get(k, 0.0) for k in ("p50", "p99", "max", "count")}
    return out


async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as r:
        r.raise_for_status()
        return await r.json()


async def run_demo(seconds: float = 30.0, seed: int = 7, journal_path: str | None = None,
                   show: bool = True, slippage_bps: float = 15.0,
                   route: str = DEFAULT_ROUTE,
                   journal_sync: str = DEFAULT_JOURNAL_SYNC) -> dict[str, Any]:
    """Run the pipeline for ``seconds``; returns the summary (the ``--json`` object).

    ``route``: ``"ccxt"`` sends every order through ccxt's REST calls, ``"ws"`` through each
    venue's trading WebSocket (ccxt while a socket is down; queries stay on ccxt).
    ``journal_sync``: the journal's ``synchronous`` level, ``"NORMAL"`` (default: simulators
    only, kill -9 safe) or ``"FULL"`` (also power-loss safe; what live runs use)."""
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, not {route!r}")
    sync = journal_sync.upper()
    if sync not in JOURNAL_SYNCS:
        raise ValueError(f"journal_sync must be one of {JOURNAL_SYNCS}, not {journal_sync!r}")
    from openclaw.sim import start_simulators
    from openclaw.sim.telegram import TelegramSim

    sims = await start_simulators(seed=seed, rate=20)
    tg = await TelegramSim(TELEGRAM_TOKEN).start()
    tmp = tempfile.mkdtemp(prefix="openclaw-demo-")
    journal = await Journal.open(journal_path or str(Path(tmp) / "journal.sqlite"),
                                 synchronous=sync)  # type: ignore[arg-type]  # checked above
    alerter = await Alerter([TelegramSink(TELEGRAM_TOKEN, TELEGRAM_CHAT, base_url=tg.url,
                                          min_interval=0.0)]).start()
    instruments = []
    for venue in VENUES:
        for spec in sims.market.instruments(venue, "spot"):
            base, quote = spec.symbol.split("/")
            instruments.append(Instrument(venue, spec.venue_symbol, spec.tick, spec.lot,
                                          base=base, quote=quote))
    endpoints = {v: VenueEndpoints(ws=getattr(sims.servers[v], crypto_venue(v).sim_ws_attr),
                                   rest=sims.servers[v].url) for v in VENUES}
    agg = Aggregator(instruments, endpoints, config=ConnectionConfig(stale_after=2.0), feeds=FEEDS)
    creds = Credentials.simulator()
    routes = {v: VenueRoute(v, make_client(v, creds, sims.servers[v].url),
                            fast=make_fast_route(v, sims.urls[v][SIM_URL_KEYS[v]], creds,
                                                 alerter=alerter) if route == "ws" else None)
              for v in VENUES}
    router = Router(routes, journal)
    gate = _risk_gate(agg)
    # journal vs venues after each arbitrage and every 5 s; a mismatch halts (engine + pipeline)
    reconciler = Reconciler(router, journal, config=ReconcileConfig(interval_s=5.0),
                            alerter=alerter, engine=gate.engine, risk=gate)
    router.resolver.on_update.append(gate.on_order_update)   # settled legs reach the engine
    manager = OrderManager(router, risk=gate, partial_policy="unwind", alerter=alerter,
                           reconciler=reconciler)
    all_orders = manager.orders
    pipeline = ArbPipeline(
        agg, manager, FEES_BPS, min_profit_bps=1.0, cooldown_ms=300, max_book_age_ms=2000,
        max_start={(v, a): amt for v in VENUES
                   for a, amt in (("USDT", 3000.0), ("BTC", 0.05), ("ETH", 1.0))},
        slippage_bps=slippage_bps)
    rng = random.Random(seed)
    summary: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        try:
            for r in routes.values():
                await r.start()
            await router.recover()        # a reused journal: settle what a crash left open
            await reconciler.snapshot()   # the baseline: venues' balances before trading
            reconciler.start()
            start_bal = {v: (await _get(http, f"{sims.servers[v].url}/_sim/balances"))["balances"]
                         for v in VENUES}
            for v, bal in start_bal.items():
                for asset, amount in bal.items():
                    if asset in gate.index.assets:
                        gate.engine.set_balance(gate.index.venue(v), gate.index.asset(asset),
                                                gate.index.to_asset_units(asset, _total(amount)))
            await agg.start()
            await agg.wait_live(15)
            # start-up garbage is moved out of the collector's way: no ms-long gen-2 pauses
            # over objects that live for the whole run
            gc.collect()
            gc.freeze()
            t_end = time.monotonic() + seconds
            next_nudge = time.monotonic() + 1.0
            live = _live_view(agg, pipeline) if show else None
            if live is not None:
                live.start()
            try:
                while time.monotonic() < t_end:
                    await asyncio.sleep(0.25)
                    if time.monotonic() >= next_nudge:
                        venue = rng.choice(VENUES)
                        sym = rng.choice(["BTC/USDT", "ETH/USDT", "ETH/BTC"])
                        sims.servers[venue].market.dislocate(
                            venue, sym, rng.choice([-1, 1]) * rng.uniform(40, 80))
                        next_nudge = time.monotonic() + rng.uniform(1.0, 2.5)
                    if live is not None:
                        live.update(_render(agg, pipeline))
            finally:
                if live is not None:
                    live.stop()
            await pipeline.drain(15)
            await agg.stop()
            await router.reconcile_unknown(all_orders)
            await router.resolver.settle(router.visibility_window_s + 5.0)
            await reconciler.stop()
            await reconciler.run_once()   # the final word: journal vs venues after the run
            end_bal = {v: (await _get(http, f"{sims.servers[v].url}/_sim/balances"))["balances"]
                       for v in VENUES}
            venue_orders = {v: (await _get(http, f"{sims.servers[v].url}/_sim/orders"))["orders"]
                            for v in VENUES}
            marks = {}
            for pair in ("BTC/USDT", "ETH/USDT"):
                bid, ask = agg.merged[pair].best_bid(), agg.merged[pair].best_ask()
                if bid and ask:
                    marks[pair.split("/")[0]] = (bid[0] + ask[0]) / 2
            summary = await _summarize(seconds, pipeline, journal, all_orders, venue_orders,
                                       start_bal, end_bal)
            summary.update(_route_summary(routes, venue_orders, pipeline))
            js = journal.stats()
            summary["journal_synchronous"] = journal.synchronous
            summary["journal_inline"] = journal.inline
            summary["journal_inline_writes"] = js.inline_writes
            summary["journal_inline_busy"] = js.inline_busy
            summary["pnl_usdt_marked"] = summary["pnl"].get("USDT", 0.0) + sum(
                summary["pnl"].get(asset, 0.0) * px for asset, px in marks.items())
            # the same keys as openclaw-trading run's summary
            summary.update(reconciler.summary())
            await alerter.flush(5.0)
            summary["alerts_delivered"] = len(tg.messages)
        finally:
            gc.unfreeze()
            await reconciler.stop()
            await router.aclose()
            for r in routes.values():
                await r.close()
            await alerter.aclose()
            await journal.close()
            await tg.stop()
            await sims.aclose()
    return summary


async def _summarize(seconds: float, pipeline: ArbPipeline, journal: Journal,
                     orders: list[Order], venue_orders: dict[str, list[dict[str, Any]]],
                     start_bal: dict[str, dict[str, Any]], end_bal: dict[str, dict[str, Any]]
                     ) -> dict[str, Any]:
    ours = {o.client_id: o for o in orders}
    at_venues: Counter[str] = Counter()
    venue_filled: dict[str, Decimal] = {}
    for vos in venue_orders.values():
        for vo in vos:
            cid = vo.get("client_id") or ""
            if pipeline.ids.owns(cid):
                at_venues[cid] += 1
                venue_filled[cid] = Decimal(vo["filled"])
    # lost: the venue holds an order we do not know, or we believe filled what the venue lacks
    lost = [c for c in at_venues if c not in ours]
    lost += [c for c, o in ours.items() if o.filled_qty > 0 and c not in at_venues]
    duplicates = [c for c, n in at_venues.items() if n > 1]
    consistent = not await journal.consistency_check()
    for cid, o in ours.items():
        row = await journal.order(cid)
        if row is None or row.filled_qty != o.filled_qty or (
                cid in venue_filled and venue_filled[cid] != o.filled_qty):
            consistent = False
    pnl: dict[str, float] = {}
    for v in start_bal:
        for asset, amount in end_bal[v].items():
            total = Decimal(_total(amount)) - Decimal(_total(start_bal[v].get(asset, "0")))
            pnl[asset] = pnl.get(asset, 0.0) + float(total)
    rows = pipeline.clock.snapshot()
    s, ms = pipeline.stats, pipeline.manager.stats
    return {
        "seconds": seconds,
        "opportunities": s.opportunities,
        "arbitrages": s.arbitrages,
        "orders": len(orders),
        "fills": sum(len(o.fills) for o in orders),
        "unwinds": ms.unwinds,
        "incomplete": ms.incomplete,
        "unwind_refused": ms.unwind_refused,
        "pipeline_errors": ms.errors,
        "lost_orders": len(lost),
        "duplicate_orders": len(duplicates),
        "journal_consistent": consistent,
        "pnl": pnl,
        "latency_us": stage_latency(rows),
        "book_events": int(pipeline.clock.n_events),
        "refused_by_risk": ms.refused_by_risk,
        "last_refusal": ms.last_refusal,
    }


def _route_summary(routes: dict[str, VenueRoute], venue_orders: dict[str, list[dict[str, Any]]],
                   pipeline: ArbPipeline) -> dict[str, Any]:
    """Per venue: the order route (``"ws"``/``"ccxt"``), the route's counters (the fast
    route's own under ``ws_*``) and how the venue says our orders arrived (its ``via``)."""
    via: dict[str, dict[str, int]] = {}
    for v in routes:
        via[v] = dict(Counter(str(vo.get("via")) for vo in venue_orders.get(v, [])
                              if pipeline.ids.owns(vo.get("client_id") or "")))
    return {"route": {v: "ws" if r.fast is not None else "ccxt" for v, r in routes.items()},
            "route_stats": {v: route_report(r) for v, r in routes.items()},
            "orders_via": via}


def _risk_gate(agg: Aggregator) -> RiskGate:
    """Risk limits for the demo's instruments: conformance, a 100 bps collar, fresh LIVE books,
    at most 5,000 USDT (0.1 BTC on ETH/BTC) per order, a throttle and open-order cap per venue."""
    instruments, books, symbols = [], {}, {}
    for book_id, inst in agg.instrument_of.items():
        cap = "0.1" if inst.quote == "BTC" else "5000"
        instruments.append(InstrumentLimits(
            venue=inst.venue, symbol=inst.symbol, base=inst.base, quote=inst.quote,
            tick_size=Decimal(inst.tick_size), lot_size=Decimal(inst.lot_size),
            max_order_notional=Decimal(cap), collar_bps=Decimal(100), max_book_age_ms=2000))
        books[(inst.venue, inst.symbol)] = agg.bookset.book(book_id)
        symbols[(inst.venue, f"{inst.base}/{inst.quote}")] = inst.symbol
    limits = RiskLimits(
        venues=[VenueLimits(name=v, max_orders=50, interval_ms=1000, max_open_orders=30)
                for v in VENUES],
        instruments=instruments)
    engine = build_engine(limits)
    return RiskGate(engine, engine.index, books, symbols)


def _total(amount: Any) -> str:
    if isinstance(amount, dict):
        return str(amount.get("total", Decimal(str(amount.get("free", 0)))
                              + Decimal(str(amount.get("locked", 0)))))
    return str(amount)


def _render(agg: Aggregator, pipeline: ArbPipeline) -> Any:
    from rich.console import Group
    from rich.table import Table

    books = Table(title="books (best bid / best ask)")
    for col in ("instrument", "state", "bid", "ask"):
        books.add_column(col)
    for book_id, inst in agg.instrument_of.items():
        b = agg.bookset.book(book_id)
        bb, ba = b.best_bid(), b.best_ask()
        books.add_row(f"{inst.venue}:{inst.symbol}", agg.state(book_id).name,
                      f"{bb[0]:.6g}" if bb else "-", f"{ba[0]:.6g}" if ba else "-")
    s, ms = pipeline.stats, pipeline.manager.stats
    stats = Table(title="pipeline")
    for col in ("opportunities", "arbitrages", "orders", "filled legs", "incomplete",
                "busy skips"):
        stats.add_column(col)
    stats.add_row(str(s.opportunities), str(s.arbitrages), str(ms.orders), str(ms.filled_legs),
                  str(ms.incomplete), str(s.skipped_busy))
    lat = Table(title="latency (us) this run")
    for col in ("stage", "p50", "p99", "max", "count"):
        lat.add_column(col)
    for name, v in stage_latency(pipeline.clock.snapshot()).items():
        lat.add_row(name, *(f"{v[k]:,.1f}" for k in ("p50", "p99", "max")), str(int(v["count"])))
    return Group(books, stats, lat)


def _live_view(agg: Aggregator, pipeline: ArbPipeline) -> Any:
    from rich.live import Live

    return Live(_render(agg, pipeline), refresh_per_second=4, transient=False)
