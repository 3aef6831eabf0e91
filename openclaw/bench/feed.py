"""Feed benchmark: one venue depth message, raw frame text -> applied book, as the live feed does.

What is timed is exactly the live path: ``BookSync.on_frame(raw, recv_ts)`` of
``openclaw.venues.binance.feed.BinanceSync`` / ``okx.OkxSync`` / ``bybit.BybitSync`` (the object
``VenueConnection`` drives per WebSocket frame), on a book already LIVE, with no socket. Frames
are ``str`` as websockets hands them over.

Cases (one symbol, BTC/USDT, per venue):
  binance       combined-stream ``depthUpdate`` frame (``{"stream":..,"data":{..}}``), U/u chain
  okx           ``books`` ``update`` (400-level book, 4-field levels), prevSeqId chain,
                ``checksum`` 0 (what live OKX sends since June 2026: nothing to verify)
  okx_checksum  the same frames with the real CRC32 of the top 25 levels: verified every message
  bybit         ``orderbook.50`` ``delta`` (spot), u + 1 chain

Baselines in the same process and run, on the same frames:
  orjson_loads  ``orjson.loads(raw)`` alone (the JSON parse any Python handler pays first)
  python        a plain-Python handler: ``orjson.loads`` + ``float()`` per level into a dict book
                + the same sequence-continuity check (no crossed-book check, no CRC)

Frames come from the simulators' own market model (``openclaw.sim.engine.market.SyntheticMarket``,
seeded, so runs are reproducible) rendered in each venue's wire format. Each case's final book
(openclaw's and the python handler's) is checked against the market's truth before any figure
is printed; a mismatch makes ``run_feed_bench`` return ``ok: False`` (exit 1).

Method as ``openclaw-trading bench book``: one timed loop over all frames per (impl, case), GC off
in the loop, implementations interleaved round-robin, the first repetition a checked warm-up,
median over repetitions of ns per message.

Run: ``openclaw-trading bench feed [--quick] [--json]`` or ``python -m openclaw.bench.feed``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import orjson

from openclaw._core.book import BookSet
from openclaw.feeds.state import BookState
from openclaw.feeds.sync import BookSync
from openclaw.model.instrument import Instrument
from openclaw.venues.binance.feed import BinanceSync
from openclaw.venues.bybit.feed import BybitSync
from openclaw.venues.okx.feed import OkxSync

CASES: tuple[str, ...] = ("binance", "okx", "okx_checksum", "bybit")
CASE_VENUE: dict[str, str] = {
    "binance": "binance",
    "okx": "okx",
    "okx_checksum": "okx",
    "bybit": "bybit",
}
CASE_DESCRIPTION: dict[str, str] = {
    "binance": "Binance combined @depth@100ms depthUpdate",
    "okx": "OKX books update, 400-level book, checksum 0",
    "okx_checksum": "OKX books update, 400-level book, real top-25 CRC32 verified",
    "bybit": "Bybit spot orderbook.50 delta",
}
IMPLS: tuple[str, ...] = ("openclaw", "orjson_loads", "python")
IMPL_DESCRIPTION: dict[str, str] = {
    "openclaw": "BookSync.on_frame(raw, recv_ts) (the live feed path), book LIVE",
    "orjson_loads": "orjson.loads(raw) alone",
    "python": "orjson.loads + float() per level into a dict book + the same continuity check",
}
BASELINE = "openclaw"
TARGET_NS = 5_000.0          # issue target for openclaw per message, every case

DEFAULT_SEED = 20260611
DEFAULT_MESSAGES = 10_000
QUICK_MESSAGES = 2_000
DEFAULT_REPS = 7
QUICK_REPS = 3
MARKET_DEPTH = 450           # levels a side the market keeps (Binance streams all of them)
OKX_DEPTH = 400              # OKX ``books``: a 400-level window
BYBIT_DEPTH = 50             # Bybit ``orderbook.50``
CHANGES_PER_STEP = 8.0       # market activity: ~15 levels per Binance BTCUSDT message
BOOK_CAPACITY = 5000         # as the Aggregator's default
START_MS = 1_780_000_000_000


class FeedBenchError(AssertionError):
    """A book after the timed loop differs from the market's truth, or a frame was refused."""


