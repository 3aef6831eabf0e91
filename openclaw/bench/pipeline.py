"""``openclaw-trading bench pipeline``: tick to order list in one process, with and without the
recorder.

What is timed per frame is the live path of ``VenueConnection`` with no socket:
``BinanceSync.on_frame(raw, recv_ts)`` (decode in C, apply to the book) -> the Aggregator's
listener (cross-venue merge) -> ``ArbPipeline.on_book`` (detection in Cython, the pre-trade
risk check of the integer legs in Cython through ``RiskGate``'s fast path, the approved legs as
``Order`` objects, the order list handed to the router's task). The harness clears ``busy``
after each frame (the router task never runs while timing) and cancels the tasks between
repetitions.

Market: Binance BTCUSDT, ETHUSDT, ETHBTC (20 levels a side, ETH/BTC quoted 100 bps wide). The
frames repeat a block of four: a change deep in BTCUSDT, one deep in ETHUSDT (no signal: the
scan alone), a bid on ETHBTC that opens a ~50 bps cycle net of fees (a sized opportunity, three
orders, a risk check, a list handed over), and the same bid withdrawn. So one frame in four ends
in an order list.

Cases / implementations (median ns per frame):
  pipeline  recorder      ``ArbPipeline`` as shipped (stage clock on: recv, book and signal
                          stamped in C by ``TriArb.on_update``, + risk and submit marks per list)
            no_recorder   the same ``on_book`` with the stage-clock lines taken out of its
                          source (generated from ``inspect.getsource`` at run time, so it cannot
                          drift from the shipped code) and the detector's recorder detached;
                          the figure the recorder is compared to
            orjson_loads  ``orjson.loads`` of the same frames (the parse any Python handler pays
                          first): a floor, not a pipeline
Derived: ``recorder_overhead_pct`` = (recorder - no_recorder) / no_recorder (target < 1%), and
the per-frame median of tick-to-order for the frames that produced an order list, measured by
the recorder itself (``tick_to_order_p50_us``).

Before timing, both pipeline variants run the frames once and must produce the same order lists
(venues, symbols, sides, quantities, prices); implementations are interleaved per repetition,
GC off in the timed loops.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import platform
import statistics
import sys
import textwrap
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import orjson

from openclaw.execution.manager import OrderManager
from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.state import BookState
from openclaw.model.instrument import Instrument
from openclaw.risk.gate import RiskGate
from openclaw.risk.limits import InstrumentLimits, RiskLimits, VenueLimits, build_engine
from openclaw.strategies.triarb import pipeline as triarb_mod
from openclaw.strategies.triarb.pipeline import BOOK, RECV, RISK, SIGNAL, SUBMIT, ArbPipeline
from openclaw.venues.binance.feed import BinanceSync
from openclaw.venues.registry import FEEDS

IMPLS: tuple[str, ...] = ("recorder", "no_recorder", "orjson_loads")
TARGET_OVERHEAD_PCT = 1.0
LEVELS = 20
# (symbol, base, quote, tick, lot, best bid in ticks, best ask in ticks)
MARKETS = (
    ("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", 6_500_000, 6_500_001),
    ("ETHUSDT", "ETH", "USDT", "0.01", "0.0001", 325_000, 325_001),
    ("ETHBTC", "ETH", "BTC", "0.00001", "0.0001", 4950, 5050),
)
CHUNK = 400                    # frames per interleaved chunk (100 blocks)
DISLOCATED_BID = 5040          # ETHBTC bid (ticks) that opens USDT -> ETH -> BTC -> USDT


class PipelineBenchError(AssertionError):
    """The variants disagree, or the frames did not produce what the scenario needs."""


def _px(ticks: int, tick: str) -> str:
    return str(Decimal(ticks) * Decimal(tick))


def _snapshot(m: tuple[str, str, str, str, str, int, int], last_id: int) -> bytes:
    _, _, _, tick, lot, bid, ask = m
    qty = str(Decimal(lot) * 5000)
    return orjson.dumps({"lastUpdateId": last_id,
                         "bids": [[_px(bid - i, tick), qty] for i in range(LEVELS)],
                         "asks": [[_px(ask + i, tick), qty] for i in range(LEVELS)]})


def _frame(symbol: str, seq: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    return orjson.dumps({"stream": f"{symbol.lower()}@depth@100ms", "data": {
        "e": "depthUpdate", "E": 1_780_000_000_000 + seq, "s": symbol, "U": seq, "u": seq,
        "b": bids, "a": asks}}).decode()


def make_frames(blocks: int, start_seq: int = 102) -> list[str]:
    """``blocks`` x (BTCUSDT deep change, ETHUSDT deep change, ETHBTC bid in, ETHBTC bid out)."""
    btc, eth, ethbtc = MARKETS
    seq = {m[0]: start_seq for m in MARKETS}
    out = []
    for k in range(blocks):
        for m in (btc, eth):
            q = str(Decimal(m[4]) * (4000 + (k % 7) * 100))
            out.append(_frame(m[0], seq[m[0]], [[_px(m[5] - 12, m[3]), q]], []))
            seq[m[0]] += 1
        bid = _px(DISLOCATED_BID, ethbtc[3])
        out.append(_frame("ETHBTC", seq["ETHBTC"], [[bid, "2.0000"]], []))
        out.append(_frame("ETHBTC", seq["ETHBTC"] + 1, [[bid, "0"]], []))
        seq["ETHBTC"] += 2
    return out


def _unstamped_on_book() -> Callable[..., None]:
    """``ArbPipeline.on_book`` with its stage-clock lines removed (from its own source): no
    ``recv_ts`` for the detector's recorder (detached by the rig), no event, no marks."""
    src = textwrap.dedent(inspect.getsource(ArbPipeline.on_book))
    lines = []
    for line in src.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == "clock = self.clock":
            continue
        if stripped == "event = arb.event":
            lines.append(f"{indent}event = -1")
        elif stripped.startswith("clock.mark("):
            lines.append(f"{indent}pass")
        elif "arb.on_update(" in stripped and stripped.endswith(", recv_ts)"):
            lines.append(line[: -len(", recv_ts)")] + ")")
        else:
            lines.append(line)
    new = "\n".join(lines)
    if "clock" in new or "recv_ts)" in new or "arb.event" in new:
        raise PipelineBenchError("ArbPipeline.on_book uses its clock in a way this bench does "
                                 "not know how to take out:\n" + new)
    namespace: dict[str, Any] = {}
    exec(compile(new, "<on_book without stage clock>", "exec"),  # noqa: S102
         vars(triarb_mod).copy(), namespace)
    return namespace["on_book"]


