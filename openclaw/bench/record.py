"""``openclaw-trading bench record``: what recording costs the socket loop, and replay speed.

Hook: the body of ``VenueConnection._pump`` per frame with no socket (``monotonic_ns``, the
recorder's ``Channel.frame`` when recording, ``BookSync.on_frame``), on the feed bench's frames
(``openclaw.bench.feed.generate_cases``, one venue per case, book LIVE), timed with and without
the channel in the same run on the same frames, interleaved, GC off, median over repetitions of
ns per frame; each loop's final book is checked against the market's truth. ``hook_ns`` = the
difference of the two medians; ``channel_ns`` = ``Channel.frame`` alone in the same loop shape
minus the empty loop (the A/B difference of two ~µs figures is noisier than the hook itself).
The writer thread is not running: the ring is drained between repetitions (its cost is on
another thread, serialising and gzipping every 0.1 s).

Replay: a recording (``--recording DIR``, else a short demo recorded here first) through the
backtest's pipeline without execution: every recorded event in time order through the venues'
own syncs (decode, book), the Aggregator (merged books), ``ArbPipeline.on_book`` (detection, the
pre-trade risk check, the order list), the list handed to a stub instead of the order manager's
task. The core clock is set to each event's recorded time as in the backtest. Frames per second
on one core, median over repetitions, each on fresh books.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openclaw._core.book import set_sim_time
from openclaw.app.backtest import Recording, load_recording
from openclaw.app.backtest.engine import apply_event
from openclaw.app.config import Config
from openclaw.app.runner import DEFAULT_MAX_START, default_limits
from openclaw.bench.feed import FeedCase, check_openclaw, generate_cases, new_sync
from openclaw.execution.manager import OrderManager
from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.record import Channel
from openclaw.feeds.sync import BookSync
from openclaw.model.instrument import Instrument
from openclaw.model.orders import Order
from openclaw.risk.gate import RiskGate
from openclaw.risk.limits import RiskLimits, build_engine
from openclaw.strategies.triarb import ArbPipeline
from openclaw.venues.registry import FEEDS

HOOK_CASES: tuple[str, ...] = ("binance", "okx", "bybit")
HOOK_TARGET_NS = 1_000.0            # issue 19: recording costs the hot path < 1 µs per frame
REPLAY_TARGET_FPS = 200_000.0       # issue 19: decode -> book -> detect on one core
DEFAULT_MESSAGES, QUICK_MESSAGES = 10_000, 3_000
DEFAULT_REPS, QUICK_REPS = 7, 3
DEFAULT_DEMO_S, QUICK_DEMO_S = 10.0, 3.0


# --------------------------------------------------------------------------- hook


def socket_loop(sync: BookSync, rec: Channel | None, frames: Sequence[str]) -> int:
    """The per-frame body of the socket loop (``feeds/connection.py``); the last book id."""
    on_frame = sync.on_frame
    mono = time.monotonic_ns
    last = -1
    for frame in frames:
        recv_ts = mono()
        if rec is not None:
            rec.frame(frame, recv_ts)
        last = on_frame(frame, recv_ts)
    return last


def channel_loop(rec: Channel | None, frames: Sequence[str]) -> None:
    """The recorder's hook alone in the same loop shape (``rec`` None: the empty loop)."""
    mono = time.monotonic_ns
    for frame in frames:
        recv_ts = mono()
        if rec is not None:
            rec.frame(frame, recv_ts)


def _timed(fn: Callable[[], Any]) -> tuple[int, Any]:
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        out = fn()
        return time.perf_counter_ns() - t0, out
    finally:
        gc.enable()


def _channel(n: int) -> Channel:
    cap = 1 << max(1, (n - 1).bit_length())
    return Channel("bench-spot", "bench", "spot", cap)


def _drain(ch: Channel) -> None:
    """What the writer thread does to the ring (untimed)."""
    for i in range(ch.tail, ch.head):
        ch.frames[i & ch.mask] = None
    ch.tail = ch.head


