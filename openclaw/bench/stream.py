"""Deterministic BTC/USDT-shaped L2 depth stream for order-book benchmarks.

The shape follows docs/benchmarks.md section 2, so numbers measured here can be compared with
the reference figures there (section 4): tick 0.01, lot 0.00001, about 1000 levels a side,
messages of 10-20 distinct levels, 90 % of changes near the top, a fair price doing a random
walk whose run-over levels are deleted in the same message (no message ever leaves a crossed
book).

The generator keeps its own plain dict book in integer ticks/lots; its final top levels are the
truth every benchmarked implementation is checked against. Each message is emitted in three
forms: pre-parsed float level lists per side, a flat per-level op list, and Binance spot
``depthUpdate`` JSON bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import asdict, dataclass

DEFAULT_SEED = 20261126
DEFAULT_MESSAGES = 10_000
QUICK_MESSAGES = 2_000
TICK_SIZE = "0.01"
LOT_SIZE = "0.00001"
PRICE_DECIMALS = 2
SIZE_DECIMALS = 5
PRICE_SCALE = 10**PRICE_DECIMALS  # ticks per 1.0 of price
SIZE_SCALE = 10**SIZE_DECIMALS  # lots per 1.0 of size
WIRE_DECIMALS = 8  # Binance pads prices and quantities to 8 decimals
TRUTH_LEVELS = 10
SYMBOL = "BTCUSDT"

_START_BID = 65_000 * PRICE_SCALE  # fair bid 65000.00; best ask 65000.01
_INITIAL_LEVELS = 1000
_FILLED_TOUCH = 40  # the first 40 ticks from the touch are all filled
_DEEP_MAX = 4000
_MSG_MIN, _MSG_MAX = 10, 20
_TOP_RANKS = 20
_RANK_MEAN = 5.0
_P_TOP = 0.9  # share of changes/deletes that land in the top 20 ranks
_NEAR_MEAN = 5.0  # new levels near the touch: distance ~ exponential, mean 5 ticks
_DEEP_MIN = 20
_P_NEAR = 0.9  # share of new levels near the fair price (the rest deep)
_P_DRIFT = 0.2
_P_CHANGE = 0.585
_P_DELETE = 0.20  # the rest (0.215) are new levels
_DEPTH_PULL = 0.002  # delete share moves by this per level of depth away from _INITIAL_LEVELS
_MIN_SIDE = 2 * _TOP_RANKS  # never delete a side below this many levels
_ATTEMPTS = 32
_SNAPSHOT_UPDATE_ID = 40_000_000_000
_START_MS = 1_795_651_200_000  # 2026-11-26T00:00:00Z
_EVENT_MS = 100  # @depth@100ms

Level = tuple[float, float]
"""(price, size) as floats; size 0.0 deletes the level."""
Op = tuple[int, float, float]
"""(side, price, size): side 0 = bid, 1 = ask; size 0.0 deletes the level."""
TickLevel = tuple[int, int]
"""(price in ticks, size in lots)."""


@dataclass(frozen=True, slots=True)
class StreamStats:
    """Shape of a generated stream, to compare with docs/benchmarks.md section 2."""

    n_messages: int
    n_levels: int  # level updates over all messages
    mean_levels_per_msg: float
    n_change: int
    n_delete: int
    n_new: int
    n_taken: int  # deletes caused by the fair price running over a level
    min_depth: int  # fewest levels on either side at a message end
    max_depth: int
    spread_median_ticks: float
    spread_max_ticks: int
    net_drift_ticks: int
    json_median_bytes: float


@dataclass(frozen=True, slots=True)
class DepthStream:
    """A generated stream: snapshot, messages in three forms, and the generator's truth.

    ``levels[i]``, ``ops[i]`` and ``json_msgs[i]`` are the same message. Within ``ops[i]`` the
    deletes come first, so applying it level by level never passes through a crossed book.
    ``flat_ops`` is every op of the stream in order, for per-update loops.
    """

    seed: int
    tick_size: str
    lot_size: str
    price_scale: int
    size_scale: int
    snapshot_update_id: int
    snapshot_bids: list[tuple[str, str]]  # best first, Binance-style decimal strings
    snapshot_asks: list[tuple[str, str]]
    levels: list[tuple[list[Level], list[Level]]]  # (bids best first, asks best first)
    ops: list[list[Op]]
    json_msgs: list[bytes]
    flat_ops: list[Op]
    truth_bids: tuple[TickLevel, ...]  # final top TRUTH_LEVELS, best first
    truth_asks: tuple[TickLevel, ...]
    truth_depth: tuple[int, int]  # final (n_bids, n_asks)
    stats: StreamStats

    @property
    def n_messages(self) -> int:
        """Number of messages in the stream."""
        return len(self.json_msgs)

    def snapshot_float_levels(self) -> tuple[list[Level], list[Level]]:
        """The snapshot as float (price, size) lists, for books that take floats."""
        bids = [(float(p), float(q)) for p, q in self.snapshot_bids]
        asks = [(float(p), float(q)) for p, q in self.snapshot_asks]
        return bids, asks


class _Side:
    """One side of the generator's own book: a dict plus a sorted key list for ranks."""

    __slots__ = ("is_bid", "levels", "keys")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, int] = {}
        self.keys: list[int] = []  # ascending ticks

    def set(self, tick: int, lots: int) -> None:
        if tick not in self.levels:
            insort(self.keys, tick)
        self.levels[tick] = lots

    def delete(self, tick: int) -> None:
        del self.levels[tick]
        self.keys.pop(bisect_left(self.keys, tick))

    def at_rank(self, rank: int) -> int:
        return self.keys[-1 - rank] if self.is_bid else self.keys[rank]

    def top(self, n: int) -> tuple[TickLevel, ...]:
        ranked = sorted(self.levels.items(), reverse=self.is_bid)
        return tuple(ranked[:n])


