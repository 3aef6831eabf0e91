"""Latency reports from a stage clock: where the microseconds of each event went.

Each event carries monotonic ns timestamps at the stages it passed (``openclaw._core.stageclock``).
A stage's latency is the time from the previous stage the event reached to this one; the
end-to-end latency runs from the first to the last stage reached. Reports give p50/p90/p99/
p99.9/max, count and jitter (p99/p50) per stage and end to end, and the worst events with their
breakdown, as a dict (for ``--json``), a rich table, or a PNG (matplotlib, optional).
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np

from openclaw._core.stageclock import StageClock

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}

__all__ = ["StageClock", "latency_report", "summarize", "report_table", "save_plot"]


def summarize(samples_ns: np.ndarray) -> dict[str, float]:
    """Percentiles (microseconds), max, count and jitter of a sample of ns durations."""
    n = int(samples_ns.size)
    if n == 0:
        return {"count": 0}
    us = samples_ns.astype(np.float64) / 1e3
    out: dict[str, float] = {k: float(np.percentile(us, q)) for k, q in PERCENTILES.items()}
    out["max"] = float(us.max())
    out["count"] = n
    out["jitter"] = out["p99"] / out["p50"] if out["p50"] > 0 else float("inf")
    return out


def stage_durations(clock: StageClock) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """({stage: durations ns}, end-to-end ns, row index of each end-to-end sample)."""
    rows = clock.snapshot()
    names = clock.stages
    reached = rows > 0
    per: dict[str, np.ndarray] = {}
    for i in range(1, len(names)):
        # the previous stage this event reached (stages may be skipped, e.g. no signal)
        prev = np.zeros(rows.shape[0], dtype=np.int64)
        for j in range(i):
            prev = np.where(reached[:, j], rows[:, j], prev)
        ok = reached[:, i] & (prev > 0)
        per[names[i]] = (rows[ok, i] - prev[ok])
    last = np.max(rows, axis=1)
    ok = reached[:, 0] & (reached[:, 1:].any(axis=1))
    return per, (last - rows[:, 0])[ok], np.nonzero(ok)[0]


def latency_report(clock: StageClock, worst: int = 5) -> dict[str, Any]:
    """Per-stage and end-to-end statistics (microseconds) and the ``worst`` events."""
    per, e2e, idx = stage_durations(clock)
    rows = clock.snapshot()
    names = clock.stages
    worst_events = []
    for k in np.argsort(e2e)[::-1][:worst]:
        row = rows[idx[k]]
        breakdown = {}
        prev = row[0]
        for j in range(1, len(names)):
            if row[j] > 0:
                breakdown[names[j]] = (row[j] - prev) / 1e3
                prev = row[j]
        worst_events.append({"total_us": e2e[k] / 1e3, "stages_us": breakdown})
    return {
        "events": int(clock.n_events),
        "stages": {name: summarize(d) for name, d in per.items()},
        "end_to_end": summarize(e2e),
        "worst": worst_events,
    }


def report_table(report: dict[str, Any], title: str = "latency (us)") -> Any:
    """A rich Table: stage | p50 | p90 | p99 | p99.9 | max | count | jitter."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("stage", "p50", "p90", "p99", "p99.9", "max", "count", "jitter"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    items = list(report["stages"].items()) + [("end to end", report["end_to_end"])]
    for name, s in items:
        if not s.get("count"):
            table.add_row(name, *["-"] * 5, "0", "-")
            continue
        table.add_row(name, *(f"{s[k]:,.1f}" for k in ("p50", "p90", "p99", "p99.9", "max")),
                      str(s["count"]), f"{s['jitter']:.1f}")
    return table


def save_plot(clock: StageClock, path: str) -> None:
    """Histogram and CDF of every stage and end to end, as a PNG (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise RuntimeError("plots need matplotlib: pip install 'openclaw[plot]'") from e
    per, e2e, _ = stage_durations(clock)
    series = {**per, "end to end": e2e}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, d in series.items():
        if d.size == 0:
            continue
        us = np.sort(d / 1e3)
        ax1.hist(us, bins=60, histtype="step", label=name, log=True)
        ax2.plot(us, np.arange(1, us.size + 1) / us.size, label=name)
    ax1.set_xlabel("us")
    ax1.set_title("histogram")
    ax2.set_xscale("log")
    ax2.set_xlabel("us")
    ax2.set_title("CDF")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class GcPauses:
    """Every garbage collection timed while installed (``gc.callbacks``): how many per
    generation, their total and longest pause. Long-running entry points freeze the start-up
    heap (``gc.freeze``) so that gen-2 passes do not walk it; this shows what is left."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total_ns = [0, 0, 0]
        self.max_ns = [0, 0, 0]
        self._t0 = 0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter_ns()
            return
        g = min(int(info.get("generation", 2)), 2)
        d = time.perf_counter_ns() - self._t0
        self.count[g] += 1
        self.total_ns[g] += d
        if d > self.max_ns[g]:
            self.max_ns[g] = d

    def install(self) -> GcPauses:
        """Start timing collections; returns self."""
        gc.callbacks.append(self._callback)
        return self

    def uninstall(self) -> None:
        """Stop timing (idempotent)."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def report(self) -> dict[str, Any]:
        """Per generation: ``collections``, ``total_ms``, ``max_ms``; and the frozen objects."""
        return {"collections": list(self.count),
                "total_ms": [round(t / 1e6, 3) for t in self.total_ns],
                "max_ms": [round(t / 1e6, 3) for t in self.max_ns],
                "frozen_objects": gc.get_freeze_count()}


def freeze_startup_heap() -> None:
    """Collect once, then move everything alive into the permanent generation: objects made at
    start-up live for the whole run and need not be scanned again (``gc.unfreeze`` undoes)."""
    gc.collect()
    gc.freeze()