def hook_samples(case: FeedCase, reps: int) -> dict[str, list[float]]:
    """ns per frame of each variant, ``reps`` interleaved repetitions after a warm-up."""
    ch = _channel(case.n)
    out: dict[str, list[float]] = {k: [] for k in ("with", "without", "channel", "empty")}
    for rep in range(reps + 1):
        order = ("with", "without") if rep % 2 else ("without", "with")
        for variant in order:
            sync, book_id = new_sync(case)
            rec = ch if variant == "with" else None
            ns, last = _timed(lambda sync=sync, rec=rec: socket_loop(sync, rec, case.frames))
            check_openclaw(case, sync, book_id, last)
            if rec is not None:
                if ch.head - ch.tail != case.n or ch.dropped:
                    raise AssertionError("the recorder's ring did not keep every frame")
                _drain(ch)
            if rep:
                out[variant].append(ns / case.n)
        for variant in ("channel", "empty") if rep % 2 else ("empty", "channel"):
            rec = ch if variant == "channel" else None
            ns, _ = _timed(lambda rec=rec: channel_loop(rec, case.frames))
            _drain(ch)
            if rep:
                out[variant].append(ns / case.n)
    return out


# --------------------------------------------------------------------------- replay


class _NoRoute:
    """The order manager's route, never called: hand-overs go to the stub."""


def build_replay(rec: Recording, cfg: Config) -> tuple[dict[str, BookSync], Aggregator,
                                                       ArbPipeline, list[int]]:
    """Fresh syncs, Aggregator and ``ArbPipeline`` for ``cfg`` as the backtest builds them; the
    order lists go to a counter (no execution). Returns (syncs by stream, agg, pipeline,
    [lists handed over])."""
    insts = [Instrument(i.venue, i.symbol, str(i.tick_size), str(i.lot_size),
                        category=i.category, base=i.base, quote=i.quote) for i in cfg.instruments]
    agg = Aggregator(insts, {v: VenueEndpoints(ws="ws://recording", rest="http://recording")
                             for v in cfg.venues}, feeds=FEEDS, capacity=cfg.feeds.capacity,
                     bybit_depth=cfg.feeds.bybit_depth)
    syncs: dict[str, BookSync] = {}
    for conn in agg.build():
        inst = next(iter(conn.sync.instruments.values()))
        syncs[f"{inst.venue}-{inst.category}"] = conn.sync
    books, symbols = {}, {}
    for book_id, inst in agg.instrument_of.items():
        books[(inst.venue, inst.symbol)] = agg.bookset.book(book_id)
        symbols[(inst.venue, f"{inst.base}/{inst.quote}")] = inst.symbol
    limits = RiskLimits.model_validate(cfg.risk) if cfg.risk else default_limits(cfg)
    engine = build_engine(limits)
    gate = RiskGate(engine, engine.index, books, symbols)
    run = (rec.latency or {}).get("run") or {}
    balances = run.get("balances") or {}
    default = {"USDT": 100000.0, "USDC": 100000.0, "BTC": 2.0, "ETH": 40.0}
    max_start: dict[tuple[str, str], float] = {}
    traded = {(i.venue, a) for i in cfg.instruments if i.category == "spot"
              for a in (i.base, i.quote)}
    for venue in cfg.venues:
        for asset, amount in (balances.get(venue) or default).items():
            d = Decimal(str(amount))
            if asset in gate.index.assets and venue in gate.index.venues:
                engine.set_balance(gate.index.venue(venue), gate.index.asset(asset),
                                   gate.index.to_asset_units(asset, d))
            if (venue, asset) in traded:
                max_start[(venue, asset)] = float(min(d, DEFAULT_MAX_START.get(asset, d / 2)))
    fees = {v: c.taker_fee_bps for v, c in cfg.venues.items()}
    t = cfg.strategy.triarb
    manager = OrderManager(_NoRoute(), risk=gate)  # type: ignore[arg-type]
    handed: list[int] = [0]

    def hand_over(event: int, orders: list[Order], first_id: int = 0) -> None:
        handed[0] += 1

    manager.hand_over = hand_over  # type: ignore[method-assign,assignment]
    pipeline = ArbPipeline(agg, manager, fees, min_profit_bps=t.min_profit_bps,
                           cooldown_ms=t.cooldown_ms, max_book_age_ms=t.max_book_age_ms,
                           max_start=max_start,  # type: ignore[arg-type]
                           slippage_bps=t.slippage_bps or 0.0, warm_interval_ms=0)
    return syncs, agg, pipeline, handed