class _NullRouter:
    """Stands where the Router is: the timed path ends when the list is handed to the loop.
    ``lists`` collects what was sent (when the tasks get to run, outside the timed loops)."""

    def __init__(self) -> None:
        self.lists: list[list[Any]] = []

    async def send_list(self, orders: list[Any],
                        on_first_send: Callable[[int], Any] | None = None) -> list[Any]:
        if on_first_send is not None:  # as the Router does when the first leg leaves
            on_first_send(time.monotonic_ns())
        self.lists.append(orders)
        return orders

    async def reconcile_unknown(self, orders: list[Any]) -> None:
        return None


class Rig:
    """One aggregator (not connected), its Binance sync and a pipeline (with or without the
    recorder) whose check is ``RiskGate.check`` as shipped (so the integer fast path runs);
    ``lists()`` are the order lists handed over (``settle`` lets their tasks run)."""

    def __init__(self, stamped: bool) -> None:
        insts = [Instrument("binance", m[0], m[3], m[4], base=m[1], quote=m[2]) for m in MARKETS]
        self.agg = Aggregator(insts, {"binance": VenueEndpoints(ws="ws://127.0.0.1:9")},
                              feeds=FEEDS)
        pairs = [(i, self.agg.book_ids[("binance", i.symbol)]) for i in insts]
        self.pairs = pairs
        lims = RiskLimits(
            venues=[VenueLimits(name="binance")],
            instruments=[InstrumentLimits(venue="binance", symbol=m[0], base=m[1], quote=m[2],
                                          tick_size=Decimal(m[3]), lot_size=Decimal(m[4]),
                                          max_book_age_ms=1000) for m in MARKETS],
            max_open_ids=1 << 22)
        engine = build_engine(lims)
        books = {("binance", i.symbol): self.agg.bookset.book(b) for i, b in pairs}
        symbols = {("binance", f"{i.base}/{i.quote}"): i.symbol for i in insts}
        self.gate = RiskGate(engine, engine.index, books, symbols)
        for asset in ("USDT", "BTC", "ETH"):
            engine.set_balance(0, engine.index.asset(asset), 1 << 60)
        self.router = _NullRouter()
        self.manager = OrderManager(self.router, risk=self.gate)
        self.pipeline = ArbPipeline(
            self.agg, self.manager, {"binance": 10.0},
            min_profit_bps=5.0, cooldown_ms=0, max_book_age_ms=1000,
            max_start={("binance", "USDT"): 3000.0, ("binance", "BTC"): 0.05,  # type: ignore[dict-item]
                       ("binance", "ETH"): 1.0})  # type: ignore[dict-item]
        if self.pipeline._fast is None:
            raise PipelineBenchError("the pipeline did not take the RiskGate fast path")
        if not stamped:
            # the subscriber the aggregator calls: the same method body without the recorder
            self.pipeline.arb.set_recorder(None)
            self.agg.subscribers.remove(self.pipeline.on_book)
            self.agg.subscribers.append(_unstamped_on_book().__get__(self.pipeline))
        self.sync: BinanceSync | None = None
        self._made0 = 0

    @property
    def made(self) -> int:
        """Order lists handed over since the last ``reset``."""
        return self.pipeline.stats.arbitrages - self._made0

    async def settle(self) -> list[list[Any]]:
        """Let the handed-over lists' tasks run (untimed); returns every list sent."""
        tasks = [t for t in self.manager.stats.tasks if not t.done()]
        if tasks:
            await asyncio.gather(*tasks)
        return self.router.lists

    def reset(self) -> None:
        """Fresh sync, books reloaded from the snapshots and LIVE (untimed)."""
        for t in self.manager.stats.tasks:
            t.cancel()
        self.manager.stats.tasks.clear()
        self.manager.in_flight = 0
        self.router.lists.clear()
        self._made0 = self.pipeline.stats.arbitrages
        sync = BinanceSync(self.agg.bookset, self.pairs)
        sync.on_connect()
        now = time.monotonic_ns()
        for m, (_inst, book_id) in zip(MARKETS, self.pairs, strict=True):
            self.agg.bookset.set_state(book_id, BookState.SYNCING)
            sync.on_frame(_frame(m[0], 101, [], []), now)
            sync.on_snapshot(book_id, _snapshot(m, 100), now)
            if sync.state(book_id) != BookState.LIVE:
                raise PipelineBenchError(f"{m[0]} not LIVE after the snapshot")
        sync.actions.clear()
        self.sync = sync

    def run(self, frames: list[str]) -> int:
        """The timed loop: what ``VenueConnection`` does per frame, plus the harness's reset of
        ``busy``; returns the number of frames that changed a book."""
        assert self.sync is not None
        on_frame = self.sync.on_frame
        listener = self.agg._on_book
        manager = self.manager
        mono = time.monotonic_ns
        changed = 0
        for raw in frames:
            ts = mono()
            b = on_frame(raw, ts)
            if b >= 0:
                listener(b, ts)
                changed += 1
            manager.in_flight = 0
        return changed


