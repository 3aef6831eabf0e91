"""Benchmarks of the IBKR strategies' own logic (no broker) against two targets: the momentum
scan (load + plan over 500 stocks) under 20 ms, and FX quote -> order on the socket p50 under
100 us.

Cases:
  momentum_scan   500 stocks x 253 daily closes: the close matrix read from the bar cache
                  (``CachedBars.daily_closes``, a matrix-file hit, including the worker-thread
                  hop) plus the whole decision (``plan_from_closes``: 12-1 scores, ranking,
                  target shares, sells-then-buys orders within cash, exclusion reasons).
                  Target: under 20 ms. Reported: median ms of load, plan and both.
  fx_on_quote     ``FxScalper.on_quote`` on a mean-reverting EUR/USD series inside the London/
                  New York overlap, risk checks on (``QuoteRisk``), the sender writing each order
                  (a ~120-byte message) to a real loopback socket pair. Target: quote received
                  -> order handed to the socket, p50 under 100 us. Reported: p50/p99 of that
                  (stage clock, quote -> sent) over the quotes that became orders, and the
                  median cost of a quote that does not.

Synthetic data, fixed seeds; GC off in timed loops. Run: ``python -m openclaw.bench.ibkr_logic
[--quick] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import socket
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from openclaw.feeds.bar_cache import BarCache, CachedBars, CloseMatrix, DailyBars
from openclaw.latency import stage_durations, summarize
from openclaw.model.orders import Order, OrderType
from openclaw.risk.quotes import QuoteListRisk, QuoteRisk, fx_limits
from openclaw.strategies.fx import FxIntent, FxScalper, FxScalperConfig
from openclaw.strategies.momentum import AccountSnapshot, MomentumConfig, plan_from_closes

THROUGH = date(2026, 11, 20)
WALL_IN_OVERLAP = 1_789_473_600 * 10**9  # 2026-09-15 12:00 UTC (a Tuesday, in the overlap)


def synthetic_universe(n: int = 500, days: int = 253, seed: int = 5) -> CloseMatrix:
    """``n`` random-walk stocks (5% listed too recently) on ``days`` sessions."""
    rng = np.random.default_rng(seed)
    drift = rng.normal(0.0003, 0.0008, (n, 1))
    c = (10 + 290 * rng.random((n, 1))) * np.exp(
        np.cumsum(drift + rng.normal(0, 0.02, (n, days)), axis=1))
    short = rng.choice(n, n // 20, replace=False)
    c[short, : days // 2] = np.nan
    dates = np.datetime64(THROUGH) - np.arange(days)[::-1]
    return CloseMatrix(tuple(f"T{i:03d}" for i in range(n)), dates, c)


class _NoFetch:
    async def fetch_daily_bars(self, symbol: str, days: int) -> DailyBars:
        raise AssertionError(f"the benchmark must hit the cache, fetched {symbol}")


def run_momentum_bench(reps: int = 30, n: int = 500) -> dict[str, Any]:
    """Median ms of (cache read, plan, both) for an ``n``-stock scan."""
    m = synthetic_universe(n)
    cfg = MomentumConfig(universe=list(m.symbols), top_n=50)
    held = {s: 100 for s in m.symbols[::25]}
    acct = AccountSnapshot(1_000_000.0, 200_000.0, held, {})
    with tempfile.TemporaryDirectory() as d:
        cache = BarCache(Path(d))
        key = BarCache.matrix_key(m.symbols, cfg.lookback_days + 1, THROUGH)
        cache.store_matrix(key, m)
        bars = CachedBars(cache, _NoFetch(), through=lambda: THROUGH)

        async def once() -> tuple[int, int]:
            t0 = time.perf_counter_ns()
            got = await bars.daily_closes(cfg.universe, cfg.lookback_days + 1)
            t1 = time.perf_counter_ns()
            plan = plan_from_closes("momentum-2026-11-23", cfg, got, acct)
            t2 = time.perf_counter_ns()
            assert len(plan.picks) == 50 and plan.orders
            return t1 - t0, t2 - t1

        async def loop() -> list[tuple[int, int]]:
            await once()  # warm-up (imports, calendar, page cache)
            out = []
            gc.disable()
            try:
                for _ in range(reps):
                    out.append(await once())
            finally:
                gc.enable()
            return out

        rows = asyncio.run(loop())
    load = [a / 1e6 for a, _ in rows]
    plan = [b / 1e6 for _, b in rows]
    total = [(a + b) / 1e6 for a, b in rows]
    return {
        "case": "momentum_scan",
        "stocks": n,
        "days": cfg.lookback_days + 1,
        "load_median_ms": statistics.median(load),
        "plan_median_ms": statistics.median(plan),
        "total_median_ms": statistics.median(total),
        "total_max_ms": max(total),
        "reps": reps,
        "target_ms": 20.0,
    }


def ou_mids(n: int, seed: int = 9) -> list[float]:
    rng = np.random.default_rng(seed)
    x, out = 0.0, []
    for _ in range(n):
        x = 0.9 * x + rng.normal(0, 1.5e-4)
        out.append(round((1.085 + x) * 1e5) / 1e5)
    return out


def _filled(it: FxIntent) -> Order:
    """The intent's order, filled at its limit (the outcome the session would report)."""
    o = Order(it.client_id, "ibkr", it.pair.replace("/", "."), it.side, OrderType.LIMIT,
              Decimal(it.qty), it.limit_price, it.event, 0)
    o.mark_sent()
    o.fill(f"f-{it.client_id}", Decimal(it.qty), it.limit_price)
    return o