def replay_events(rec: Recording, syncs: dict[str, BookSync], agg: Aggregator) -> int:
    """The timed loop: every recorded event through the backtest's ``apply_event``; frames."""
    connected: set[str] = set()
    frames = 0
    for event in rec.events:
        frames += apply_event(rec, syncs, agg, connected, event)
    return frames


def replay_once(rec: Recording, cfg: Config) -> tuple[int, int, int]:
    """(elapsed ns, frames, order lists) of one replay on fresh books."""
    syncs, agg, pipeline, handed = build_replay(rec, cfg)
    try:
        ns, frames = _timed(lambda: replay_events(rec, syncs, agg))
    finally:
        set_sim_time(0)
    del pipeline
    return ns, frames, handed[0]


def record_demo(seconds: float, into: Path, seed: int = 7) -> Path:
    """Record a ``seconds`` demo run (simulators + the live pipeline) into ``into``/rec."""
    from openclaw.app.demo import run_demo

    asyncio.run(run_demo(seconds, seed=seed, journal_path=str(into / "journal.sqlite"),
                         record=str(into / "rec")))
    return into / "rec"


def profile_replay(rec: Recording, cfg: Config, loops: int = 20,
                   top: int = 12) -> list[dict[str, Any]]:
    """cProfile of ``loops`` replays (fresh books each): the ``top`` functions by own time."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    for _ in range(loops):
        syncs, agg, _pipeline, _ = build_replay(rec, cfg)
        try:
            prof.runcall(replay_events, rec, syncs, agg)
        finally:
            set_sim_time(0)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values()) or 1.0
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    root = str(Path(__file__).resolve().parents[2]) + os.sep
    return [{"function": f"{file.replace(root, '')}:{line}({name})", "calls": v[1],
             "own_ms": round(v[2] * 1e3, 2), "own_pct": round(v[2] / total * 100, 1),
             "cum_ms": round(v[3] * 1e3, 2)} for (file, line, name), v in rows]


# --------------------------------------------------------------------------- run


def run_record_bench(quick: bool = False, json_out: bool = False, *, reps: int | None = None,
                     messages: int | None = None, recording: Path | None = None,
                     profile: bool = False) -> dict[str, Any]:
    """Both measurements; prints a table (or one JSON object) and returns the result."""
    reps = reps or (QUICK_REPS if quick else DEFAULT_REPS)
    n = messages or (QUICK_MESSAGES if quick else DEFAULT_MESSAGES)
    load_before = os.getloadavg()[0]
    data = generate_cases(n, cases=HOOK_CASES)
    hook_rows = []
    for case in HOOK_CASES:
        s = hook_samples(data[case], reps)
        med = {k: statistics.median(v) for k, v in s.items()}
        hook = med["with"] - med["without"]
        chan = med["channel"] - med["empty"]
        hook_rows.append({
            "case": case, "frames": data[case].n,
            "without_ns": round(med["without"], 1), "with_ns": round(med["with"], 1),
            "ratio": round(med["with"] / med["without"], 4),
            "hook_ns": round(hook, 1), "channel_ns": round(chan, 1),
            "hook_ns_per_rep": [round(a - b, 1) for a, b in zip(s["with"], s["without"],
                                                                strict=True)],
            "meets_target": chan < HOOK_TARGET_NS and hook < HOOK_TARGET_NS,
        })
    demo_s = QUICK_DEMO_S if quick else DEFAULT_DEMO_S
    with tempfile.TemporaryDirectory(prefix="openclaw-bench-record-") as tmp:
        rec_dir = recording or record_demo(demo_s, Path(tmp))
        rec = load_recording([rec_dir])
    cfg = Config.model_validate(rec.meta["config"])
    fps, lists = [], set()
    frames = 0
    for rep in range(reps + 1):
        ns, frames, handed = replay_once(rec, cfg)
        lists.add(handed)
        if rep:
            fps.append(frames / ns * 1e9)
    if len(lists) != 1:
        raise AssertionError(f"replays of one recording handed over different lists: {lists}")
    med_fps = statistics.median(fps)
    result: dict[str, Any] = {
        "ok": True,
        "python": platform.python_version(),
        "reps": reps,
        "hook": {"target_ns": HOOK_TARGET_NS, "cases": hook_rows,
                 "ratio": "with / without median (same case, same run)"},
        "replay": {
            "recording": str(recording) if recording else f"demo {demo_s} s, seed 7, recorded "
                                                          "in this run",
            "frames": frames, "events": len(rec.events), "streams": sorted(rec.streams),
            "order_lists": lists.pop(),
            "frames_per_s": round(med_fps), "min_frames_per_s": round(min(fps)),
            "max_frames_per_s": round(max(fps)),
            "ns_per_frame": round(1e9 / med_fps, 1),
            "target_frames_per_s": REPLAY_TARGET_FPS,
            "meets_target": med_fps >= REPLAY_TARGET_FPS,
            "pipeline": "sync.on_frame -> Aggregator.on_book -> ArbPipeline.on_book (detect, "
                        "risk, orders) -> hand-over stub; no execution",
        },
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    if profile:
        result["replay"]["profile"] = profile_replay(rec, cfg)
    if json_out:
        print(json.dumps(result))
    else:
        print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    """Human tables on stdout (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    h = result["hook"]
    table = Table(title=f"record hook: socket-loop body per frame, Python {result['python']}, "
                        f"{result['reps']} reps, median ns per frame")
    for i, col in enumerate(("case", "frames", "without", "with", "ratio", "hook ns",
                             "channel ns", "target")):
        table.add_column(col, justify="right" if i else "left", no_wrap=True)
    for r in h["cases"]:
        table.add_row(r["case"], str(r["frames"]), f"{r['without_ns']:,.1f}",
                      f"{r['with_ns']:,.1f}", f"{r['ratio']:.4f}", f"{r['hook_ns']:,.1f}",
                      f"{r['channel_ns']:,.1f}",
                      "[green]met[/]" if r["meets_target"] else "[bold red]MISSED[/]")
    console.print(table)
    console.print(f"hook ns = with - without medians; channel ns = Channel.frame alone minus the"
                  f" empty loop; target < {h['target_ns']:,.0f} ns")
    r = result["replay"]
    console.print(f"replay ({r['recording']}): {r['frames']} frames, {r['order_lists']} order "
                  f"lists; {r['frames_per_s']:,} frames/s median (min {r['min_frames_per_s']:,},"
                  f" max {r['max_frames_per_s']:,}), {r['ns_per_frame']:,.0f} ns/frame; target "
                  f">= {r['target_frames_per_s']:,.0f}: "
                  + ("[green]met[/]" if r["meets_target"] else "[bold red]MISSED[/]"))
    console.print(f"  {r['pipeline']}")
    load = result["loadavg_1m"]
    console.print(f"machine load average (1 min) before / after: {load[0]} / {load[1]} on "
                  f"{os.cpu_count()} CPUs")
    if "profile" in r:
        console.print("cProfile of 20 replays, top functions by own time (profiling inflates "
                      "Python calls):")
        for p in r["profile"]:
            console.print(f"  {p['own_pct']:5.1f}%  {p['own_ms']:8.2f} ms own  "
                          f"{p['cum_ms']:8.2f} ms cum  {p['calls']:>7}  {p['function']}",
                          markup=False)
