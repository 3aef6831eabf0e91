"""Benchmark-style report of journal write latency (printed, not asserted).

Per-write latency is ``await record_*`` from call to return (commit included), one write at a
time; "loop" is the part spent on the event-loop thread (building the row, queue put); the
concurrent run shows group commit (many awaiting writers share one fsync). The send path: a
3-leg list journaled as ``gather(record_new x3)`` (before) and ``record_new_batch`` (inline on
the loop with NORMAL, one writer-thread call with FULL), call -> awaited.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import pytest
from support.aio import deadline
from support.orders import make_order

from openclaw.journal import Journal

run = deadline(20.0)

N = 300


def _pct(values: list[int], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] / 1e3


@pytest.mark.parametrize("sync", ["FULL", "NORMAL"])
def test_write_latency_report(
    tmp_path: Path, sync: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def body() -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        async with await Journal.open(tmp_path / "lat.sqlite", synchronous=sync) as j:  # type: ignore[arg-type]
            for _ in range(20):  # warm-up
                await j.record_new(make_order())
            new_ns, loop_ns, fill_ns = [], [], []
            for _ in range(N):
                o = make_order(qty="1")
                t0 = time.perf_counter_ns()
                fut = j.record_new(o)
                t1 = time.perf_counter_ns()
                await fut
                t2 = time.perf_counter_ns()
                new_ns.append(t2 - t0)
                loop_ns.append(t1 - t0)
                o.mark_sent()
                ev = o.fill("t1", "1", "100", "0.1", "USDT")
                assert ev is not None
                t0 = time.perf_counter_ns()
                await j.record_event(o, ev)
                fill_ns.append(time.perf_counter_ns() - t0)
            out["record_new"] = (_pct(new_ns, 0.5), _pct(new_ns, 0.99))
            out["record_event(fill)"] = (_pct(fill_ns, 0.5), _pct(fill_ns, 0.99))
            out["loop-thread share"] = (_pct(loop_ns, 0.5), _pct(loop_ns, 0.99))
            orders = [make_order() for _ in range(2000)]
            b0 = j.stats().batches
            t0 = time.perf_counter_ns()
            await asyncio.gather(*(j.record_new(o) for o in orders))
            dt = time.perf_counter_ns() - t0
            batches = j.stats().batches - b0
            out["2000 concurrent"] = (dt / 1e3, 2000 / batches)
            gather_ns, batch_ns, batch_loop_ns = [], [], []
            for _ in range(N):
                legs = [make_order(leg=k) for k in range(3)]
                t0 = time.perf_counter_ns()
                await asyncio.gather(*(j.record_new(o) for o in legs))
                gather_ns.append(time.perf_counter_ns() - t0)
                legs = [make_order(leg=k) for k in range(3)]
                t0 = time.perf_counter_ns()
                fut = j.record_new_batch(legs)
                t1 = time.perf_counter_ns()
                await fut
                batch_ns.append(time.perf_counter_ns() - t0)
                batch_loop_ns.append(t1 - t0)
            out["3 legs: gather"] = (_pct(gather_ns, 0.5), _pct(gather_ns, 0.99))
            out["3 legs: batch"] = (_pct(batch_ns, 0.5), _pct(batch_ns, 0.99))
            out["batch: loop share"] = (_pct(batch_loop_ns, 0.5), _pct(batch_loop_ns, 0.99))
            out["inline"] = (float(j.inline), j.stats().inline_max_us)
            assert await j.consistency_check() == []
        return out

    res = run(body, timeout=60)
    with capsys.disabled():
        print(f"\njournal write latency, synchronous={sync}, {N} sequential writes (us):")
        for name in ("record_new", "record_event(fill)", "loop-thread share", "3 legs: gather",
                     "3 legs: batch", "batch: loop share"):
            med, p99 = res[name]
            print(f"  {name:20s} median {med:8.1f}  p99 {p99:8.1f}")
        total_us, per_batch = res["2000 concurrent"]
        print(
            f"  2000 concurrent record_new: {total_us / 1e3:.1f} ms total, "
            f"{2000 / (total_us / 1e6):,.0f} writes/s, {per_batch:.0f} writes per commit"
        )
        inline, inline_max = res["inline"]
        print(f"  record_new_batch inline: {bool(inline)}, longest inline write"
              f" {inline_max:.0f} us")
    assert statistics.median([res["record_new"][0]]) > 0
