"""Recording: every raw depth frame with its receive time, the REST snapshots, the order events.

The socket loop (``feeds/connection.py``) hands each frame to its connection's ``Channel``
before the book sync sees it: two stores into a ring allocated once (the frame object and its
``recv_ts``) and a counter, well under 1 µs (``openclaw-trading bench record``). A writer
thread drains the rings every ``flush_s``, serialises the records as JSON lines and writes them
gzip-compressed, one file set per venue stream, rotated by size or age, oldest parts deleted
beyond the disk budget. The format (docs/recording.md) is the JSON-lines recording format that
``openclaw-trading replay`` reads (tests/data/venues/README.md), with the receive time in ns
(``ns``) next to the seconds (``ts``).
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("openclaw.feeds.record")

FORMAT = "openclaw-recording"
VERSION = 1
ORDERS_STREAM = "orders"


@dataclass(frozen=True)
class RecordSettings:
    """Where and how much: ``dir``; rotate a part at ``rotate_mb`` (compressed) or ``rotate_s``;
    delete the oldest parts while the directory holds more than ``budget_mb``."""

    dir: str
    budget_mb: float = 1024.0
    rotate_mb: float = 64.0
    rotate_s: float = 3600.0
    ring: int = 1 << 16            # frames a channel holds between two flushes
    flush_s: float = 0.1


class Channel:
    """One stream's ring: the socket loop writes (``frame``), the writer thread reads."""

    __slots__ = ("name", "venue", "category", "cap", "mask", "frames", "ts", "head", "tail",
                 "dropped", "conn")

    def __init__(self, name: str, venue: str, category: str, capacity: int) -> None:
        if capacity & (capacity - 1):
            raise ValueError("ring capacity must be a power of two")
        self.name = name
        self.venue = venue
        self.category = category
        self.cap = capacity
        self.mask = capacity - 1
        self.frames: list[Any] = [None] * capacity
        self.ts = array("q", bytes(8 * capacity))
        self.head = 0                # written by the socket loop only
        self.tail = 0                # written by the writer thread only
        self.dropped = 0
        self.conn = 0

    def frame(self, raw: str | bytes, recv_ts: int) -> None:
        """The hot path: keep ``raw`` received at ``recv_ts`` (ns); no copy, no allocation
        beyond the counter; a full ring drops the frame (counted)."""
        i = self.head
        if i - self.tail >= self.cap:
            self.dropped += 1
            return
        j = i & self.mask
        self.frames[j] = raw
        self.ts[j] = recv_ts
        self.head = i + 1

    def event(self, record: dict[str, Any], ts_ns: int | None = None) -> None:
        """A slow-path record in stream order (connect, REST snapshot, order event)."""
        self.frame(record, ts_ns if ts_ns is not None else time.monotonic_ns())  # type: ignore[arg-type]

    def connect(self, addr: str) -> None:
        """A new socket of this stream (its frames follow)."""
        self.conn += 1
        self.event({"t": "connect", "conn": f"c{self.conn}", "addr": addr})

    def snapshot(self, url: str, book: str, body: bytes, recv_ts: int) -> None:
        """A REST depth snapshot the sync received for ``book`` (instrument key)."""
        self.event({"t": "http", "conn": f"c{self.conn}", "url": url, "book": book,
                    "data": body.decode("utf-8", errors="replace")}, recv_ts)


@dataclass
class _Part:
    path: Path
    fh: Any
    opened: float
    raw_bytes: int = 0


@dataclass
class RecordStats:
    """What the recorder wrote."""

    frames: int = 0
    events: int = 0
    dropped: int = 0
    parts: int = 0
    deleted_parts: int = 0
    bytes_written: int = 0
    by_stream: dict[str, int] = field(default_factory=dict)


