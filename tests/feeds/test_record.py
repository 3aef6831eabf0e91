"""The recorder: what it writes replays to the same books; rotation, disk budget, full ring."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from openclaw.feeds.record import Recorder, RecordSettings
from openclaw.feeds.replay import read_events
from openclaw.venues.registry import replay


def _rerecord(venue_data: Path, out: Path, **kw: float) -> Recorder:
    """The shared Binance recording written again through a recorder channel."""
    d = venue_data / "binance"
    events = read_events([d / "binance_spot_depth_2021.ws", d / "binance_spot_depth_2021.http"])
    rec = Recorder(RecordSettings(str(out), **kw))
    ch = rec.channel("binance", "spot")
    ch.connect(events[0].conn)
    for ev in events:
        ns = int(ev.ts * 1e9)
        if ev.kind == "recv":
            ch.frame(ev.data, ns)
        else:
            ch.snapshot(ev.url, "", ev.data.encode(), ns)
        if ch.head - ch.tail > 100:
            rec.flush()
    return rec


def test_recording_replays_to_the_same_books(venue_data: Path, tmp_path: Path) -> None:
    d = venue_data / "binance"
    original = replay("binance", [d / "binance_spot_depth_2021.ws",
                                  d / "binance_spot_depth_2021.http"]).as_dict()
    rec = _rerecord(venue_data, tmp_path)
    stats = rec.close()
    parts = sorted(tmp_path.glob("binance-spot.*.jsonl.gz"))
    assert len(parts) == 1 and stats.dropped == 0
    again = replay("binance", parts).as_dict()
    assert again["books"] == original["books"]
    assert again["depth_messages"] == original["depth_messages"] > 100
    lines = [orjson.loads(x) for x in gzip.open(parts[0]).read().splitlines()]
    assert lines[0]["format"] == "openclaw-recording"
    recv = [x for x in lines if x["t"] == "recv"]
    assert all(isinstance(x["ns"], int) for x in recv)
    assert [x["ns"] for x in recv] == sorted(x["ns"] for x in recv)


def test_rotation_and_budget(venue_data: Path, tmp_path: Path) -> None:
    rec = _rerecord(venue_data, tmp_path, rotate_mb=0.005, budget_mb=0.02)
    stats = rec.close()
    left = sorted(tmp_path.glob("*.jsonl.gz"))
    assert stats.parts > len(left) >= 1
    assert stats.deleted_parts == stats.parts - len(left)
    assert sum(p.stat().st_size for p in left) <= 0.02e6
    # every part starts with its header; later parts name the socket they continue
    for p in left:
        first = orjson.loads(gzip.open(p).readline())
        assert first["t"] == "header" and first["part"] >= 1


def test_full_ring_drops_and_counts(tmp_path: Path) -> None:
    rec = Recorder(RecordSettings(str(tmp_path), ring=4))
    ch = rec.channel("okx")
    for k in range(6):
        ch.frame(f'{{"k":{k}}}', 1000 + k)
    assert ch.dropped == 2
    stats = rec.close()
    assert (stats.frames, stats.dropped) == (4, 2)
