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
  * ``openclaw/app/demo.py`` (``demo_config``: the simulated market's instruments; the run
    starts the simulators through ``start_system``): this demo always runs on the simulators;
  * ``openclaw/app/runner.py``: ``_start_simulators`` (``mode = "sim"`` venues, ``--paper``),
    ``_start_tws_sim`` (an IBKR file without ``port``), ``_start_fake_telegram`` (Telegram
    alerts of an all-simulated run without credentials) and ``check_run_file`` (``openclaw
    config check`` reads the simulated market's tick and lot sizes, as the run checks them);
  * ``openclaw/app/roles.py``: ``_own_feeds`` (the bus's feed role without an execution role
    in its process, ``mode = "sim"`` venues: its own simulators, as ``start_system`` does);
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
from typing import Any, Protocol

import aiohttp
import numpy as np
import orjson

from openclaw.app.config import Config, RecordConfig
from openclaw.app.runner import Running, close_system, shutdown_system, start_system
from openclaw.execution.fast import route_report
from openclaw.execution.router import VenueRoute
from openclaw.feeds.aggregator import Aggregator
from openclaw.journal import Journal
from openclaw.latency import GcPauses, freeze_startup_heap, summarize
from openclaw.model.orders import Order
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
#: the demo's alerts go to the local fake Telegram server unless these two are set (then to
#: that chat, like any run's)
TELEGRAM_TOKEN_ENV = "OPENCLAW_DEMO_TELEGRAM_TOKEN"
TELEGRAM_CHAT_ENV = "OPENCLAW_DEMO_TELEGRAM_CHAT"
STAGE_PAIRS = {
    "ingest": (RECV, BOOK),
    "signal": (BOOK, SIGNAL),
    "risk": (SIGNAL, RISK),
    "submit": (RISK, SUBMIT),
    "tick_to_order": (RECV, SUBMIT),
    # the order manager's task: its start, the journal commit of all legs, the first leg's
    # request built and handed to its client (ccxt) or written to the socket (fast route)
    "submit_to_send": (SUBMIT, SEND),
    "tick_to_send": (RECV, SEND),
    "signal_to_all_acked": (SIGNAL, ACKED),
}


def demo_config(*, seed: int = 7, route: str = DEFAULT_ROUTE, journal_path: str,
                journal_sync: str = DEFAULT_JOURNAL_SYNC, slippage_bps: float = 15.0,
                intent_log: bool | None = None) -> Config:
    """The demo as a run configuration: the three simulated venues with every spot market the
    simulated market lists, triangular arbitrage tuned for its nudges, default risk limits,
    reconciliation every 5 s, Telegram alerts (the fake server unless configured)."""
    from openclaw.sim.engine.market import SyntheticMarket  # the simulators' instruments

    market = SyntheticMarket(seed)
    instruments = []
    for venue in VENUES:
        for spec in market.instruments(venue, "spot"):
            base, quote = spec.symbol.split("/")
            instruments.append({"venue": venue, "symbol": spec.venue_symbol,
                                "tick_size": spec.tick, "lot_size": spec.lot,
                                "base": base, "quote": quote})
    return Config.model_validate({
        "venues": {v: {"mode": "sim", "route": route, "taker_fee_bps": FEES_BPS[v]}
                   for v in VENUES},
        "instruments": instruments,
        "strategy": {"triarb": {"min_profit_bps": 1.0, "cooldown_ms": 300,
                                "max_book_age_ms": 2000, "slippage_bps": slippage_bps}},
        "journal": {"path": journal_path, "synchronous": journal_sync,
                    "intent_log": intent_log},
        "feeds": {"stale_after_ms": 2000},
        "reconcile": {"interval_s": 5.0},
        "alerts": {"telegram": {"token_env": TELEGRAM_TOKEN_ENV, "chat_env": TELEGRAM_CHAT_ENV}},
    })


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


class DemoView(Protocol):
    """What shows a running demo (the CLI's live tables: cli/render.py)."""

    def start(self, aggregator: Aggregator, pipeline: ArbPipeline) -> None: ...

    def update(self) -> None: ...

    def stop(self) -> None: ...


async def run_demo(seconds: float = 30.0, seed: int = 7, journal_path: str | None = None,
                   view: DemoView | None = None, slippage_bps: float = 15.0,
                   route: str = DEFAULT_ROUTE,
                   journal_sync: str = DEFAULT_JOURNAL_SYNC,
                   intent_log: bool | None = None,
                   record: str | None = None) -> dict[str, Any]:
    """Run the pipeline for ``seconds``; returns the summary (the ``--json`` object).

    The demo is ``demo_config`` run by the same wiring as ``openclaw-trading run``
    (``start_system``, ``shutdown_system``), plus the market nudges and the checks against the
    simulators' own records. ``route``: ``"ccxt"`` sends every order through ccxt's REST calls,
    ``"ws"`` through each venue's trading WebSocket (ccxt while a socket is down; queries stay
    on ccxt). ``journal_sync``: the journal's ``synchronous`` level, ``"NORMAL"`` (default:
    simulators only, kill -9 safe) or ``"FULL"`` (also power-loss safe; what live runs use).
    ``intent_log``: the send path through the journal's intent log (None: on with NORMAL).
    ``record``: a directory to record the run into (``[record]``: frames, snapshots, orders,
    configuration, measured leg latencies; ``run.json`` holds this summary)."""
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, not {route!r}")
    sync = journal_sync.upper()
    if sync not in JOURNAL_SYNCS:
        raise ValueError(f"journal_sync must be one of {JOURNAL_SYNCS}, not {journal_sync!r}")
    path = journal_path or str(Path(tempfile.mkdtemp(prefix="openclaw-demo-")) / "journal.sqlite")
    cfg = demo_config(seed=seed, route=route, journal_path=path, journal_sync=sync,
                      slippage_bps=slippage_bps, intent_log=intent_log)
    if record:
        cfg = cfg.model_copy(update={"record": RecordConfig(dir=record)})
    r = Running()
    pauses = GcPauses()
    rng = random.Random(seed)
    summary: dict[str, Any] = {}
    try:
        await start_system(cfg, r, paper=False, seed=seed, source="<demo>")
        sims, agg, pipeline = r.sims, r.aggregator, r.pipeline
        # start-up garbage is moved out of the collector's way: no ms-long gen-2 pauses over
        # objects that live for the whole run; the pauses left are timed
        freeze_startup_heap()
        pauses.install()
        t_end = time.monotonic() + seconds
        next_nudge = time.monotonic() + 1.0
        if view is not None:
            view.start(agg, pipeline)
        try:
            while time.monotonic() < t_end:
                await asyncio.sleep(0.25)
                if time.monotonic() >= next_nudge:
                    venue = rng.choice(VENUES)
                    sym = rng.choice(["BTC/USDT", "ETH/USDT", "ETH/BTC"])
                    sims.servers[venue].market.dislocate(
                        venue, sym, rng.choice([-1, 1]) * rng.uniform(40, 80))
                    next_nudge = time.monotonic() + rng.uniform(1.0, 2.5)
                if view is not None:
                    view.update()
        finally:
            if view is not None:
                view.stop()
        marks = {}
        for pair in ("BTC/USDT", "ETH/USDT"):
            bid, ask = agg.merged[pair].best_bid(), agg.merged[pair].best_ask()
            if bid and ask:
                marks[pair.split("/")[0]] = (bid[0] + ask[0]) / 2
        # what ``run`` reports (drain, settle, final reconciliation, the venues' record) ...
        summary = await shutdown_system(r, drain_timeout=15.0)
        # ... and the demo's own checks against the simulators' records
        async with aiohttp.ClientSession() as http:
            end_bal = {v: (await _get(http, f"{sims.servers[v].url}/_sim/balances"))["balances"]
                       for v in VENUES}
            venue_orders = {v: (await _get(http, f"{sims.servers[v].url}/_sim/orders"))["orders"]
                            for v in VENUES}
        start_bal = {v: {a: str(x) for a, x in bal.items()}
                     for v, bal in r.reconciler.start_balances.items()}
        summary.update(await _summarize(seconds, pipeline, r.journal, r.manager.orders,
                                        venue_orders, start_bal, end_bal))
        summary.update(_route_summary(r.routes, venue_orders, pipeline))
        js = r.journal.stats()
        summary["journal_inline_writes"] = js.inline_writes
        summary["journal_inline_busy"] = js.inline_busy
        summary["journal_intent_log"] = r.journal.intent_log is not None
        summary["journal_intent_writes"] = js.intent_writes
        summary["journal_intent_fallbacks"] = js.intent_fallbacks
        summary["journal_intent_max_us"] = js.intent_max_us
        summary["pnl_usdt_marked"] = summary["pnl"].get("USDT", 0.0) + sum(
            summary["pnl"].get(asset, 0.0) * px for asset, px in marks.items())
        summary.setdefault("alerts_delivered", None)    # None: sent to a configured chat
        summary["gc"] = pauses.report()
        if record:
            Path(record, "run.json").write_bytes(orjson.dumps(
                summary, default=float, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    finally:
        pauses.uninstall()
        gc.unfreeze()
        await close_system(r)
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


def _total(amount: Any) -> str:
    if isinstance(amount, dict):
        return str(amount.get("total", Decimal(str(amount.get("free", 0)))
                              + Decimal(str(amount.get("locked", 0)))))
    return str(amount)