def _lists_key(lists: list[list[Any]]) -> list[tuple[Any, ...]]:
    return [tuple((o.venue, o.symbol, o.side.value, str(o.qty), str(o.price)) for o in lst)
            for lst in lists]


def _loads(frames: list[str]) -> Any:
    loads = orjson.loads
    obj = None
    for raw in frames:
        obj = loads(raw)
    return obj


def recorder_cost_ns(rig: Rig, frames: list[str], lists: int) -> float:
    """The recorder's own cost per frame: the pipeline's exact recorder work (per frame the
    detector's ``on_update`` with the recorder attached and ``recv_ts`` passed, which stamps
    recv, book and signal in C; per order list the event read and the risk and submit stamps,
    taken in C by ``check_risk`` and ``handed_over``, here two ``handed_over`` calls) minus the
    same calls with the recorder detached; median of 9 runs (stable where the A/B difference
    of two whole pipelines is within the machine's noise).
    """
    pipeline = rig.pipeline
    clock, arb = pipeline.clock, pipeline.arb
    book_of = rig.agg.book_ids
    markets = [pipeline.market_of_book[book_of[("binance", orjson.loads(f)["data"]["s"])]]
               for f in frames]
    rig.reset()
    rig.run(frames[:3])                 # the ETH/BTC bid is in: a result to hand over
    dislocated = pipeline.market_of_book[book_of[("binance", "ETHBTC")]]
    k = lists
    on_update, handed_over = arb.on_update, arb.handed_over

    def with_recorder(t0: int) -> None:
        arb.set_recorder(clock, BOOK, SIGNAL, RISK, SUBMIT)
        for m in markets:
            on_update(m, 1, False, t0)
        if on_update(dislocated, 1, False, t0) == 0:
            raise PipelineBenchError("no result to hand over in the recorder cost loop")
        e = -1
        for _ in range(k):
            e = arb.event
            handed_over(0)
            handed_over(0)
        del e

    def without(t0: int) -> None:        # the same calls, no recorder: subtracted
        arb.set_recorder(None)
        for m in markets:
            on_update(m, 1, False)
        if on_update(dislocated, 1, False) == 0:
            raise PipelineBenchError("no result to hand over in the recorder cost loop")
        for _ in range(k):
            e = -1
            handed_over(0)
            handed_over(0)
        del e

    try:
        return _ab_median(clock, with_recorder, without, len(markets))
    finally:
        arb.set_recorder(clock, BOOK, SIGNAL, RISK, SUBMIT)
        clock.clear()
        rig.reset()