def format_fixed(value: int, decimals: int) -> str:
    """Integer units -> Binance-style string padded to 8 decimals (6499999 -> "64999.99000000")."""
    whole, frac = divmod(value, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}" + "0" * (WIRE_DECIMALS - decimals)


def parse_fixed(text: str, decimals: int) -> int:
    """Decimal string -> exact integer units; raises ValueError if it is not a multiple."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a plain decimal: {text!r}")
    if frac[decimals:].strip("0"):
        raise ValueError(f"{text!r} is not a multiple of 1e-{decimals}")
    return int(whole) * 10**decimals + int(frac[:decimals].ljust(decimals, "0"))


def _random_lots(rng: random.Random) -> int:
    # log-normal, median ~0.05 BTC; Binance-like mix of dust and large resting orders
    return max(1, int(rng.lognormvariate(8.5, 1.6)))


def _pick_existing(rng: random.Random, side: _Side, touched: dict[int, int]) -> int | None:
    n = len(side.keys)
    for _ in range(_ATTEMPTS):
        if rng.random() < _P_TOP:
            rank = int(rng.expovariate(1.0 / _RANK_MEAN))
            if rank >= min(_TOP_RANKS, n):
                continue
        else:
            rank = rng.randrange(n)
        tick = side.at_rank(rank)
        if tick not in touched:
            return tick
    return None


def _pick_new(rng: random.Random, side: _Side, fair: int, touched: dict[int, int]) -> int | None:
    for _ in range(_ATTEMPTS):
        if rng.random() < _P_NEAR:
            dist = int(rng.expovariate(1.0 / _NEAR_MEAN))
            if dist >= _DEEP_MIN:
                continue
        else:
            dist = rng.randint(_DEEP_MIN, _DEEP_MAX)
        tick = fair - dist if side.is_bid else fair + 1 + dist
        if tick > 0 and tick not in side.levels and tick not in touched:
            return tick
    return None


def _initial_side(rng: random.Random, side: _Side, fair: int) -> None:
    offsets = list(range(_FILLED_TOUCH))
    offsets += rng.sample(range(_FILLED_TOUCH, _DEEP_MAX + 1), _INITIAL_LEVELS - _FILLED_TOUCH)
    for off in offsets:
        side.set(fair - off if side.is_bid else fair + 1 + off, _random_lots(rng))


def _encode_json(
    event_ms: int, first_id: int, last_id: int, bids: list[TickLevel], asks: list[TickLevel]
) -> bytes:
    def side(levels: list[TickLevel]) -> str:
        return ",".join(
            f'["{format_fixed(t, PRICE_DECIMALS)}","{format_fixed(q, SIZE_DECIMALS)}"]'
            for t, q in levels
        )

    return (
        f'{{"e":"depthUpdate","E":{event_ms},"s":"{SYMBOL}","U":{first_id},"u":{last_id},'
        f'"b":[{side(bids)}],"a":[{side(asks)}]}}'
    ).encode()


def generate(n_messages: int = DEFAULT_MESSAGES, seed: int = DEFAULT_SEED) -> DepthStream:
    """Build the stream; the same (n_messages, seed) always gives the same bytes and truth."""
    if n_messages < 1:
        raise ValueError("n_messages must be >= 1")
    rng = random.Random(seed)
    fair = _START_BID  # bids live at ticks <= fair, asks at ticks >= fair + 1
    book = (_Side(True), _Side(False))
    _initial_side(rng, book[0], fair)
    _initial_side(rng, book[1], fair)
    snapshot_bids = [
        (format_fixed(t, PRICE_DECIMALS), format_fixed(q, SIZE_DECIMALS))
        for t, q in book[0].top(len(book[0].keys))
    ]
    snapshot_asks = [
        (format_fixed(t, PRICE_DECIMALS), format_fixed(q, SIZE_DECIMALS))
        for t, q in book[1].top(len(book[1].keys))
    ]

    levels: list[tuple[list[Level], list[Level]]] = []
    ops: list[list[Op]] = []
    json_msgs: list[bytes] = []
    flat_ops: list[Op] = []
    counts = {"change": 0, "delete": 0, "new": 0, "taken": 0}
    spreads: list[int] = []
    min_depth = max_depth = len(book[0].keys)
    last_id = _SNAPSHOT_UPDATE_ID
    for i in range(n_messages):
        touched: tuple[dict[int, int], dict[int, int]] = ({}, {})
        if rng.random() < _P_DRIFT:
            fair += 1 if rng.random() < 0.5 else -1
            bids, asks = book
            while asks.keys and asks.keys[0] <= fair:  # the bid side ran over these asks
                tick = asks.keys[0]
                asks.delete(tick)
                touched[1][tick] = 0
                counts["taken"] += 1
            while bids.keys and bids.keys[-1] > fair:
                tick = bids.keys[-1]
                bids.delete(tick)
                touched[0][tick] = 0
                counts["taken"] += 1
        n_levels = rng.randint(_MSG_MIN, _MSG_MAX)
        guard = 0
        while len(touched[0]) + len(touched[1]) < n_levels:
            guard += 1
            if guard > 100 * _MSG_MAX:
                raise RuntimeError("stream generator could not fill a message")
            s = 0 if rng.random() < 0.5 else 1
            side, seen = book[s], touched[s]
            # keep each side near 1000 levels: shift delete/new odds by the depth deviation
            p_delete = _P_DELETE + _DEPTH_PULL * (len(side.keys) - _INITIAL_LEVELS)
            r = rng.random()
            if r < _P_CHANGE + min(max(p_delete, 0.0), 1.0 - _P_CHANGE):
                tick = _pick_existing(rng, side, seen)
                if tick is None:
                    continue
                if r >= _P_CHANGE and len(side.keys) > _MIN_SIDE:
                    side.delete(tick)
                    seen[tick] = 0
                    counts["delete"] += 1
                else:
                    lots = _random_lots(rng)
                    while lots == side.levels[tick]:
                        lots = _random_lots(rng)
                    side.set(tick, lots)
                    seen[tick] = lots
                    counts["change"] += 1
            else:
                tick = _pick_new(rng, side, fair, seen)
                if tick is None:
                    continue
                lots = _random_lots(rng)
                side.set(tick, lots)
                seen[tick] = lots
                counts["new"] += 1

        bids, asks = book
        if not bids.keys or not asks.keys or bids.keys[-1] >= asks.keys[0]:
            raise RuntimeError(f"generator bug: message {i} leaves a crossed or empty book")
        spreads.append(asks.keys[0] - bids.keys[-1])
        depth_lo, depth_hi = sorted((len(bids.keys), len(asks.keys)))
        min_depth = min(min_depth, depth_lo)
        max_depth = max(max_depth, depth_hi)

        b_ticks = sorted(touched[0].items(), reverse=True)
        a_ticks = sorted(touched[1].items())
        b_float = [(t / PRICE_SCALE, q / SIZE_SCALE) for t, q in b_ticks]
        a_float = [(t / PRICE_SCALE, q / SIZE_SCALE) for t, q in a_ticks]
        msg_ops: list[Op] = [(0, px, 0.0) for px, q in b_float if not q]
        msg_ops += [(1, px, 0.0) for px, q in a_float if not q]
        msg_ops += [(0, px, q) for px, q in b_float if q]
        msg_ops += [(1, px, q) for px, q in a_float if q]
        first_id = last_id + 1
        last_id = first_id + len(msg_ops) - 1
        levels.append((b_float, a_float))
        ops.append(msg_ops)
        flat_ops.extend(msg_ops)
        json_msgs.append(
            _encode_json(_START_MS + i * _EVENT_MS, first_id, last_id, b_ticks, a_ticks)
        )

    n_total = len(flat_ops)
    stats = StreamStats(
        n_messages=n_messages,
        n_levels=n_total,
        mean_levels_per_msg=n_total / n_messages,
        n_change=counts["change"],
        n_delete=counts["delete"],
        n_new=counts["new"],
        n_taken=counts["taken"],
        min_depth=min_depth,
        max_depth=max_depth,
        spread_median_ticks=statistics.median(spreads),
        spread_max_ticks=max(spreads),
        net_drift_ticks=fair - _START_BID,
        json_median_bytes=statistics.median(len(m) for m in json_msgs),
    )
    return DepthStream(
        seed=seed,
        tick_size=TICK_SIZE,
        lot_size=LOT_SIZE,
        price_scale=PRICE_SCALE,
        size_scale=SIZE_SCALE,
        snapshot_update_id=_SNAPSHOT_UPDATE_ID,
        snapshot_bids=snapshot_bids,
        snapshot_asks=snapshot_asks,
        levels=levels,
        ops=ops,
        json_msgs=json_msgs,
        flat_ops=flat_ops,
        truth_bids=book[0].top(TRUTH_LEVELS),
        truth_asks=book[1].top(TRUTH_LEVELS),
        truth_depth=(len(book[0].keys), len(book[1].keys)),
        stats=stats,
    )


def verify_stream(stream: DepthStream) -> None:
    """Check that the three message forms agree and replay to the truth; raise ValueError if not.

    Independent of the generator's bookkeeping: the snapshot and the JSON are parsed back from
    their strings into a fresh dict book, so a formatting or encoding bug shows up here.
    """
    bids = {
        parse_fixed(p, PRICE_DECIMALS): parse_fixed(q, SIZE_DECIMALS)
        for p, q in stream.snapshot_bids
    }
    asks = {
        parse_fixed(p, PRICE_DECIMALS): parse_fixed(q, SIZE_DECIMALS)
        for p, q in stream.snapshot_asks
    }
    if len(bids) != len(stream.snapshot_bids) or len(asks) != len(stream.snapshot_asks):
        raise ValueError("snapshot repeats a price")
    if max(bids) >= min(asks):
        raise ValueError("snapshot is crossed")
    expected_first = stream.snapshot_update_id + 1
    for i, raw in enumerate(stream.json_msgs):
        msg = json.loads(raw)
        if msg["e"] != "depthUpdate" or msg["s"] != SYMBOL or msg["U"] != expected_first:
            raise ValueError(f"message {i}: bad header or update-id gap")
        expected_first = msg["u"] + 1
        b_float, a_float = stream.levels[i]
        if [(float(p), float(q)) for p, q in msg["b"]] != b_float or [
            (float(p), float(q)) for p, q in msg["a"]
        ] != a_float:
            raise ValueError(f"message {i}: JSON and float levels differ")
        op_view = sorted(stream.ops[i])
        float_view = sorted([(0, p, q) for p, q in b_float] + [(1, p, q) for p, q in a_float])
        if op_view != float_view:
            raise ValueError(f"message {i}: op list and float levels differ")
        n = len(op_view)
        if not _MSG_MIN <= n <= _MSG_MAX or len({(s, p) for s, p, _ in op_view}) != n:
            raise ValueError(f"message {i}: {n} levels, or a level repeats")
        for side_book, side_levels in ((bids, msg["b"]), (asks, msg["a"])):
            for p, q in side_levels:
                tick, lots = parse_fixed(p, PRICE_DECIMALS), parse_fixed(q, SIZE_DECIMALS)
                if lots:
                    side_book[tick] = lots
                else:
                    side_book.pop(tick, None)
    flat = [op for msg_ops in stream.ops for op in msg_ops]
    if flat != stream.flat_ops:
        raise ValueError("flat_ops is not the concatenation of ops")
    top_b = tuple(sorted(bids.items(), reverse=True)[:TRUTH_LEVELS])
    top_a = tuple(sorted(asks.items())[:TRUTH_LEVELS])
    if top_b != stream.truth_bids or top_a != stream.truth_asks:
        raise ValueError("replayed JSON does not reach the generator's final top levels")
    if (len(bids), len(asks)) != stream.truth_depth:
        raise ValueError("replayed JSON does not reach the generator's final depth")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the stream's shape (and verify it): ``python -m openclaw.bench.stream [--quick]``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    n = args.messages or (QUICK_MESSAGES if args.quick else DEFAULT_MESSAGES)
    stream = generate(n, args.seed)
    verify_stream(stream)
    summary = {
        "seed": stream.seed,
        **asdict(stream.stats),
        "truth_bids": stream.truth_bids,
        "truth_asks": stream.truth_asks,
        "truth_depth": stream.truth_depth,
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
