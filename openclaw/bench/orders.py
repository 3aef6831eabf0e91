"""``openclaw-trading bench orders``: 3-leg order lists through ccxt and through the fast WebSocket
routes, interleaved in one run, against the simulators running in another process.

Each list is one market order per venue (Binance, OKX, Bybit; BTC/USDT, 0.001 BTC, buys and sells
alternating so balances stay put), sent by ``Router.send_list`` exactly as the arbitrage pipeline
sends it: journal every leg first, then all legs at once. Per list the clock runs from just before
``send_list`` (the order list is built and risk-approved) to the last leg's acknowledgement
(``Order.acked_ns``); the two routes alternate which goes first so neither gets the warmer turn.
Also reported: per order, the fast route's own Python work from ``place(order)`` to the frame
handed to ``transport.write`` (build + sign + frame), the same up to ``write()`` returning (the
kernel's loopback send included), and the template build alone in a tight loop.

Targets (issue 8): fast p50 < 1 ms, p99 < 3 ms, p50 at least 2.5x faster than ccxt in the same
run; per order approved -> bytes on the socket < 30 us. Every order must be acknowledged (a
rejected or unknown leg fails the run: a fast path that drops orders is not fast).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import platform
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from openclaw.bench.simproc import SimProcess, module_args
from openclaw.execution.fast import FastConfig
from openclaw.execution.ratelimit import TokenBucket
from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.journal import Journal
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order, OrderStatus, OrderType, Side
from openclaw.venues.registry import make_fast_route

VENUES = ("binance", "okx", "bybit")
WS_URL_KEY = {"binance": "ws_api", "okx": "ws_private", "bybit": "ws_trade"}
QTY = Decimal("0.001")
TARGETS = {"fast_p50_us": 1000.0, "fast_p99_us": 3000.0, "ratio_p50": 2.5,
           "send_p50_us": 30.0}


async def start_sim_process(seed: int = 7, rate: float = 2.0
                            ) -> tuple[SimProcess, dict[str, dict[str, str]]]:
    """``python -m openclaw.sim`` in a child process (``openclaw.bench.simproc``); returns it
    and the URLs it printed."""
    sim = SimProcess(module_args("openclaw.sim", "--seed", str(seed), "--rate", str(rate)))
    info = await sim.start()
    urls = info.get("urls", {})
    missing = [v for v in VENUES if WS_URL_KEY[v] not in urls.get(v, {})]
    if missing:
        await sim.stop()
        raise RuntimeError(f"simulator serves no trading WebSocket for {missing}")
    return sim, urls


async def stop_sim_process(sim: SimProcess) -> None:
    """SIGTERM, then wait (kill after 10 s)."""
    await sim.stop()


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _summary(us: list[float]) -> dict[str, float]:
    return {"n": len(us), "p50_us": _pct(us, 0.50), "p90_us": _pct(us, 0.90),
            "p99_us": _pct(us, 0.99), "mean_us": statistics.fmean(us) if us else float("nan"),
            "min_us": min(us) if us else float("nan")}


def _legs(ids: ClientIdFactory, side: str) -> list[Order]:
    opp = ids.next_opportunity()
    return [Order(ids.make(opp, k), v, "BTC/USDT", Side(side), OrderType.MARKET, QTY, None,
                  opp, k) for k, v in enumerate(VENUES)]


def build_microbench(loops: int = 20000) -> dict[str, float]:
    """ns per order of the fast routes' template build + signature alone (no socket)."""
    creds = Credentials.simulator()
    out: dict[str, float] = {}
    ids = ClientIdFactory()
    for venue in VENUES:
        route = make_fast_route(venue, f"ws://127.0.0.1:1/{venue}", creds)
        route.use_markets({"BTC/USDT": {"instIdCode": 10001}})     # OKX: its instIdCode
        orders = [Order(ids.make(ids.next_opportunity(), 0), venue, "BTC/USDT", Side.BUY,
                        OrderType.LIMIT, Decimal("0.00123"), Decimal("65000.1"), 1, 0)
                  for _ in range(256)]
        build = route._build_place
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter_ns()
            for i in range(loops):
                build(orders[i & 255])
            best = min(best, (time.perf_counter_ns() - t0) / loops)
        out[venue] = best
    return out