def _ab_median(clock: Any, calls: Callable[[int], None], loops: Callable[[int], None],
               n: int) -> float:
    runs = []
    for rep in range(9):
        clock.clear()
        gc.disable()
        t0 = time.perf_counter_ns()
        calls(t0) if rep % 2 else loops(t0)
        t1 = time.perf_counter_ns()
        loops(t1) if rep % 2 else calls(t1)
        t2 = time.perf_counter_ns()
        gc.enable()
        with_calls, without = (t1 - t0, t2 - t1) if rep % 2 else (t2 - t1, t1 - t0)
        runs.append((with_calls - without) / n)
    clock.clear()
    return statistics.median(runs)


async def _bench(blocks: int, reps: int) -> dict[str, Any]:
    frames = make_frames(blocks)
    rigs = {"recorder": Rig(True), "no_recorder": Rig(False)}
    # check: both variants make the same order lists, one per block
    keys = {}
    for name, rig in rigs.items():
        rig.reset()
        changed = rig.run(frames)
        if changed != len(frames):
            raise PipelineBenchError(f"{name}: {len(frames) - changed} frames changed no book")
        lists = await rig.settle()
        keys[name] = _lists_key(lists)
        if len(lists) != blocks:
            raise PipelineBenchError(f"{name}: {len(lists)} order lists for {blocks} "
                                     f"dislocations (refused: {rig.manager.stats.last_refusal})")
    if keys["recorder"] != keys["no_recorder"]:
        raise PipelineBenchError("the pipeline with and without the recorder made different lists")
    samples: dict[str, list[float]] = {k: [] for k in IMPLS}
    ticks_to_order: list[float] = []
    chunks = [frames[i:i + CHUNK] for i in range(0, len(frames), CHUNK)]
    for rep in range(reps + 1):                   # the first repetition is a warm-up
        total = {"recorder": 0, "no_recorder": 0}
        for rig in rigs.values():
            rig.reset()
            rig.pipeline.clock.clear()
        gc.collect()
        gc.disable()
        try:
            # the two variants alternate chunk by chunk (order swapped every chunk), so that a
            # slow spell of the machine hits both alike
            for c, chunk in enumerate(chunks):
                for name in (("recorder", "no_recorder") if c % 2 else
                             ("no_recorder", "recorder")):
                    t0 = time.perf_counter_ns()
                    rigs[name].run(chunk)
                    total[name] += time.perf_counter_ns() - t0
            t0 = time.perf_counter_ns()
            _loads(frames)
            loads_ns = time.perf_counter_ns() - t0
        finally:
            gc.enable()
        if rep:
            for name, ns in total.items():
                samples[name].append(ns / len(frames))
            samples["orjson_loads"].append(loads_ns / len(frames))
            rows = rigs["recorder"].pipeline.clock.snapshot()
            ok = (rows[:, RECV] > 0) & (rows[:, SUBMIT] > 0)
            ticks_to_order.append(float(np.median(rows[ok, SUBMIT] - rows[ok, RECV])))
        await asyncio.sleep(0)
    cost = recorder_cost_ns(rigs["recorder"], frames, blocks)
    for rig in rigs.values():
        rig.reset()
    med = {k: statistics.median(v) for k, v in samples.items()}
    overhead = (med["recorder"] - med["no_recorder"]) / med["no_recorder"] * 100
    # the spread of the per-repetition differences says how much of the overhead is noise
    diffs = [(a - b) / b * 100 for a, b in zip(samples["recorder"], samples["no_recorder"],
                                               strict=True)]
    cases = [
        {"case": "pipeline", "impl": "recorder", "median_ns": round(med["recorder"], 1),
         "ratio": 1.0},
        {"case": "pipeline", "impl": "no_recorder", "median_ns": round(med["no_recorder"], 1),
         "ratio": round(med["no_recorder"] / med["recorder"], 4)},
        {"case": "pipeline", "impl": "orjson_loads", "median_ns": round(med["orjson_loads"], 1),
         "ratio": round(med["orjson_loads"] / med["recorder"], 4)},
    ]
    return {
        "bench": "pipeline", "python": platform.python_version(), "frames": len(frames),
        "order_lists_per_rep": blocks, "reps": reps, "cases": cases,
        "recorder_overhead_pct": round(overhead, 2),
        "recorder_overhead_pct_iqr": [round(float(np.percentile(diffs, 25)), 2),
                                      round(float(np.percentile(diffs, 75)), 2)],
        "target_overhead_pct": TARGET_OVERHEAD_PCT,
        "overhead_within_target": cost / med["no_recorder"] * 100 < TARGET_OVERHEAD_PCT,
        "recorder_cost_ns_per_frame": round(cost, 1),
        "recorder_cost_pct": round(cost / med["no_recorder"] * 100, 3),
        "tick_to_order_p50_us": round(statistics.median(ticks_to_order) / 1e3, 2),
        "ok": True,
    }


