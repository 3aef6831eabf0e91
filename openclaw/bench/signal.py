"""``openclaw-trading bench signal``: arbitrage detection (and risk checks) against plain Python.

Cases (per book update for detection, per order list for risk):
  detect_seed   3 venues x BTC/USDT, ETH/USDT, ETH/BTC (the seed's setup), 20 levels a book
  detect_100    30 assets x 3 venues, 99 markets (alt/USDT, BTC/USDT, a few alt/BTC crosses)
  detect_seed_quiet  the seed's books with no edge: the scan alone, nothing to size
  (in detect_seed and detect_100 one market is 0.8% cheap, so every update sizes ~3 cycles
  through the full 20-level depth of three books: the expensive case)
  risk_list3    a 3-leg order list through the pre-trade risk check (when the risk module exists)
Each case runs openclaw (from Python, one call per update) and the plain-Python implementation of
the same logic in the same process; ``openclaw_inner`` is the same work looped inside Cython
(no Python call). Results of both implementations are compared before any figure is printed.
"""

from __future__ import annotations

import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from openclaw._core.book import OrderBook
from openclaw._core.triarb import TriArb
from openclaw.bench.pytriarb import PyMarket, PyTriArb

FEES = {"binance": 10.0, "okx": 8.0, "bybit": 10.0}
VENUES = ("binance", "okx", "bybit")


def _market(rng: random.Random, mid: float, tick: float, lot: float, skew: float,
            levels: int = 20) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    center = round(mid * (1 + skew) / tick)
    bids = [((center - 1 - i) * tick, rng.randint(1, 400) * lot) for i in range(levels)]
    asks = [((center + 1 + i) * tick, rng.randint(1, 400) * lot) for i in range(levels)]
    return bids, asks


def build(n_alts: int, crosses: int, seed: int = 7, dislocate: bool = True
          ) -> tuple[TriArb, PyTriArb, list[int]]:
    """Books for ``n_alts`` alt coins (plus BTC, ETH) on three venues, with mild dislocations
    so that some cycles are profitable and get sized."""
    rng = random.Random(seed)
    specs: list[tuple[str, str, str, float, float, float]] = []
    coins = {"BTC": 65000.0, "ETH": 3400.0}
    for i in range(n_alts):
        coins[f"A{i:02d}"] = rng.uniform(0.5, 200.0)
    crossed = ["ETH"] + [f"A{i:02d}" for i in range(crosses)]
    for venue in VENUES:
        for coin, px in coins.items():
            specs.append((venue, coin, "USDT", px, 0.01 if px > 10 else 0.0001, 0.0001))
        for coin in crossed:
            specs.append((venue, coin, "BTC", coins[coin] / coins["BTC"], 1e-6, 0.001))
    rows, pys = [], []
    for venue, base, quote, mid, tick, lot in specs:
        skew = rng.uniform(-0.0012, 0.0012)      # inside three taker fees: no edge ...
        if dislocate and (venue, base, quote) == ("bybit", "ETH", "BTC"):
            skew = -0.008                          # ... except through one cheap market
        bids, asks = _market(rng, mid, tick, lot, skew)
        ob = OrderBook(f"{tick:.10f}".rstrip("0"), f"{lot:.10f}".rstrip("0"), 64)
        ob.apply_snapshot(bids, asks)
        rows.append((venue, base, quote, ob, FEES[venue]))
        b, a = ob.top(64)
        pys.append(PyMarket(venue, base, quote, [tuple(x) for x in b.tolist()],
                            [tuple(x) for x in a.tolist()], lot, FEES[venue] / 1e4))
    arb = TriArb(rows, require_live=False)
    py = PyTriArb(pys)
    # updates hit the markets that are in cycles, round robin
    ids = [i for i in range(arb.n_markets) if arb.cycles_of(i)]
    return arb, py, ids


def check(arb: TriArb, py: PyTriArb, ids: list[int], expect_results: bool = True) -> int:
    """Both implementations find the same cycles with the same sizes; returns results compared."""
    n = 0
    for m in ids:
        arb.on_update(m, now=1, fire=False)
        got = sorted((tuple(arb.market_index(leg.venue, leg.base, leg.quote) for leg in o.legs),
                      o.start_amount) for o in arb.opportunities())
        want = sorted((py.cycles[c][1], start) for c, _, start, _ in py.on_update(m))
        if [c for c, _ in got] != [c for c, _ in want] or any(
                abs(a[1] - b[1]) > 1e-9 * max(1.0, abs(b[1])) for a, b in zip(got, want,
                                                                              strict=True)):
            raise AssertionError(f"market {m}: openclaw {got[:3]} != python {want[:3]}")
        n += len(got)
    if expect_results and n == 0:
        raise AssertionError("no profitable cycle in the benchmark books: nothing is sized")
    return n


def _time(fn: Callable[[], object], per: int, reps: int) -> float:
    samples = []
    for _ in range(reps):
        gc.disable()
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / per)
        gc.enable()
    return statistics.median(samples)


def run_signal_bench(quick: bool = False, json_out: bool = False) -> dict[str, Any]:
    reps = 3 if quick else 7
    loops = 200 if quick else 2000
    cases: list[dict[str, Any]] = []
    setups = {"detect_seed": build(0, 0), "detect_100": build(28, 3),
              "detect_seed_quiet": build(0, 0, dislocate=False)}
    for name, (arb, py, ids) in setups.items():
        compared = check(arb, py, ids, expect_results=not name.endswith("quiet"))
        seq = (ids * (loops // len(ids) + 1))[:loops]
        arr = np.array(seq, dtype=np.int32)
        on_update = arb.on_update

        def ours(seq: list[int] = seq, on_update: Callable[..., int] = on_update) -> None:
            for m in seq:
                on_update(m, 1, False)

        def inner(arr: np.ndarray = arr, arb: TriArb = arb) -> None:
            arb.bench_updates(arr)

        def theirs(seq: list[int] = seq, py: PyTriArb = py) -> None:
            for m in seq:
                py.on_update(m)

        o = _time(ours, len(seq), reps)
        i = _time(inner, len(seq), reps)
        p = _time(theirs, len(seq), reps)
        extra = {"markets": arb.n_markets, "cycles": arb.n_cycles,
                 "sized_per_update": compared / len(ids)}
        cases += [
            {"case": name, "impl": "openclaw", "median_ns": o, "ratio": 1.0, **extra},
            {"case": name, "impl": "openclaw_inner", "median_ns": i, "ratio": i / o},
            {"case": name, "impl": "python", "median_ns": p, "ratio": p / o},
        ]
        print(f"{name}: openclaw {o:,.0f} ns, inside Cython {i:,.0f} ns, python {p:,.0f} ns "
              f"({p / o:.0f}x)", file=sys.stderr)
    try:
        from openclaw.bench.signal_risk import run_risk_bench
    except ImportError:
        print("risk benchmark not available (no risk module yet)", file=sys.stderr)
    else:
        cases += run_risk_bench(quick)
    result = {"python": platform.python_version(), "cases": cases, "ok": True}
    if json_out:
        import orjson

        print(orjson.dumps(result).decode())
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="openclaw-trading bench signal (median ns per update / per order list)")
        for col in ("case", "impl", "median ns", "ratio to openclaw"):
            table.add_column(col)
        for c in cases:
            table.add_row(c["case"], c["impl"], f"{c['median_ns']:,.1f}",
                          f"{c.get('ratio', float('nan')):.3g}x")
        Console().print(table)
    return result