def run_fx_bench(quotes: int = 50_000) -> dict[str, Any]:
    """Quote -> order handed to the socket (stage clock), and the cost of a quiet quote."""
    cfg = FxScalperConfig(window=120, entry_z=2.0, exit_z=0.5)
    risk = QuoteRisk(fx_limits(cfg.pairs, max_orders=None))
    for a in ("USD", "EUR", "GBP"):
        risk.set_balance(a, 10**10)
    a_sock, b_sock = socket.socketpair()
    a_sock.setblocking(False)
    drained = bytearray()

    def send(it: FxIntent) -> None:
        msg = (f"order|{it.client_id}|EUR.USD|IDEALPRO|{it.side.value}|{it.qty}|LMT|"
               f"{it.limit_price}|IOC|").ljust(120).encode()
        a_sock.send(msg)

    s = FxScalper(cfg, risk=risk, sender=send)
    # what the order manager tells the engine, untimed
    outcome = QuoteListRisk(risk, symbols={p.replace("/", "."): p for p in cfg.pairs})
    mids = ou_mids(quotes)
    quiet: list[int] = []
    gc.collect()
    gc.disable()
    try:
        for k, mid in enumerate(mids):
            t0 = time.monotonic_ns()
            it = s.on_quote("EUR/USD", mid - 0.00001, mid + 0.00001, t0,
                            WALL_IN_OVERLAP + k * 10**8)
            if it is None:
                quiet.append(time.monotonic_ns() - t0)
                continue
            # the session's side, untimed: ack and fill come back, the socket is drained
            s.on_ack(it.client_id)
            s.on_fill(it.client_id, it.qty, it.limit_price)
            outcome.on_result([_filled(it)])
            drained += b_sock.recv(4096)
    finally:
        gc.enable()
        a_sock.close()
        b_sock.close()
    rows = s.clock.snapshot()
    sent = rows[:, 3] > 0
    to_sock = (rows[sent, 3] - rows[sent, 0]).astype(np.int64)
    per, _, _ = stage_durations(s.clock)
    return {
        "case": "fx_on_quote",
        "quotes": quotes,
        "orders": int(sent.sum()),
        "denied": dict(s.denied),
        "quote_to_socket_us": summarize(to_sock),
        "stages_us": {k: summarize(v) for k, v in per.items() if k in ("signal", "risk", "sent")},
        "quiet_quote_median_us": statistics.median(quiet) / 1e3,
        "bytes_sent": len(drained),
        "target_p50_us": 100.0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    mom = run_momentum_bench(reps=10 if args.quick else 30)
    fx = run_fx_bench(quotes=10_000 if args.quick else 50_000)
    if args.json:
        print(json.dumps({"momentum": mom, "fx": fx}, indent=2))
        return 0
    print(f"momentum_scan {mom['stocks']} stocks x {mom['days']} days: "
          f"load {mom['load_median_ms']:.2f} ms + plan {mom['plan_median_ms']:.2f} ms = "
          f"{mom['total_median_ms']:.2f} ms median (target < 20 ms)")
    q = fx["quote_to_socket_us"]
    print(f"fx_on_quote {fx['orders']} orders of {fx['quotes']} quotes: quote -> socket "
          f"p50 {q.get('p50', float('nan')):.1f} us, p99 {q.get('p99', float('nan')):.1f} us "
          f"(target p50 < 100 us); quiet quote {fx['quiet_quote_median_us']:.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