def run_pipeline_bench(quick: bool = False, json_out: bool = False,
                       reps: int | None = None) -> dict[str, Any]:
    """Run the benchmark; prints a table (or one JSON object) and returns the result."""
    blocks = 500 if quick else 2000
    reps = reps or (5 if quick else 15)
    try:
        result = asyncio.run(_bench(blocks, reps))
    except PipelineBenchError as e:
        result = {"bench": "pipeline", "ok": False, "error": str(e), "cases": []}
        print(f"pipeline bench check failed: {e}", file=sys.stderr)
    if json_out:
        print(orjson.dumps(result).decode())
    elif result["ok"]:
        print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"openclaw-trading bench pipeline: frame -> order list "
                        f"({result['frames']} frames,"
                        f" 1 in 4 makes a list; median ns per frame)")
    for col in ("impl", "median ns", "ratio to recorder"):
        table.add_column(col)
    for c in result["cases"]:
        table.add_row(c["impl"], f"{c['median_ns']:,.1f}", f"{c['ratio']:.3g}x")
    console = Console()
    console.print(table)
    lo, hi = result["recorder_overhead_pct_iqr"]
    console.print(f"stage recorder: its calls cost {result['recorder_cost_ns_per_frame']:.0f} ns"
                  f" a frame = {result['recorder_cost_pct']:.2f}% of the no-recorder median "
                  f"(target < {result['target_overhead_pct']:g}%); A/B difference of the two "
                  f"pipelines {result['recorder_overhead_pct']:+.2f}% (per-rep IQR {lo:+.2f}.."
                  f"{hi:+.2f}%)\ntick->order p50 "
                  f"{result['tick_to_order_p50_us']:.1f} us (frames that made a list)")