# --------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class FeedCase:
    """The frames of one case and the truth its final book must equal.

    ``setup`` brings a fresh sync LIVE (untimed): for Binance one buffered stream event plus
    the REST snapshot ``rest_snapshot``; for OKX/Bybit the pushed snapshot frame. ``frames``
    are the timed depth messages, in order, continuing the sequence of the setup.
    """

    case: str
    venue: str
    instrument: Instrument
    setup: tuple[str, ...]
    rest_snapshot: bytes | None
    frames: tuple[str, ...]
    first_seq: int                       # sequence id the book holds once LIVE
    last_seq: int                        # ... and after the last timed frame
    truth_bids: tuple[tuple[int, int], ...]   # (ticks, lots), best first, every level
    truth_asks: tuple[tuple[int, int], ...]
    price_strings: dict[int, str]        # ticks -> venue price text (python book check)
    size_strings: dict[int, str]         # lots -> venue size text
    levels_per_msg: float
    median_bytes: float

    @property
    def n(self) -> int:
        """Number of timed frames."""
        return len(self.frames)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def generate_cases(n_messages: int = DEFAULT_MESSAGES, seed: int = DEFAULT_SEED,
                   cases: Sequence[str] = CASES) -> dict[str, FeedCase]:
    """Step one seeded market holding BTC/USDT on the three venues and render its changes.

    Each venue gets ``n_messages`` timed frames (the market runs until every venue has them;
    a step whose change falls outside a venue's window sends that venue nothing, as the
    simulators do). Deterministic for a given (n_messages, seed).
    """
    # The simulators' market model, imported here only: the feeds never depend on the sims.
    from openclaw.sim.engine.market import ASK, BID, DepthView, SyntheticMarket, default_instruments
    from openclaw.sim.okx.server import okx_checksum

    if n_messages < 1:
        raise ValueError("n_messages must be >= 1")
    for case in cases:
        if case not in CASE_VENUE:
            raise ValueError(f"unknown case {case!r}; known: {', '.join(CASES)}")
    specs = {s.venue: s for s in default_instruments()
             if s.symbol == "BTC/USDT" and s.category == "spot"}
    market = SyntheticMarket(seed, depth=MARKET_DEPTH, instruments=list(specs.values()),
                             changes_per_step=CHANGES_PER_STEP)
    rng = random.Random(seed * 7919 + 5)
    bn, ok, by = specs["binance"], specs["okx"], specs["bybit"]
    fmt = {v: market.formatter(s.key) for v, s in specs.items()}
    book = {v: market.book(s.key) for v, s in specs.items()}
    okx_view = DepthView(book["okx"], OKX_DEPTH)
    bybit_view = DepthView(book["bybit"], BYBIT_DEPTH)

    def okx_levels(pairs: list[tuple[int, int]]) -> list[list[str]]:
        f = fmt["okx"]
        # 4th field: a stable synthetic order count (0 on a delete), as the OKX simulator does
        return [[f.price(p), f.size(s), "0", str((1 + (p * 31 + s * 17) % 12) if s else 0)]
                for p, s in pairs]

    def okx_crc() -> int:
        f = fmt["okx"]
        return okx_checksum(f.levels(okx_view.top(BID, 25)), f.levels(okx_view.top(ASK, 25)))

    # ---- initial states (what the setup frames carry)
    bn_u = rng.randrange(10**9, 9 * 10**9)
    f = fmt["binance"]
    bn_rest = orjson.dumps({"lastUpdateId": bn_u,
                            "bids": f.levels(book["binance"].top(BID)),
                            "asks": f.levels(book["binance"].top(ASK))})
    okx_seq = rng.randrange(10**9, 2 * 10**10)
    okx_snap_data = {
        "asks": okx_levels(okx_view.top(ASK)), "bids": okx_levels(okx_view.top(BID)),
        "ts": str(START_MS), "checksum": 0, "prevSeqId": -1, "seqId": okx_seq,
    }
    okx_snap_zero = _dumps({"arg": {"channel": "books", "instId": ok.venue_symbol},
                            "action": "snapshot", "data": [okx_snap_data]})
    okx_snap_real = _dumps({"arg": {"channel": "books", "instId": ok.venue_symbol},
                            "action": "snapshot",
                            "data": [{**okx_snap_data, "checksum": okx_crc()}]})
    okx_first = okx_seq
    by_u = rng.randrange(10**6, 5 * 10**7)
    by_seq = rng.randrange(10**11, 9 * 10**11)
    by_topic = f"orderbook.{BYBIT_DEPTH}.{by.venue_symbol}"
    f = fmt["bybit"]
    by_snap = _dumps({"topic": by_topic, "ts": START_MS, "type": "snapshot",
                      "data": {"s": by.venue_symbol, "b": f.levels(bybit_view.top(BID)),
                               "a": f.levels(bybit_view.top(ASK)), "u": by_u, "seq": by_seq},
                      "cts": START_MS})
    by_first = by_u

    bn_frames: list[str] = []
    okx_zero: list[str] = []
    okx_real: list[str] = []
    by_frames: list[str] = []
    n_levels = {"binance": 0, "okx": 0, "bybit": 0}
    truth: dict[str, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = {}
    need_binance = n_messages + 1          # the first one is buffered during setup
    while (len(bn_frames) < need_binance or len(okx_zero) < n_messages
           or len(by_frames) < n_messages):
        step = market.step()
        ms = START_MS + 100 * step.index
        diff = step.diffs.get(bn.key)
        if diff and len(bn_frames) < need_binance:
            first = bn_u + 1
            bn_u += diff.updates
            bids, asks = diff.bid_levels(), diff.ask_levels()
            if bn_frames:                  # the setup frame is not a timed one
                n_levels["binance"] += len(bids) + len(asks)
            bn_frames.append(_dumps({
                "stream": f"{bn.venue_symbol.lower()}@depth@100ms",
                "data": {"e": "depthUpdate", "E": ms, "s": bn.venue_symbol, "U": first,
                         "u": bn_u, "b": bids, "a": asks},
            }))
        diff = step.diffs.get(ok.key)
        if diff and len(okx_zero) < n_messages:
            obids, oasks = okx_view.sync(book["okx"], diff, keep_ghosts=ok.ghost_deletes)
            if obids or oasks:
                prev, okx_seq = okx_seq, okx_seq + 1 + rng.randrange(0, 12)
                n_levels["okx"] += len(obids) + len(oasks)
                data = {"asks": okx_levels(sorted(oasks.items())),
                        "bids": okx_levels(sorted(obids.items(), reverse=True)),
                        "ts": str(ms), "checksum": 0, "prevSeqId": prev, "seqId": okx_seq}
                arg = {"channel": "books", "instId": ok.venue_symbol}
                okx_zero.append(_dumps({"arg": arg, "action": "update", "data": [data]}))
                if "okx_checksum" in cases:
                    data["checksum"] = okx_crc()
                    okx_real.append(_dumps({"arg": arg, "action": "update", "data": [data]}))
        diff = step.diffs.get(by.key)
        if diff and len(by_frames) < n_messages:
            bbids, basks = bybit_view.sync(book["bybit"], diff)
            if bbids or basks:
                by_u += 1
                by_seq += 1 + rng.randrange(0, 4000)
                n_levels["bybit"] += len(bbids) + len(basks)
                f = fmt["bybit"]
                by_frames.append(_dumps({
                    "topic": by_topic, "ts": ms, "type": "delta",
                    "data": {"s": by.venue_symbol,
                             "b": f.levels(sorted(bbids.items(), reverse=True)),
                             "a": f.levels(sorted(basks.items())), "u": by_u, "seq": by_seq},
                    "cts": ms - 3,
                }))
        # once a venue has its frames its book must stop moving: freeze the truth now
        if len(bn_frames) == need_binance and "binance" not in truth:
            truth["binance"] = (tuple(book["binance"].top(BID)), tuple(book["binance"].top(ASK)))
        if len(okx_zero) == n_messages and "okx" not in truth:
            truth["okx"] = (tuple(okx_view.top(BID)), tuple(okx_view.top(ASK)))
        if len(by_frames) == n_messages and "bybit" not in truth:
            truth["bybit"] = (tuple(bybit_view.top(BID)), tuple(bybit_view.top(ASK)))

    def inst(venue: str) -> Instrument:
        s = specs[venue]
        base, quote = s.symbol.split("/")
        return Instrument(venue, s.venue_symbol, s.tick, s.lot, category=s.category,
                          base=base, quote=quote)

    def strings(venue: str, truth: tuple[Any, Any]) -> tuple[dict[int, str], dict[int, str]]:
        fv = fmt[venue]
        levels = [lv for side in truth for lv in side]
        return ({p: fv.price(p) for p, _ in levels}, {s: fv.size(s) for _, s in levels})

    def med_bytes(frames: Sequence[str]) -> float:
        return float(statistics.median(len(x.encode()) for x in frames))

    frames_of = {"binance": bn_frames[1:], "okx": okx_zero, "okx_checksum": okx_real,
                 "bybit": by_frames}
    setup_of = {"binance": (bn_frames[0],), "okx": (okx_snap_zero,),
                "okx_checksum": (okx_snap_real,), "bybit": (by_snap,)}
    seqs = {"binance": (orjson.loads(bn_frames[0])["data"]["u"], bn_u),
            "okx": (okx_first, okx_seq), "bybit": (by_first, by_u)}
    out: dict[str, FeedCase] = {}
    for case in cases:
        venue = CASE_VENUE[case]
        frames = frames_of[case]
        price_s, size_s = strings(venue, truth[venue])
        out[case] = FeedCase(
            case=case, venue=venue, instrument=inst(venue), setup=setup_of[case],
            rest_snapshot=bn_rest if venue == "binance" else None, frames=tuple(frames),
            first_seq=seqs[venue][0], last_seq=seqs[venue][1],
            truth_bids=truth[venue][0], truth_asks=truth[venue][1],
            price_strings=price_s, size_strings=size_s,
            levels_per_msg=n_levels[venue] / n_messages, median_bytes=med_bytes(frames))
    return out


# --------------------------------------------------------------------------- implementations


def new_sync(case: FeedCase) -> tuple[BookSync, int]:
    """A fresh venue sync over a one-book BookSet, brought LIVE by the case's setup (untimed).

    The sync is built and driven as ``VenueConnection`` does: ``on_connect`` first, then the
    frames (and, for Binance, the REST snapshot the sync asked for).
    """
    inst = case.instrument
    bookset = BookSet(max_books=1, capacity=BOOK_CAPACITY)
    book_id = bookset.add(inst.tick_size, inst.lot_size)
    pairs = [(inst, book_id)]
    sync: BookSync
    if case.venue == "binance":
        sync = BinanceSync(bookset, pairs)
    elif case.venue == "okx":
        sync = OkxSync(bookset, pairs)
    else:
        sync = BybitSync(bookset, pairs, depth=BYBIT_DEPTH, category=inst.category)
    sync.on_connect()
    recv_ts = time.monotonic_ns()
    for raw in case.setup:
        sync.on_frame(raw, recv_ts)
    if case.rest_snapshot is not None:
        sync.on_snapshot(book_id, case.rest_snapshot, recv_ts)
    sync.actions.clear()          # subscribe frames / snapshot requests: a socket's business
    if sync.state(book_id) != BookState.LIVE:
        raise FeedBenchError(f"{case.case}: book not LIVE after setup ({sync.state(book_id)})")
    if bookset.book(book_id).seq != case.first_seq:
        raise FeedBenchError(f"{case.case}: book seq {bookset.book(book_id).seq} after setup, "
                             f"expected {case.first_seq}")
    return sync, book_id


def run_openclaw(sync: BookSync, frames: Sequence[str], recv_ts: int) -> int:
    """The timed loop: every frame through ``on_frame``; returns the last frame's result."""
    on_frame = sync.on_frame
    last = -1
    for raw in frames:
        last = on_frame(raw, recv_ts)
    return last


def run_loads(frames: Sequence[str]) -> Any:
    """Baseline: ``orjson.loads`` of every frame; returns the last decoded object."""
    loads = orjson.loads
    obj = None
    for raw in frames:
        obj = loads(raw)
    return obj


class PythonBook:
    """Plain-Python baseline: ``dict`` price -> size per side, floats, with the venue's
    continuity rule, and nothing else (no crossed-book check, no CRC)."""

    def __init__(self, case: FeedCase) -> None:
        """Load the case's setup (untimed) and build ``handle(raw)`` for its venue."""
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.handle: Callable[[str], None]
        self.seq: Callable[[], int]
        venue = case.venue
        if venue == "binance":
            assert case.rest_snapshot is not None
            snap = orjson.loads(case.rest_snapshot)
            self._load(snap["bids"], snap["asks"])
            self._make_binance(snap["lastUpdateId"])
            for raw in case.setup:
                self.handle(raw)
        else:
            msg = orjson.loads(case.setup[0])
            data = msg["data"][0] if venue == "okx" else msg["data"]
            if venue == "okx":
                self._load(data["bids"], data["asks"])
                self._make_okx(data["seqId"])
            else:
                self._load(data["b"], data["a"])
                self._make_bybit(data["u"])

    def _load(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        self.bids.update((float(lv[0]), float(lv[1])) for lv in bids)
        self.asks.update((float(lv[0]), float(lv[1])) for lv in asks)

    def _make_binance(self, last_id: int) -> None:
        loads, bids, asks = orjson.loads, self.bids, self.asks
        seq = last_id

        def handle(raw: str) -> None:
            nonlocal seq
            d = loads(raw)["data"]
            u = d["u"]
            if u <= seq:
                return                                  # stale: already in the book
            if d["U"] > seq + 1:
                raise FeedBenchError(f"python binance: gap {seq} -> {d['U']}")
            for p, q in d["b"]:
                size = float(q)
                if size:
                    bids[float(p)] = size
                else:
                    bids.pop(float(p), None)
            for p, q in d["a"]:
                size = float(q)
                if size:
                    asks[float(p)] = size
                else:
                    asks.pop(float(p), None)
            seq = u

        self.handle, self.seq = handle, lambda: seq

    def _make_okx(self, seq_id: int) -> None:
        loads, bids, asks = orjson.loads, self.bids, self.asks
        seq = seq_id

        def handle(raw: str) -> None:
            nonlocal seq
            d = loads(raw)["data"][0]
            if d["prevSeqId"] != seq:
                raise FeedBenchError(f"python okx: prevSeqId {d['prevSeqId']} != {seq}")
            for lv in d["bids"]:
                size = float(lv[1])
                if size:
                    bids[float(lv[0])] = size
                else:
                    bids.pop(float(lv[0]), None)
            for lv in d["asks"]:
                size = float(lv[1])
                if size:
                    asks[float(lv[0])] = size
                else:
                    asks.pop(float(lv[0]), None)
            seq = d["seqId"]

        self.handle, self.seq = handle, lambda: seq

    def _make_bybit(self, u0: int) -> None:
        loads, bids, asks = orjson.loads, self.bids, self.asks
        seq = u0

        def handle(raw: str) -> None:
            nonlocal seq
            d = loads(raw)["data"]
            u = d["u"]
            if u != seq + 1:
                raise FeedBenchError(f"python bybit: u {u} after {seq}")
            for p, q in d["b"]:
                size = float(q)
                if size:
                    bids[float(p)] = size
                else:
                    bids.pop(float(p), None)
            for p, q in d["a"]:
                size = float(q)
                if size:
                    asks[float(p)] = size
                else:
                    asks.pop(float(p), None)
            seq = u

        self.handle, self.seq = handle, lambda: seq


def run_python(book: PythonBook, frames: Sequence[str]) -> None:
    """Baseline: the plain-Python handler on every frame."""
    handle = book.handle
    for raw in frames:
        handle(raw)


# --------------------------------------------------------------------------- checks


def check_openclaw(case: FeedCase, sync: BookSync, book_id: int, last: int) -> None:
    """After the loop: every frame applied (counters, sequence), book equal to the truth."""
    c = sync.counters
    n_setup_depth = len(case.setup)
    problems = []
    if last != book_id:
        problems.append(f"last on_frame returned {last}, expected book id {book_id}")
    if c.depth_messages != case.n + n_setup_depth:
        problems.append(f"{c.depth_messages} depth messages counted, sent {case.n + n_setup_depth}")
    for name in ("parse_errors", "unknown_symbol", "duplicates", "checksum_failed"):
        if getattr(c, name):
            problems.append(f"{name} = {getattr(c, name)}")
    if c.total_resyncs:
        problems.append(f"resyncs {c.resyncs}")
    if case.case == "okx_checksum" and c.checksum_ok != case.n + 1:
        problems.append(f"checksum verified {c.checksum_ok} times, expected {case.n + 1}")
    if case.case == "okx" and c.checksum_ok:
        problems.append(f"checksum 0 frames verified {c.checksum_ok} times")
    if sync.actions:
        problems.append(f"sync asked for {list(sync.actions)[:3]}")
    if sync.state(book_id) != BookState.LIVE:
        problems.append(f"book {sync.state(book_id).name}")
    book = sync.bookset.book(book_id)
    if book.seq != case.last_seq:
        problems.append(f"book seq {book.seq}, expected {case.last_seq}")
    if book.dropped:
        problems.append(f"{book.dropped} levels dropped (capacity)")
    bid_px, bid_qty, ask_px, ask_qty = book.top_ticks(BOOK_CAPACITY)
    got_b = list(zip(bid_px.tolist(), bid_qty.tolist(), strict=True))
    got_a = list(zip(ask_px.tolist(), ask_qty.tolist(), strict=True))
    for side, got, want in (("bid", got_b, case.truth_bids), ("ask", got_a, case.truth_asks)):
        if got != list(want):
            problems.append(_first_difference(side, got, list(want)))
    if problems:
        raise FeedBenchError(f"openclaw/{case.case}: " + "; ".join(problems))


def _first_difference(side: str, got: list[Any], want: list[Any]) -> str:
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            return f"{side} level {i}: got {g}, truth {w}"
    return f"{side} depth {len(got)}, truth {len(want)}"


def check_python(case: FeedCase, book: PythonBook) -> None:
    """The baseline's dict book must equal the truth too (else its timing means nothing)."""
    ps, ss = case.price_strings, case.size_strings
    problems = []
    if book.seq() != case.last_seq:
        problems.append(f"seq {book.seq()}, expected {case.last_seq}")
    for side, levels, want, rev in (("bid", book.bids, case.truth_bids, True),
                                    ("ask", book.asks, case.truth_asks, False)):
        got = sorted(levels.items(), reverse=rev)
        exp = [(float(ps[p]), float(ss[s])) for p, s in want]
        if got != exp:
            problems.append(_first_difference(side, got, exp))
    if problems:
        raise FeedBenchError(f"python/{case.case}: " + "; ".join(problems))


def check_loads(case: FeedCase, last: Any) -> None:
    """The loads loop really parsed the frames (its last object carries the last sequence)."""
    if case.venue == "binance":
        seq = last["data"]["u"]
    elif case.venue == "okx":
        seq = last["data"][0]["seqId"]
    else:
        seq = last["data"]["u"]
    if seq != case.last_seq:
        raise FeedBenchError(f"orjson_loads/{case.case}: last frame seq {seq} != {case.last_seq}")


# --------------------------------------------------------------------------- timing


def _timed(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Run ``fn`` once with the cyclic GC off; (elapsed ns, its result)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        result = fn()
        elapsed = time.perf_counter_ns() - t0
    finally:
        if was_enabled:
            gc.enable()
    return elapsed, result


def time_one(case: FeedCase, impl: str) -> int:
    """Set up a fresh book for ``impl``, time one loop over the case's frames, check it."""
    if impl == "openclaw":
        sync, book_id = new_sync(case)
        recv_ts = time.monotonic_ns()
        elapsed, last = _timed(lambda: run_openclaw(sync, case.frames, recv_ts))
        check_openclaw(case, sync, book_id, last)
    elif impl == "orjson_loads":
        elapsed, last = _timed(lambda: run_loads(case.frames))
        check_loads(case, last)
    elif impl == "python":
        book = PythonBook(case)
        elapsed, _ = _timed(lambda: run_python(book, case.frames))
        check_python(case, book)
    else:
        raise ValueError(f"unknown implementation {impl!r}; known: {', '.join(IMPLS)}")
    return elapsed


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("openclaw-trading", "orjson", "websockets"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def run_feed_bench(
    quick: bool = False,
    json_out: bool = False,
    *,
    reps: int | None = None,
    n_messages: int | None = None,
    seed: int = DEFAULT_SEED,
    cases: Sequence[str] | None = None,
    impls: Sequence[str] | None = None,
    show_progress: bool = True,
    raise_errors: bool = False,
) -> dict[str, Any]:
    """Run the feed benchmark, print the table (or one JSON object) and return the result.

    ``result["ok"]`` is False when a book disagreed with the truth: nothing but the failure is
    printed then (stderr; with ``json_out`` also ``{"ok": false, ...}`` on stdout) and the
    caller must exit non-zero. ``raise_errors`` lets the FeedBenchError propagate instead.
    """
    from openclaw.bench.book import Progress, report_failure

    n_messages = n_messages or (QUICK_MESSAGES if quick else DEFAULT_MESSAGES)
    reps = reps or (QUICK_REPS if quick else DEFAULT_REPS)
    if reps < 1:
        raise ValueError("reps must be >= 1")
    cases = tuple(cases or CASES)
    impls = tuple(impls or IMPLS)
    for impl in impls:
        if impl not in IMPLS:
            raise ValueError(f"unknown implementation {impl!r}; known: {', '.join(IMPLS)}")
    if BASELINE not in impls:
        impls = (BASELINE, *impls)
    load_before = os.getloadavg()[0]
    try:
        with Progress((reps + 1) * len(cases) * len(impls), enabled=show_progress) as progress:
            progress.log(f"generating {n_messages} frames per venue (seed {seed}) ...")
            data = generate_cases(n_messages, seed, cases)
            for c in data.values():
                progress.log(f"  {c.case}: {c.n} frames, {c.levels_per_msg:.1f} levels/msg, "
                             f"median {c.median_bytes:.0f} B, final book "
                             f"{len(c.truth_bids)}/{len(c.truth_asks)} levels")
            gc.collect()
            gc.freeze()
            try:
                samples = _run_reps(data, cases, impls, reps, progress)
            finally:
                gc.unfreeze()
    except FeedBenchError as exc:
        if raise_errors:
            raise
        report_failure("check", str(exc), json_out)
        return {"ok": False, "kind": "check", "error": str(exc)}
    results = _results(data, cases, impls, samples, reps, seed)
    # other processes on the machine inflate medians: say how busy it was
    results["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if json_out:
        print(json.dumps(results))
    else:
        _print_table(results)
    return results


def _run_reps(data: dict[str, FeedCase], cases: tuple[str, ...], impls: tuple[str, ...],
              reps: int, progress: Any) -> dict[tuple[str, str], list[float]]:
    samples: dict[tuple[str, str], list[float]] = {(c, i): [] for c in cases for i in impls}
    for rep in range(reps + 1):          # rep 0: checked warm-up, not reported
        shift = rep % len(impls)
        order = impls[shift:] + impls[:shift]
        for case in cases:
            for impl in order:
                progress.step(f"{'warm-up' if rep == 0 else f'rep {rep}/{reps}'}: "
                              f"{case} {impl}")
                elapsed = time_one(data[case], impl)
                if rep:
                    samples[(case, impl)].append(elapsed / data[case].n)
    return samples


def _results(data: dict[str, FeedCase], cases: tuple[str, ...], impls: tuple[str, ...],
             samples: dict[tuple[str, str], list[float]], reps: int, seed: int
             ) -> dict[str, Any]:
    rows = []
    for case in cases:
        base = statistics.median(samples[(case, BASELINE)])
        for impl in impls:
            vals = samples[(case, impl)]
            med = statistics.median(vals)
            row: dict[str, Any] = {
                "case": case,
                "impl": impl,
                "median_ns": round(med, 1),
                "min_ns": round(min(vals), 1),
                "ratio": float(f"{med / base:.4g}"),
                "per": "msg",
            }
            if impl == BASELINE:
                row["target_ns"] = TARGET_NS
                row["meets_target"] = med <= TARGET_NS
            rows.append(row)
    return {
        "ok": True,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": _versions(),
        "target_ns": TARGET_NS,
        "ratio": "median / openclaw median (same case, same run)",
        "impls": {i: IMPL_DESCRIPTION[i] for i in impls},
        "frames": {
            c: {
                "description": CASE_DESCRIPTION[c],
                "messages": data[c].n,
                "levels_per_msg": round(data[c].levels_per_msg, 2),
                "median_bytes": data[c].median_bytes,
                "book_levels": [len(data[c].truth_bids), len(data[c].truth_asks)],
            }
            for c in cases
        },
        "seed": seed,
        "reps": reps,
        "cases": rows,
        "checks": {"all_passed": True,
                   "per_loop": "final book == market truth, sequence, counters, no resync"},
    }


def _print_table(results: dict[str, Any]) -> None:
    """Human table on stdout (rich)."""
    from rich.console import Console
    from rich.table import Table

    from openclaw.bench.book import fmt_ratio

    title = (f"feed bench: raw frame text -> applied book, Python {results['python']}, "
             f"{results['reps']} reps; ns per message, ratio = median / openclaw median")
    notes = [f"{k}: {v}" for k, v in results["impls"].items()]
    notes += [f"{c}: {f['description']}; {f['messages']} msgs, {f['levels_per_msg']} levels/msg,"
              f" median {f['median_bytes']:.0f} B" for c, f in results["frames"].items()]
    notes.append(f"target: openclaw <= {results['target_ns']:,.0f} ns per message; "
                 f"checks: every loop's final book == market truth")
    load = results.get("loadavg_1m")
    if load:
        notes.append(f"machine load average (1 min) before / after: {load[0]} / {load[1]} on "
                     f"{os.cpu_count()} CPUs (other processes inflate medians; see min ns)")
    table = Table(title=title, caption="\n".join(notes), caption_justify="left")
    for i, col in enumerate(("case", "impl", "median ns", "min ns", "ratio", "target")):
        table.add_column(col, justify="right" if i >= 2 else "left", no_wrap=True)
    prev = None
    for r in results["cases"]:
        if prev is not None and r["case"] != prev:
            table.add_section()
        prev = r["case"]
        target = ""
        if "meets_target" in r:
            target = "[green]met[/]" if r["meets_target"] else "[bold red]MISSED[/]"
        table.add_row(r["case"], r["impl"], f"{r['median_ns']:,.1f}", f"{r['min_ns']:,.1f}",
                      fmt_ratio(r["ratio"]), target)
    Console(highlight=False).print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m openclaw.bench.feed [--quick] [--json] ...``; exit 1 if a check failed."""
    parser = argparse.ArgumentParser(prog="openclaw-trading bench feed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_MESSAGES} frames per venue, {QUICK_REPS} reps")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--messages", type=int, default=None, help="frames per venue")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--cases", default=None, help=f"comma list of {','.join(CASES)}")
    args = parser.parse_args(argv)
    cases = args.cases.split(",") if args.cases else None
    for case in cases or ():
        if case not in CASE_VENUE:
            parser.error(f"unknown case {case!r}; known: {', '.join(CASES)}")
    result = run_feed_bench(args.quick, args.json, reps=args.reps, n_messages=args.messages,
                            seed=args.seed, cases=cases)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