class Recorder:
    """The channels of a run and the thread that writes them (``start``, ``close``)."""

    def __init__(self, settings: RecordSettings) -> None:
        self.settings = settings
        self.dir = Path(settings.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.channels: dict[str, Channel] = {}
        self.stats = RecordStats()
        self._parts: dict[str, _Part] = {}
        self._seq: dict[str, int] = {}
        self._wconn: dict[str, str] = {}     # per stream: the socket its last frame came from
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()       # flush from the thread or from close()

    def channel(self, venue: str, category: str = "spot") -> Channel:
        """The channel of one venue stream (created once; names ``venue`` or ``venue-cat``)."""
        name = f"{venue}-{category}"
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = Channel(name, venue, category, self.settings.ring)
        return ch

    def orders(self) -> Channel:
        """The channel of the engine's order events."""
        ch = self.channels.get(ORDERS_STREAM)
        if ch is None:
            ch = self.channels[ORDERS_STREAM] = Channel(ORDERS_STREAM, "", "",
                                                        self.settings.ring)
        return ch

    def on_orders(self, orders: list[Any]) -> None:
        """An order list settled (``OrderManager.on_settled``): one record per order."""
        ch = self.orders()
        for o in orders:
            ch.event({"t": "order", **order_record(o)})

    def start(self) -> Recorder:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="openclaw-recorder", daemon=True)
        self._thread.start()
        return self

    def close(self) -> RecordStats:
        """Stop the thread, write what is left, close every part."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()
        with self._lock:
            for part in self._parts.values():
                part.fh.close()
            self._parts.clear()
        self._enforce_budget()
        return self.stats

    def write_meta(self, name: str, data: dict[str, Any]) -> Path:
        """A JSON document next to the parts (``meta.json``: config, measured latencies)."""
        path = self.dir / name
        path.write_bytes(orjson.dumps(data, default=str,
                                     option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
        return path

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.settings.flush_s):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a failing disk must not end the run
                log.exception("recording flush failed")

    def flush(self) -> None:
        """Serialise and write every channel's pending records (any thread)."""
        with self._lock:
            for ch in list(self.channels.values()):
                head = ch.head
                if head == ch.tail:
                    continue
                lines = []
                st_n = head - ch.tail
                conn = self._wconn.get(ch.name, "c0")
                dumps = orjson.dumps
                st = self.stats
                for i in range(ch.tail, head):
                    j = i & ch.mask
                    item = ch.frames[j]
                    ns = ch.ts[j]
                    ch.frames[j] = None
                    if isinstance(item, dict):
                        if item.get("t") == "connect":
                            conn = item["conn"]
                        item["ts"] = ns / 1e9
                        item["ns"] = ns
                        lines.append(dumps(item))
                        st.events += 1
                    else:
                        if isinstance(item, (bytes, bytearray, memoryview)):
                            item = bytes(item).decode("utf-8", errors="replace")
                        lines.append(dumps({"t": "recv", "conn": conn, "ts": ns / 1e9,
                                            "ns": ns, "data": item}))
                        st.frames += 1
                ch.tail = head
                self._wconn[ch.name] = conn
                st.dropped += ch.dropped
                ch.dropped = 0
                st.by_stream[ch.name] = st.by_stream.get(ch.name, 0) + st_n
                self._write(ch, b"\n".join(lines) + b"\n")
        self._enforce_budget()

    def _write(self, ch: Channel, data: bytes) -> None:
        s = self.settings
        part = self._parts.get(ch.name)
        if part is not None and (part.raw_bytes > 0 and (
                part.path.stat().st_size >= s.rotate_mb * 1e6
                or time.monotonic() - part.opened >= s.rotate_s)):
            part.fh.close()
            part = None
        if part is None:
            seq = self._seq.get(ch.name, 0)
            self._seq[ch.name] = seq + 1
            path = self.dir / f"{ch.name}.{time.strftime('%Y%m%dT%H%M%S')}.{seq:04d}.jsonl.gz"
            fh = gzip.open(path, "wb", compresslevel=5)
            header = {"t": "header", "format": FORMAT, "version": VERSION, "stream": ch.name,
                      "venue": ch.venue, "category": ch.category, "part": seq}
            fh.write(orjson.dumps(header) + b"\n")
            if seq > 0 and ch.name in self._wconn:   # a new part: the socket its frames are on
                fh.write(orjson.dumps({"t": "connect", "conn": self._wconn[ch.name], "addr": "",
                                       "cont": True}) + b"\n")
            part = self._parts[ch.name] = _Part(path, fh, time.monotonic())
            self.stats.parts += 1
        part.fh.write(data)
        part.fh.flush()
        part.raw_bytes += len(data)
        self.stats.bytes_written += len(data)

    def _enforce_budget(self) -> None:
        budget = self.settings.budget_mb * 1e6
        parts = sorted(self.dir.glob("*.jsonl.gz"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in parts)
        open_paths = {p.path for p in self._parts.values()}
        for p in parts:
            if total <= budget:
                break
            if p in open_paths:
                continue
            total -= p.stat().st_size
            p.unlink()
            self.stats.deleted_parts += 1
            log.warning("recording over its disk budget: deleted %s", p.name)


def order_record(o: Any) -> dict[str, Any]:
    """An order's state as a JSON-ready dict (recording, backtest output)."""
    return {
        "client_id": o.client_id, "venue": o.venue, "symbol": o.symbol, "side": o.side.value,
        "type": o.order_type.value, "qty": str(o.qty),
        "price": None if o.price is None else str(o.price), "opp": o.opportunity_id,
        "leg": o.leg, "status": o.status.value, "filled": str(o.filled_qty),
        "notional": str(o.notional), "fees": {a: str(f) for a, f in o.fees.items()},
        "created_ns": o.created_ns, "sent_ns": o.sent_ns, "acked_ns": o.acked_ns,
        "closed_ns": o.closed_ns, "fills": len(o.fills),
    }
