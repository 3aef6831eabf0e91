"""Reading a recording (docs/recording.md) for a backtest: every stream's frames, snapshots and
connects merged in receive-time order, the recorded order events, the run's metadata."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from openclaw.feeds.record import FORMAT, ORDERS_STREAM


class RecordingError(ValueError):
    """Not a recording the backtest can read."""


@dataclass
class Recording:
    """What a backtest replays: ``events`` are (ns, seq, stream, kind, payload, extra)."""

    events: list[tuple[int, int, str, str, str, dict[str, Any]]] = field(default_factory=list)
    streams: dict[str, tuple[str, str]] = field(default_factory=dict)   # name -> venue, category
    orders: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)       # the recorded run's summary


def _parts(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    parts, dirs = [], []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            dirs.append(p)
            parts += sorted(p.glob("*.jsonl.gz"))
        elif p.is_file():
            parts.append(p)
        else:
            raise RecordingError(f"{p}: no such file or directory")
    return parts, dirs


def load_recording(paths: list[Path]) -> Recording:
    """Read every part of ``paths`` (directories: all their parts and metadata files)."""
    parts, dirs = _parts(paths)
    rec = Recording()
    seq = 0
    for part in parts:
        opener = gzip.open if part.suffix == ".gz" else open
        with opener(part, "rb") as fh:
            header = orjson.loads(fh.readline() or b"{}")
            if header.get("format") != FORMAT:
                raise RecordingError(f"{part}: not an openclaw recording (docs/recording.md)")
            stream = header["stream"]
            if stream != ORDERS_STREAM:
                rec.streams[stream] = (header["venue"], header["category"])
            for line in fh:
                r = orjson.loads(line)
                t = r.get("t")
                seq += 1
                if t == "recv":
                    rec.events.append((r["ns"], seq, stream, "recv", r["data"], r))
                elif t == "http":
                    rec.events.append((r["ns"], seq, stream, "http", r["data"], r))
                elif t == "connect":
                    if not r.get("cont"):
                        rec.events.append((r.get("ns", 0), seq, stream, "connect", "", r))
                elif t == "order":
                    rec.orders.append(r)
    rec.events.sort(key=lambda e: (e[0], e[1]))
    for d in dirs:
        for name, attr in (("meta.json", "meta"), ("latency.json", "latency"),
                           ("run.json", "run")):
            f = d / name
            if f.is_file():
                setattr(rec, attr, orjson.loads(f.read_bytes()))
    if not rec.events:
        raise RecordingError("no recorded frames in " + ", ".join(str(p) for p in paths))
    return rec
