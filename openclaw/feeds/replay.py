"""Replay recorded venue messages through the live sync code (no second parser).

Reads the recording formats of tests/data/venues/README.md (text ``.ws``/``.http`` and JSON
lines), plain files of one raw venue message per line, and ``.gz``/``.zip`` of those. Frames go
through the same ``BookSync`` the live feeds use; REST snapshots the sync asks for are served
from the recording in time order. Binance ``bookTicker`` frames are checked against the rebuilt
book when their ``u`` matches an applied depth event.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from openclaw._core.book import BookSet
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.feeds.sync import BookSync, FetchSnapshot, Reconnect, Send
from openclaw.model.venues import UnknownVenueError, crypto_venue

if TYPE_CHECKING:
    from openclaw.feeds.aggregator import VenueFeed

REPLAY_UNITS = ("0.00000001", "0.00000001")   # every recorded venue string fits 8 decimals
TEXT_CONNECT = re.compile(r"^(\S+) <-> [0-9.]+$")


class ReplayError(ValueError):
    """A file that is not a recording openclaw can read."""


@dataclass(order=True)
class Event:
    """One recorded item: a received frame or a REST snapshot body."""

    ts: float
    seq: int
    kind: str = field(compare=False)          # "recv" | "http"
    conn: str = field(compare=False)          # connection address (URL) or file name
    data: str = field(compare=False)
    url: str = field(compare=False, default="")


def _open_members(path: Path) -> Iterator[tuple[str, io.TextIOBase]]:
    """(name, text stream) of a file, a .gz, or every member of a .zip."""
    if not path.is_file():
        raise ReplayError(f"{path}: no such file")
    if path.suffix == ".gz":
        yield path.stem, io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if not name.endswith("/"):
                    yield name, io.TextIOWrapper(zf.open(name), encoding="utf-8")
    else:
        yield path.name, open(path, encoding="utf-8")  # noqa: SIM115


def read_events(paths: list[Path]) -> list[Event]:
    """Every frame and snapshot in the files, ordered by recorded time (stable)."""
    events: list[Event] = []
    n = 0
    for path in paths:
        for name, stream in _open_members(Path(path)):
            try:
                n = _read_member(name, stream, events, n)
            except ReplayError:
                raise
            except UnicodeDecodeError as e:
                raise ReplayError(f"{name}: not UTF-8 text at byte {e.start} of a line: "
                                  f"{e.reason}") from None
            except (KeyError, TypeError, ValueError) as e:   # a damaged time or record field
                raise ReplayError(f"{name}: malformed line: {type(e).__name__}: "
                                  f"{str(e)[:200]}") from None
    events.sort()
    return events


def _read_member(name: str, stream: Any, events: list[Event], n: int) -> int:
    """One file (or archive member) appended to ``events``; returns the frame count so far."""
    with stream:
        lines = iter(stream)
        first = next(lines, "")
        rest = (ln.rstrip("\n") for ln in lines)
        first = first.rstrip("\n")
        if first.startswith('{"t":'):
            fmt = "jsonl"
        elif TEXT_CONNECT.match(first):
            fmt = "ws"
        elif " -> " in first.split(": ", 1)[0]:
            fmt = "http"
        else:
            fmt = "raw"
        conn = TEXT_CONNECT.match(first).group(1) if fmt == "ws" else name
        conns: dict[str, str] = {}
        for lineno, line in enumerate(_chain(first, rest), 1):
            if not line or (fmt == "ws" and lineno == 1):
                continue
            n += 1
            if fmt == "raw":
                events.append(Event(float(n), n, "recv", conn, line))
            elif fmt == "jsonl":
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    raise ReplayError(f"{name}:{lineno}: not JSON: {e}") from None
                t = rec.get("t")
                if t == "connect":
                    conns[rec.get("conn", "")] = rec.get("addr", "")
                elif t == "recv":
                    conn_id = rec.get("conn", "")
                    addr = conns.get(conn_id, "")
                    events.append(Event(float(rec["ts"]), n, "recv",
                                        f"{addr}#{conn_id}", rec["data"]))
                elif t == "http":
                    events.append(Event(float(rec.get("ts", 0.0)), n, "http",
                                        rec.get("conn", ""), rec["data"],
                                        rec.get("url", "")))
            else:
                head, sep, body = line.partition(": ")
                if not sep:
                    raise ReplayError(f"{name}:{lineno}: expected '<time>: <frame>'")
                if fmt == "ws":
                    if "<->" in head or " <- " in head:
                        continue          # connect line, or a frame the client sent
                    events.append(Event(float(head), n, "recv", conn, body))
                else:
                    url, _, ts = head.partition(" -> ")
                    events.append(Event(float(ts), n, "http", name, body, url))
    return n


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


@dataclass
class ReplayResult:
    venue: str
    counters: FeedCounters
    syncs: list[BookSync]
    ticker_checked: int = 0
    ticker_mismatched: int = 0
    ticker_malformed: int = 0
    snapshots_missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        books: dict[str, object] = {}
        crossed = 0
        for sync in self.syncs:
            for book_id, inst in sync.instruments.items():
                book = sync.bookset.book(book_id)
                bb, ba = book.best_bid(), book.best_ask()
                crossed += int(book.is_crossed())
                books[inst.key] = {
                    "best_bid": list(bb) if bb else None,
                    "best_ask": list(ba) if ba else None,
                    "levels": list(book.depth()),
                    "state": BookState(sync.bookset.state(book_id)).name,
                }
        c = self.counters
        return {
            "venue": self.venue,
            "messages": c.messages,
            "books": books,
            "checksum_ok": c.checksum_ok,
            "checksum_failed": c.checksum_failed,
            "gaps": c.resyncs.get("gap", 0),
            "resyncs": c.total_resyncs,
            "crossed": c.resyncs.get("crossed", 0) + crossed,
            "parse_errors": c.parse_errors,
            "depth_messages": c.depth_messages,
            "bookticker_checked": self.ticker_checked,
            "bookticker_mismatched": self.ticker_mismatched,
            "bookticker_malformed": self.ticker_malformed,
            "snapshots_missing": self.snapshots_missing,
        }


def replay(venue: str, paths: list[Path], feed: VenueFeed,
           category: str = "linear") -> ReplayResult:
    """Feed the recorded frames of ``paths`` through ``feed`` (the venue's depth sync, from
    ``openclaw.venues.registry.FEEDS``; ``venues.registry.replay`` passes it); the outcome."""
    try:
        by_category = crypto_venue(venue).category_in_book_key
    except UnknownVenueError as e:
        raise ReplayError(str(e)) from None
    events = read_events(paths)
    bookset = BookSet(max_books=256, capacity=5000)
    counters = FeedCounters()
    syncs: dict[str, BookSync] = {}

    def sync_for(conn: str) -> BookSync:
        cat = category
        if by_category:     # one sync per category, read off the recorded connection's URL
            cat = next((c for c in crypto_venue(venue).categories if f"/public/{c}" in conn),
                       category)
        key = cat if by_category else venue
        if key not in syncs:
            syncs[key] = feed.replay_sync(bookset, counters, category=cat,
                                          auto_units=REPLAY_UNITS)
        return syncs[key]

    result = ReplayResult(venue, counters, [])
    snapshots: dict[str, deque[str]] = defaultdict(deque)      # symbol -> REST bodies
    wanted: dict[str, tuple[BookSync, int]] = {}
    tickers: dict[tuple[str, int], dict] = {}

    def serve(symbol: str) -> None:
        if symbol in wanted and snapshots[symbol]:
            sync, book_id = wanted.pop(symbol)
            counters.snapshots_fetched += 1
            sync.on_snapshot(book_id, snapshots[symbol].popleft().encode(), 0)
            drain(sync)

    def drain(sync: BookSync) -> None:
        while sync.actions:
            action = sync.actions.popleft()
            if isinstance(action, FetchSnapshot):
                wanted[action.instrument.symbol] = (sync, action.book_id)
                serve(action.instrument.symbol)
            elif isinstance(action, (Send, Reconnect)):
                pass    # a recording cannot be asked for anything

    for ev in events:
        if ev.kind == "http":
            sym = _symbol_of(ev.url)
            if sym and ("/depth" in ev.url or "/market/books" in ev.url):
                snapshots[sym].append(ev.data)
                serve(sym)
            continue
        sync = sync_for(ev.conn)
        book_id = sync.on_frame(ev.data.encode(), 0)
        if sync.actions:
            drain(sync)
        if venue == "binance":
            if book_id >= 0:
                key = (sync.instruments[book_id].symbol, sync.bookset.book(book_id).seq)
                ticker = tickers.pop(key, None)
                if ticker is not None:
                    _check_ticker(result, sync.bookset.book(book_id), ticker)
            elif "bookTicker" in ev.data[:80]:
                try:
                    msg = orjson.loads(ev.data)
                    data = msg.get("data", msg)
                    tickers[(data["s"], int(data["u"]))] = data
                except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError,
                        ValueError):
                    result.ticker_malformed += 1    # a damaged line: counted, not compared
    result.syncs = list(syncs.values())
    result.snapshots_missing = sorted(wanted)
    return result


def _check_ticker(result: ReplayResult, book, ticker: dict) -> None:
    result.ticker_checked += 1
    ok = (book.best_bid() == (float(ticker["b"]), float(ticker["B"]))
          and book.best_ask() == (float(ticker["a"]), float(ticker["A"])))
    if not ok:
        result.ticker_mismatched += 1


def _symbol_of(url: str) -> str:
    m = re.search(r"(?:symbol|instId)=([A-Za-z0-9_\-]+)", url)
    return m.group(1) if m else ""
