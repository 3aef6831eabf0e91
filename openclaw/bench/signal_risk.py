"""Pre-trade risk benchmark: the Cython RiskEngine against a plain-Python implementation.

Scenario: a BTC/USDT, ETH/BTC, ETH/USDT triangle on one venue with every check enabled
(increments, min/max quantity and notional, per-order limits, 50 bps collar, fresh LIVE books,
position caps, gross exposure cap, balances, a token bucket, an open-order cap and id checks).

Cases (unit in brackets):
  risk_order   one limit order (BTC/USDT buy) [per order]
  risk_list3   a 3-leg arbitrage list, all-or-nothing [per list]

Method: each repetition checks ``n`` lists with fresh client ids (every one passes and commits:
the timed path is the full one, balances debited, tokens taken, ids registered), then the ids
are closed, untimed, so every repetition starts from the same state. ``openclaw`` times the loop
inside one Cython call (``RiskEngine.bench_check``: no Python call per check, so the figure is
the check itself); ``pycall_median_ns`` is the same loop driven from Python, one ``check(view,
codes, now)`` call per list on preallocated array views, and ``call_overhead_ns`` the
difference. ``python`` is ``openclaw.bench.risk_python.PyRiskEngine`` (same contract, same
codes; the property tests hold it to the reference). Implementations are interleaved per
repetition, GC is off inside timed loops, figures are medians over repetitions of ns per unit.
Before anything is timed both engines run the lists once and must agree on every code and on
the state they leave.

Run: ``python -m openclaw.bench.signal_risk [--quick] [--json]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from openclaw import OrderBook
from openclaw.bench.risk_python import PyRiskEngine
from openclaw.risk import (
    BUY,
    LIMIT,
    ORDER_DTYPE,
    SELL,
    RiskEngine,
    RiskLimits,
    build_engine,
    reason_name,
)

CASES: tuple[str, ...] = ("risk_order", "risk_list3")
CASE_UNIT = {"risk_order": "order", "risk_list3": "list"}
IMPLS: tuple[str, ...] = ("openclaw", "python")
NOW0 = 10**12
STEP_NS = 1_000  # one check per microsecond of injected clock

# (symbol, base, quote, tick, lot, bid, ask) around BTC 65000, ETH 3250 (ETH/BTC 0.05)
TRIANGLE = (
    ("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", "65000.00", "65000.02"),
    ("ETHBTC", "ETH", "BTC", "0.00001", "0.0001", "0.04999", "0.05001"),
    ("ETHUSDT", "ETH", "USDT", "0.01", "0.0001", "3249.99", "3250.01"),
)
# legs of the list: (instrument, side, qty in lots, price offset from the mid in ticks)
LIST3 = ((0, BUY, 1000, 1), (1, BUY, 2000, 1), (2, SELL, 2000, -1))


class RiskBenchError(AssertionError):
    """The engines disagree, or a timed check did not pass (the full path was not timed)."""


def limits(max_open_ids: int) -> RiskLimits:
    """Every check on, none binding for the benchmark's orders."""
    inst = []
    for sym, base, quote, tick, lot, _, _ in TRIANGLE:
        inst.append(
            {
                "venue": "binance",
                "symbol": sym,
                "base": base,
                "quote": quote,
                "tick_size": tick,
                "lot_size": lot,
                "min_qty": lot,
                "max_qty": "9000",
                "min_notional": "0.00001",
                "max_notional": "9000000",
                "max_order_qty": "1000",
                "max_order_notional": "1000000",
                "collar_bps": "50",
                "max_book_age_ms": 1000,
                "max_position": "100000",
            }
        )
    return RiskLimits.model_validate(
        {
            "venues": [
                {
                    "name": "binance",
                    "max_orders": 1_000_000,
                    "interval_ms": 1,
                    "max_open_orders": max_open_ids,
                }
            ],
            "assets": [
                {"name": "BTC", "value": 65000.0},
                {"name": "ETH", "value": 3250.0},
                {"name": "USDT", "value": 1.0},
            ],
            "instruments": inst,
            "max_gross_exposure": 1e12,
            "daily_loss_limit": 1e9,
            "max_open_ids": max_open_ids,
            "max_list_len": 4,
        }
    )


