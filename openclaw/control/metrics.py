"""``/metrics``: the running system in Prometheus' text format, read at scrape time.

Nothing is counted on the hot path for this: a custom collector reads the counters the
pipeline, gate, router, aggregator and control API keep anyway, once per scrape, into a registry
of its own (never the process-global one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BOOK_STATES = ("SYNCING", "LIVE", "STALE", "RESYNCING")
QUANTILES = ("p50", "p90", "p99", "p99.9", "max")


class EngineCollector:
    """Collects the gauges and counters of one ``ControlOps``' running system."""

    def __init__(self, ops: Any) -> None:
        self.ops = ops

    def describe(self) -> list[Metric]:
        """No fixed description (collected fresh at each scrape)."""
        return []

    def collect(self) -> Iterator[Metric]:
        ops, r = self.ops, self.ops.r
        halted, _ = ops.halted()
        g = GaugeMetricFamily("openclaw_halted", "1 while trading is halted")
        g.add_metric([], 1.0 if halted else 0.0)
        yield g
        g = GaugeMetricFamily("openclaw_ready", "1 when every book is LIVE and not halted")
        g.add_metric([], 1.0 if ops.books_live() and not halted else 0.0)
        yield g
        books = ops.books()
        g = GaugeMetricFamily("openclaw_books", "books by state", labels=["state"])
        states = {s: 0 for s in BOOK_STATES}
        for b in books:
            states[b["state"]] = states.get(b["state"], 0) + 1
        for s, n in states.items():
            g.add_metric([s], n)
        yield g
        g = GaugeMetricFamily("openclaw_book_live", "1 when the book is LIVE",
                              labels=["venue", "symbol"])
        for b in books:
            g.add_metric([b["venue"], b["symbol"]], 1.0 if b["state"] == "LIVE" else 0.0)
        yield g
        agg = getattr(r, "aggregator", None)
        if agg is not None:
            c = CounterMetricFamily("openclaw_feed_messages", "depth messages per feed",
                                    labels=["feed"])
            for name, cnt in agg.counters.items():
                c.add_metric([name], float(getattr(cnt, "messages", 0)))
            yield c
        p = getattr(r, "pipeline", None)
        if p is not None:
            s, ms = p.stats, p.manager.stats
            for name, help_, val in (
                    ("opportunities", "arbitrage opportunities detected", s.opportunities),
                    ("arbitrages", "arbitrages started", s.arbitrages),
                    ("orders", "orders sent", ms.orders),
                    ("filled_legs", "legs filled", ms.filled_legs),
                    ("incomplete", "order lists not fully filled", ms.incomplete),
                    ("pipeline_errors", "order lists that raised", ms.errors)):
                c = CounterMetricFamily(f"openclaw_{name}", help_)
                c.add_metric([], float(val))
                yield c
        gate = getattr(r, "gate", None)
        if gate is not None:
            c = CounterMetricFamily("openclaw_risk_refusals", "order lists the risk gate refused",
                                    labels=["reason"])
            for reason, n in gate.refusals.items():
                c.add_metric([reason], float(n))
            yield c
            g = GaugeMetricFamily("openclaw_pnl_daily", "daily P&L per the risk engine")
            g.add_metric([], float(gate.engine.daily_pnl))
            yield g
        routes = getattr(r, "routes", None) or {}
        if routes:
            c = CounterMetricFamily("openclaw_legs_refused_locally",
                                    "legs refused before sending (request bucket empty)",
                                    labels=["venue"])
            for name, rt in routes.items():
                c.add_metric([name], float(rt.stats.refused_locally))
            yield c
        c = CounterMetricFamily("openclaw_control_requests", "control API requests",
                                labels=["op"])
        for op, n in ops.requests.items():
            c.add_metric([op], float(n))
        yield c
        c = CounterMetricFamily("openclaw_control_refusals", "control API requests refused",
                                labels=["reason"])
        for reason, n in ops.refusals.items():
            c.add_metric([reason], float(n))
        yield c
        lat = ops.latency()
        if lat is not None:
            g = GaugeMetricFamily("openclaw_stage_latency_us",
                                  "stage latency over the stage clock's ring (microseconds)",
                                  labels=["stage", "quantile"])
            for stage, st in [*lat["stages"].items(), ("end_to_end", lat["end_to_end"])]:
                if st.get("count"):
                    for q in QUANTILES:
                        g.add_metric([stage, q], float(st[q]))
            yield g


def metrics_text(ops: Any) -> tuple[bytes, str]:
    """(exposition bytes, content type) for the running system of ``ops``."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(EngineCollector(ops))   # type: ignore[arg-type]
    return generate_latest(reg), CONTENT_TYPE_LATEST
