"""The ``[record]`` section of a run: its recorder, its metadata files, the measured latencies.

A recording directory holds the parts the recorder writes (``feeds/record.py``), ``meta.json``
(the run's configuration, written at start) and ``latency.json`` (written at shutdown: per venue,
the measured leg latencies of the run's orders, which ``openclaw-trading backtest`` draws from).
Format: docs/recording.md.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from openclaw.app.config import Config
from openclaw.feeds.record import FORMAT, VERSION, Recorder, RecordSettings
from openclaw.model.orders import Order

META = "meta.json"
LATENCY = "latency.json"


def start_recorder(cfg: Config, source: str = "<config>") -> Recorder:
    """The run's recorder, started, with ``meta.json`` (the configuration) written."""
    rc = cfg.record
    rec = Recorder(RecordSettings(rc.dir, budget_mb=rc.budget_mb, rotate_mb=rc.rotate_mb,
                                  rotate_s=rc.rotate_s)).start()
    rec.write_meta(META, {"format": FORMAT, "version": VERSION, "source": source,
                          "started_unix": time.time(),
                          "config": cfg.model_dump(mode="json", exclude={"record"})})
    return rec


def leg_latencies(orders: list[Order]) -> dict[str, dict[str, list[float]]]:
    """Per venue, per order that was sent and answered: ``to_venue_us`` (creation to send plus
    half the round trip: when the leg reached the venue) and ``ack_us`` (creation to answer)."""
    out: dict[str, dict[str, list[float]]] = {}
    for o in orders:
        if o.sent_ns is None or o.acked_ns is None or o.acked_ns < o.sent_ns:
            continue
        d = out.setdefault(o.venue, {"to_venue_us": [], "ack_us": []})
        d["to_venue_us"].append(round((o.sent_ns - o.created_ns
                                       + (o.acked_ns - o.sent_ns) / 2) / 1e3, 1))
        d["ack_us"].append(round((o.acked_ns - o.created_ns) / 1e3, 1))
    return out


async def finish_recording(rec: Recorder, orders: list[Order],
                           run: dict[str, Any] | None = None) -> dict[str, Any]:
    """``latency.json`` from the run's orders (and ``run``: start balances, fees, start
    amounts, slippage), then the recorder closed (off the loop); its counters for the run
    summary."""
    lat = leg_latencies(orders)
    rec.write_meta(LATENCY, {"legs": lat, "run": run or {}})
    st = await asyncio.to_thread(rec.close)
    return {"dir": str(rec.dir), "frames": st.frames, "events": st.events,
            "dropped": st.dropped, "parts": st.parts, "deleted_parts": st.deleted_parts,
            "bytes": st.bytes_written, "latency_venues": sorted(lat)}


async def record_feeds(path: str, out_dir: str, seconds: float, seed: int = 7) -> dict[str, Any]:
    """``openclaw-trading record``: the feeds of the run file ``path`` (no strategy) recorded
    into ``out_dir`` for ``seconds``; the recorder's counters."""
    from openclaw.app.config import RecordConfig, load_config
    from openclaw.app.runner import Running, close_system, shutdown_system, start_system

    cfg = load_config(path)
    cfg = cfg.model_copy(update={"record": RecordConfig(dir=out_dir)})
    r = Running()
    try:
        await start_system(cfg, r, paper=False, seed=seed, source=path, with_strategies=False)
        await asyncio.sleep(seconds)
        summary = await shutdown_system(r, drain_timeout=5.0)
        if "record" not in summary and r.recorder is not None:
            summary["record"] = await finish_recording(r.recorder, [])
        return {"record": summary.get("record"), "book_states": summary.get("book_states")}
    finally:
        await close_system(r)