def make_engines(max_open_ids: int) -> tuple[RiskEngine, PyRiskEngine, list[OrderBook], list]:
    """The Cython engine from config, the Python engine loaded with the same integers, books."""
    engine = build_engine(limits(max_open_ids))
    py = PyRiskEngine(
        engine.n_instruments,
        engine.n_venues,
        engine.n_assets,
        max_open_ids=engine.max_open_ids,
        max_list_len=engine.max_list_len,
    )
    py.set_venue(0, max_orders=1_000_000, interval_ns=1_000_000, max_open_orders=max_open_ids)
    for name, a in engine.index.assets.items():
        py.set_asset_value(a, {"BTC": 65000.0, "ETH": 3250.0}.get(name, 1.0))
    books, mids = [], []
    for i, (_, _, _, tick, lot, bid, ask) in enumerate(TRIANGLE):
        lim = engine.instrument_limits(i)
        py.set_instrument(
            i,
            venue=lim["venue"],
            base=lim["base"],
            quote=lim["quote"],
            tick_size=tick,
            lot_size=lot,
            **{
                k: (-1 if lim[k] == 2**63 - 1 else lim[k])
                for k in (
                    "price_mult",
                    "lot_mult",
                    "min_qty",
                    "max_qty",
                    "min_notional",
                    "max_notional",
                    "max_order_qty",
                    "max_order_notional",
                    "max_position",
                    "quote_factor",
                    "base_factor",
                )
            },
            collar_e8=lim["collar_e8"],
            max_book_age_ns=lim["max_book_age"],
        )
        book = OrderBook(tick_size=tick, lot_size=lot, capacity=64)
        book.apply_snapshot([(bid, "50")], [(ask, "50")], recv_ts=NOW0)
        book.state = 1
        engine.bind_book(i, book)
        py.bind_book(i, book)
        books.append(book)
        mids.append((book.to_ticks(bid) + book.to_ticks(ask)) // 2)
    py.set_global_limits(
        max_gross_exposure=engine.max_gross_exposure, daily_loss_limit=engine.daily_loss_limit
    )
    for a in range(engine.n_assets):
        engine.set_balance(0, a, 2**61)
        py.set_balance(0, a, 2**61)
    return engine, py, books, mids


def make_orders(legs: tuple, mids: list[int], n: int) -> tuple[np.ndarray, list[list[list[int]]]]:
    """``n`` lists of ``legs`` with fresh ids: one ORDER_DTYPE array, and Python rows."""
    arr = np.zeros(n * len(legs), dtype=ORDER_DTYPE)
    rows: list[list[list[int]]] = []
    cid = 1
    for c in range(n):
        lst = []
        for k, (inst, side, qty, off) in enumerate(legs):
            row = [cid, mids[inst] + off, qty, mids[inst], inst, side, LIMIT]
            arr[c * len(legs) + k] = tuple(row)
            lst.append(row)
            cid += 1
        rows.append(lst)
    return arr, rows


def _timed(fn: Callable[[], Any]) -> tuple[int, Any]:
    t0 = time.perf_counter_ns()
    out = fn()
    return time.perf_counter_ns() - t0, out


def close_all(engine: Any, n_ids: int) -> None:
    for cid in range(1, n_ids + 1):
        engine.on_order_close(cid)


_EVICT = np.ones(8 << 20)  # 64 MB: touching it pushes the engine's state out of every cache


def _evict_caches() -> None:
    float(_EVICT.sum())


def prepare(case: str, n: int) -> tuple[RiskEngine, PyRiskEngine, np.ndarray, list, np.ndarray]:
    """Engines and ``n`` lists of ``case``, checked once by both (untimed) and then cleared.

    Both must pass every leg and leave the same balances and open orders, else RiskBenchError.
    """
    legs = LIST3[:1] if case == "risk_order" else LIST3
    n_legs = len(legs)
    engine, py, _books, mids = make_engines(max_open_ids=max(4096, 2 * n * n_legs))
    arr, rows = make_orders(legs, mids, n)
    codes = np.zeros(len(arr), dtype=np.int32)
    py_codes = [0] * n_legs
    for c in range(n):
        now = NOW0 + c * STEP_NS
        engine.check(arr[c * n_legs : (c + 1) * n_legs], codes[c * n_legs : (c + 1) * n_legs], now)
        py.check(rows[c], py_codes, now)
        if codes[c * n_legs : (c + 1) * n_legs].tolist() != py_codes or any(py_codes):
            names = [reason_name(x) for x in codes[c * n_legs : (c + 1) * n_legs]]
            raise RiskBenchError(f"{case}: list {c}: openclaw {names}, python {py_codes}")
    for a in range(engine.n_assets):
        if engine.balance(0, a) != py.balance(0, a):
            raise RiskBenchError(f"{case}: balances differ on asset {a}")
    if (engine.n_open_ids, engine.open_orders(0)) != (py.n_open_ids, py.open_orders(0)):
        raise RiskBenchError(f"{case}: open orders differ")
    close_all(engine, n * n_legs)
    close_all(py, n * n_legs)
    return engine, py, arr, rows, codes


def run_case(case: str, n: int, reps: int) -> list[dict[str, Any]]:
    """Time one case for both implementations; returns one row per implementation."""
    engine, py, arr, rows, codes = prepare(case, n)
    n_legs = len(arr) // n
    py_codes = [0] * n_legs
    engine.use_buffers(arr, codes)
    clock = [NOW0 + n * STEP_NS]  # the injected clock keeps moving forward across runs

    def in_cython() -> int:
        elapsed, failed = engine.bench_check(arr, n_legs, clock[0], STEP_NS, codes)
        wall[0] = elapsed  # the in-Cython clock, without the one Python call
        return failed

    def via_python_calls() -> int:
        check = engine.check_slice
        failed = 0
        now = clock[0]
        for start in range(0, n * n_legs, n_legs):
            failed += check(start, n_legs, now) != 0
            now += STEP_NS
        return failed

    def python_impl() -> int:
        check = py.check
        failed = 0
        now = clock[0]
        for lst in rows:
            failed += check(lst, py_codes, now) != 0
            now += STEP_NS
        return failed

    wall = [0]
    samples: dict[str, list[float]] = {"openclaw": [], "cold": [], "pycall": [], "python": []}
    runners = (
        ("openclaw", engine, in_cython),
        ("cold", engine, in_cython),
        ("pycall", engine, via_python_calls),
        ("python", py, python_impl),
    )
    for rep in range(reps):
        order = runners[rep % 4 :] + runners[: rep % 4]
        gc.collect()
        was = gc.isenabled()
        gc.disable()
        try:
            for name, eng, fn in order:
                close_all(eng, n * n_legs)  # same state every run (and the ids' slots warm)
                if name == "cold":
                    _evict_caches()
                wall[0] = 0
                elapsed, failed = _timed(fn)
                if failed:
                    raise RiskBenchError(f"{case}/{name}: {failed} lists failed while timed")
                samples[name].append((wall[0] or elapsed) / n)
                clock[0] += n * STEP_NS
        finally:
            if was:
                gc.enable()
    close_all(engine, n * n_legs)
    close_all(py, n * n_legs)
    med = {k: statistics.median(v) for k, v in samples.items()}
    common = {"case": case, "per": CASE_UNIT[case], "legs": n_legs, "n": n, "reps": reps}
    return [
        {
            **common,
            "impl": "openclaw",
            "median_ns": round(med["openclaw"], 1),
            "cold_median_ns": round(med["cold"], 1),
            "pycall_median_ns": round(med["pycall"], 1),
            "call_overhead_ns": round(med["pycall"] - med["openclaw"], 1),
            "ratio_vs_python": round(med["python"] / med["openclaw"], 1),
            "ratio_vs_python_cold": round(med["python"] / med["cold"], 1),
            "ratio_vs_python_pycall": round(med["python"] / med["pycall"], 1),
        },
        {**common, "impl": "python", "median_ns": round(med["python"], 1)},
    ]


def run_risk_bench(quick: bool) -> list[dict[str, Any]]:
    """Both cases for both implementations, timed in this process (see the module docstring)."""
    n, reps = (1000, 5) if quick else (3000, 15)
    out: list[dict[str, Any]] = []
    for case in CASES:
        out.extend(run_case(case, n, reps))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        rows = run_risk_bench(args.quick)
    except RiskBenchError as exc:
        print(f"risk bench check failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        extra = ""
        if r["impl"] == "openclaw":
            extra = (
                f"  (cold caches {r['cold_median_ns']:.0f}, one Python call per "
                f"{r['per']} {r['pycall_median_ns']:.0f})  x{r['ratio_vs_python']:.0f} vs "
                f"python (cold x{r['ratio_vs_python_cold']:.0f}, "
                f"Python calls x{r['ratio_vs_python_pycall']:.0f})"
            )
        print(f"{r['case']:<11} {r['impl']:<9} {r['median_ns']:>9.1f} ns/{r['per']}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