async def _run(lists: int, warmup: int, seed: int, intent_log: bool = True) -> dict[str, Any]:
    proc, urls = await start_sim_process(seed)
    tmp = tempfile.TemporaryDirectory(prefix="openclaw-bench-orders-")
    journal = await Journal.open(Path(tmp.name) / "journal.sqlite", synchronous="NORMAL",
                                 intent_log=intent_log)
    creds = Credentials.simulator()

    def bucket() -> TokenBucket:        # the bench measures latency, not our throttle
        return TokenBucket(rate=1e6, burst=1e6)

    ccxt_routes = {v: VenueRoute(v, make_client(v, creds, urls[v]["rest"]), bucket())
                   for v in VENUES}
    fast_routes = {v: VenueRoute(v, make_client(v, creds, urls[v]["rest"]), bucket(),
                                 fast=make_fast_route(v, urls[v][WS_URL_KEY[v]], creds,
                                                      FastConfig(timeout_s=5.0)))
                   for v in VENUES}
    routers = {"ccxt": Router(ccxt_routes, journal), "fast": Router(fast_routes, journal)}
    samples: dict[str, list[float]] = {"ccxt": [], "fast": []}
    first: dict[str, list[float]] = {"ccxt": [], "fast": []}    # list start -> first leg sent
    failures: list[str] = []
    ids = ClientIdFactory()
    try:
        for r in (*ccxt_routes.values(), *fast_routes.values()):
            await r.start()
        gc.collect()
        gc.freeze()
        for i in range(warmup + lists):
            side = "buy" if i % 2 == 0 else "sell"
            order_of_turns = ("ccxt", "fast") if (i // 2) % 2 == 0 else ("fast", "ccxt")
            for name in order_of_turns:
                legs = _legs(ids, side)
                sent: list[int] = []
                t0 = time.time_ns()
                m0 = time.monotonic_ns()
                await routers[name].send_list(legs, on_first_send=sent.append)
                bad = [o for o in legs if o.acked_ns is None
                       or o.status in (OrderStatus.REJECTED, OrderStatus.UNKNOWN)]
                if bad:
                    failures += [f"{name} {o.venue} {o.client_id} {o.status.value}: {o.reason}"
                                 for o in bad]
                    continue
                if i >= warmup:
                    acked = max(o.acked_ns or 0 for o in legs)
                    samples[name].append((acked - t0) / 1000)
                    if sent:
                        first[name].append((sent[0] - m0) / 1000)
            await asyncio.sleep(0.002)      # let both processes finish their bookkeeping
        send = {v: [ns / 1000 for ns in fast_routes[v].fast.send_timings_ns()[warmup:]]
                for v in VENUES}
        py = {v: [ns / 1000 for ns in fast_routes[v].fast.send_timings_ns(False)[warmup:]]
              for v in VENUES}
        fallbacks = {v: fast_routes[v].fast.stats.fallbacks for v in VENUES}
    finally:
        gc.unfreeze()
        for r in (*ccxt_routes.values(), *fast_routes.values()):
            with contextlib.suppress(Exception):
                await r.close()
        await journal.close()
        tmp.cleanup()
        await stop_sim_process(proc)
    ccxt_s, fast_s = _summary(samples["ccxt"]), _summary(samples["fast"])
    all_send = [x for xs in send.values() for x in xs]
    all_py = [x for xs in py.values() for x in xs]
    result: dict[str, Any] = {
        "bench": "orders",
        "lists": lists,
        "warmup": warmup,
        "legs": list(VENUES),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "ccxt": ccxt_s,
        "fast": fast_s,
        "intent_log": intent_log,
        "first_send_us": {k: _summary(v) for k, v in first.items()},
        "ratio_p50": ccxt_s["p50_us"] / fast_s["p50_us"] if samples["fast"] else None,
        "ratio_p99": ccxt_s["p99_us"] / fast_s["p99_us"] if samples["fast"] else None,
        "python_per_order_us": {v: _summary(xs) for v, xs in py.items()},
        "python_all_p50_us": _pct(all_py, 0.5),
        "python_all_p99_us": _pct(all_py, 0.99),
        "send_per_order_us": {v: _summary(xs) for v, xs in send.items()},
        "send_all_p50_us": _pct(all_send, 0.5),
        "send_all_p99_us": _pct(all_send, 0.99),
        "fallbacks": fallbacks,
        "failures": failures,
    }
    return result


def run_orders_bench(lists: int = 200, warmup: int = 20, json_out: bool = False,
                     seed: int = 7, intent_log: bool = True) -> dict[str, Any]:
    """Run the benchmark (simulators in a child process) and print the result."""
    if lists < 1 or warmup < 0:
        raise ValueError(f"lists must be >= 1 and warmup >= 0, not {lists}, {warmup}")
    result = asyncio.run(_run(lists, warmup, seed, intent_log))
    result["build_ns"] = build_microbench()
    fast, ratio = result["fast"], result["ratio_p50"]
    result["targets"] = {
        "fast_p50_under_1ms": fast["p50_us"] < TARGETS["fast_p50_us"],
        "fast_p99_under_3ms": fast["p99_us"] < TARGETS["fast_p99_us"],
        "ratio_p50_at_least_2.5": ratio is not None and ratio >= TARGETS["ratio_p50"],
        "python_p50_under_30us": result["python_all_p50_us"] < TARGETS["send_p50_us"],
    }
    result["ok"] = not result["failures"] and not any(result["fallbacks"].values())
    if json_out:
        print(orjson.dumps(result).decode())
    else:
        _print(result)
    return result


def _print(r: dict[str, Any]) -> None:
    print(f"openclaw-trading bench orders: {r['lists']} 3-leg lists per route "
          f"(+{r['warmup']} warm-up), "
          "simulators in another process, interleaved")
    print(f"{'route':8s} {'p50 us':>9s} {'p90 us':>9s} {'p99 us':>9s} {'mean us':>9s}")
    for name in ("ccxt", "fast"):
        s = r[name]
        print(f"{name:8s} {s['p50_us']:9.0f} {s['p90_us']:9.0f} {s['p99_us']:9.0f} "
              f"{s['mean_us']:9.0f}")
    rp50, rp99 = r["ratio_p50"], r["ratio_p99"]
    print(f"ratio ccxt/fast: p50 {rp50:.2f}x, p99 {rp99:.2f}x" if rp50 else "ratio: n/a")
    print("fast route, per order: place() -> frame handed to transport.write (our Python work)"
          " | -> write() returned (incl. the kernel's send) | template build + signature alone"
          " (us)")
    for v, s in r["python_per_order_us"].items():
        k = r["send_per_order_us"][v]
        print(f"  {v:8s} p50 {s['p50_us']:6.1f} p99 {s['p99_us']:6.1f} | p50 {k['p50_us']:6.1f}"
              f" p99 {k['p99_us']:6.1f} | {r['build_ns'][v] / 1000:.1f}")
    for name, ok in r["targets"].items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    if r["failures"]:
        print(f"{len(r['failures'])} order(s) not acknowledged:")
        for f in r["failures"][:20]:
            print(f"  {f}")
    if any(r["fallbacks"].values()):
        print(f"fallbacks to ccxt during the run: {r['fallbacks']}")
