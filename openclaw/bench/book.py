"""Order-book benchmark: openclaw against Python-usable peers on one deterministic stream.

Method (docs/benchmarks.md section 3): one timed loop over the whole stream per (implementation,
case), ``time.perf_counter_ns``, GC disabled inside the loop, N repetitions with the
implementations interleaved round-robin (the order rotates every repetition), medians per op.
Every book is checked against the stream generator's own final top-10 and depth after every
update, message and JSON loop, and the last value of every BBO/top-10 read loop is checked too.
A mismatch is a failure before any figure is printed: ``run_book_bench`` returns
``{"ok": False, ...}`` after reporting it on stderr, ``main`` exits 1 (2 if an implementation
cannot be loaded).

Cases (unit in brackets):
  update       one ``(side, price, size)`` level update, size 0 deletes [per op]
  bbo          best bid + best ask, price and size, on the static final book [per read]
  top10        top 10 levels of both sides as (price, size) pairs [per read]; openclaw
               writes them into preallocated buffers (top_into), the peers build tuples
  message      apply one message of 10-20 pre-parsed float levels [per msg]
  message_bbo  the same, then read the BBO once [per msg]
  json_bbo     Binance depthUpdate bytes -> book -> BBO [per msg]

Run: ``openclaw-trading bench book [--quick] [--reps N] [--json]`` or ``python -m
openclaw.bench.book``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import platform
import statistics
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from typing import Any

from openclaw.bench.stream import (
    DEFAULT_MESSAGES,
    DEFAULT_SEED,
    QUICK_MESSAGES,
    TRUTH_LEVELS,
    DepthStream,
    generate,
    verify_stream,
)

CASES: tuple[str, ...] = ("update", "bbo", "top10", "message", "message_bbo", "json_bbo")
CASE_UNIT: dict[str, str] = {
    "update": "op",
    "bbo": "read",
    "top10": "read",
    "message": "msg",
    "message_bbo": "msg",
    "json_bbo": "msg",
}
MUTATING_CASES = frozenset({"update", "message", "message_bbo", "json_bbo"})
IMPLS: tuple[str, ...] = ("openclaw", "order_book", "sortedcontainers")
BASELINE = "openclaw"
DEFAULT_REPS = 7
QUICK_REPS = 3
OPENCLAW_CAPACITY = 5000

PriceSize = tuple[float, float]
BBO = tuple[Any, Any]  # (best bid, best ask), each a (price, size) pair or None


class BenchCheckError(AssertionError):
    """An implementation's book or read result differs from the generator's truth."""


class BenchUnavailableError(RuntimeError):
    """A requested implementation cannot be imported (not installed or not built)."""


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


class BookAdapter(ABC):
    """One implementation: builds books and runs each case as one tight loop.

    Each case method takes the book and the whole case input and loops itself, so the timed
    code is exactly what a user of that library would write (methods bound to locals).
    """

    name: str = ""
    version: str = ""

    @abstractmethod
    def new_book(self, stream: DepthStream) -> Any:
        """A fresh book holding the stream's initial snapshot (untimed)."""

    @abstractmethod
    def levels(self, book: Any, n: int) -> tuple[Iterable[Any], Iterable[Any]]:
        """Top ``n`` (price, size) pairs per side, best first (untimed, for checks)."""

    @abstractmethod
    def depth(self, book: Any) -> tuple[int, int]:
        """Number of (bid, ask) levels (untimed, for checks)."""

    @abstractmethod
    def update(self, book: Any, ops: list[tuple[int, float, float]]) -> None:
        """Apply every op one level at a time."""

    @abstractmethod
    def bbo(self, book: Any, n_reads: int) -> BBO:
        """Read best bid and best ask ``n_reads`` times; return the last read."""

    @abstractmethod
    def top10(self, book: Any, n_reads: int) -> BBO:
        """Read the top 10 of both sides ``n_reads`` times; return the last (bids, asks)."""

    @abstractmethod
    def message(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> None:
        """Apply every message from its pre-parsed float level lists."""

    @abstractmethod
    def message_bbo(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> BBO:
        """Apply every message, reading the BBO after each; return the last BBO."""

    @abstractmethod
    def json_bbo(self, book: Any, raws: list[bytes]) -> BBO:
        """Decode and apply every Binance JSON message, reading the BBO after each."""

    def describe(self) -> str:
        """One line naming the implementation and the paths it uses."""
        return f"{self.name} {self.version}"


class OpenclawAdapter(BookAdapter):
    """openclaw's Cython OrderBook through its documented float/str API (docs/core-api.md)."""

    name = "openclaw"

    def __init__(
        self,
        book_cls: Callable[..., Any] | None = None,
        wire_fn: Callable[[Any, bytes], Any] | None | str = "auto",
    ) -> None:
        """``book_cls``/``wire_fn`` default to the installed core; ``wire_fn=None`` forces the
        orjson fallback for json_bbo (stand-ins are for testing the harness itself)."""
        self._book_cls = book_cls if book_cls is not None else _import_openclaw_book()
        if wire_fn == "auto":
            try:
                depth = importlib.import_module("openclaw.venues.binance.depth")
                wire_fn = depth.apply_binance_depth
            except (ImportError, AttributeError):
                wire_fn = None
        if isinstance(wire_fn, str):
            raise ValueError(f"wire_fn must be a callable, None or 'auto', not {wire_fn!r}")
        self._wire_fn = wire_fn
        import orjson

        self._loads = orjson.loads
        self.version = _dist_version("openclaw-trading")
        if self._wire_fn is not None:
            fn = self._wire_fn
            self.json_path = f"{fn.__module__}.{getattr(fn, '__qualname__', fn)}(book, raw)"
        else:
            self.json_path = (
                "FALLBACK orjson.loads + book.apply(d['b'], d['a']) "
                "(openclaw.venues.binance.depth.apply_binance_depth not found)"
            )

    def describe(self) -> str:
        return f"openclaw {self.version}; json_bbo via {self.json_path}"

    def new_book(self, stream: DepthStream) -> Any:
        book = self._book_cls(
            tick_size=stream.tick_size, lot_size=stream.lot_size, capacity=OPENCLAW_CAPACITY
        )
        book.apply_snapshot(
            stream.snapshot_bids, stream.snapshot_asks, seq=stream.snapshot_update_id
        )
        return book

    def levels(self, book: Any, n: int) -> tuple[Iterable[Any], Iterable[Any]]:
        bids, asks = book.top(n)
        return bids.tolist(), asks.tolist()

    def depth(self, book: Any) -> tuple[int, int]:
        n_bids, n_asks = book.depth()
        if book.dropped:
            raise BenchCheckError(f"openclaw dropped {book.dropped} levels (capacity)")
        return n_bids, n_asks

    def update(self, book: Any, ops: list[tuple[int, float, float]]) -> None:
        set_level = book.set_level
        for side, px, qty in ops:
            set_level(side, px, qty)

    def bbo(self, book: Any, n_reads: int) -> BBO:
        best_bid, best_ask = book.best_bid, book.best_ask
        b = a = None
        for _ in range(n_reads):
            b = best_bid()
            a = best_ask()
        return b, a

    def top10(self, book: Any, n_reads: int) -> BBO:
        """openclaw reads into preallocated (10, 2) buffers (``top_into``): no allocation."""
        import numpy as np

        bids = np.empty((10, 2), dtype=np.float64)
        asks = np.empty((10, 2), dtype=np.float64)
        top_into = book.top_into
        kb = ka = 0
        for _ in range(n_reads):
            kb, ka = top_into(bids, asks)
        return bids[:kb], asks[:ka]

    def message(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> None:
        apply = book.apply
        for bids, asks in msgs:
            apply(bids, asks)

    def message_bbo(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> BBO:
        apply, best_bid, best_ask = book.apply, book.best_bid, book.best_ask
        b = a = None
        for bids, asks in msgs:
            apply(bids, asks)
            b = best_bid()
            a = best_ask()
        return b, a

    def json_bbo(self, book: Any, raws: list[bytes]) -> BBO:
        best_bid, best_ask = book.best_bid, book.best_ask
        b = a = None
        wire = self._wire_fn
        if wire is not None:
            for raw in raws:
                wire(book, raw)
                b = best_bid()
                a = best_ask()
        else:
            loads, apply = self._loads, book.apply
            for raw in raws:
                d = loads(raw)
                apply(d["b"], d["a"])
                b = best_bid()
                a = best_ask()
        return b, a


def _import_openclaw_book() -> Callable[..., Any]:
    errors = []
    for mod_name in ("openclaw", "openclaw._core.book"):
        try:
            return importlib.import_module(mod_name).OrderBook
        except (ImportError, AttributeError) as exc:
            errors.append(f"{mod_name}: {exc}")
    raise BenchUnavailableError(
        "openclaw OrderBook is not importable (is the Cython core built? "
        "`pip install -e .`): " + "; ".join(errors)
    )


class OrderBookAdapter(BookAdapter):
    """bmoscon's C ``order_book.OrderBook``; e2e uses orjson + float(), as cryptofeed does."""

    name = "order_book"

    def __init__(self) -> None:
        try:
            import order_book
            import orjson
        except ImportError as exc:
            raise BenchUnavailableError(
                f"order_book peer needs `pip install order-book orjson`: {exc}"
            ) from exc
        self._cls = order_book.OrderBook
        self._loads = orjson.loads
        self.version = _dist_version("order-book")

    def new_book(self, stream: DepthStream) -> Any:
        book = self._cls()
        bids, asks = stream.snapshot_float_levels()
        for px, qty in bids:
            book.bids[px] = qty
        for px, qty in asks:
            book.asks[px] = qty
        return book

    def levels(self, book: Any, n: int) -> tuple[Iterable[Any], Iterable[Any]]:
        bids, asks = book.bids, book.asks
        return (
            [bids.index(i) for i in range(min(n, len(bids)))],
            [asks.index(i) for i in range(min(n, len(asks)))],
        )

    def depth(self, book: Any) -> tuple[int, int]:
        return len(book.bids), len(book.asks)

    def update(self, book: Any, ops: list[tuple[int, float, float]]) -> None:
        sides = (book.bids, book.asks)
        for side, px, qty in ops:
            d = sides[side]
            if qty:
                d[px] = qty
            else:
                try:
                    del d[px]
                except KeyError:
                    pass

    def bbo(self, book: Any, n_reads: int) -> BBO:
        bidx, aidx = book.bids.index, book.asks.index
        b = a = None
        for _ in range(n_reads):
            b = bidx(0)
            a = aidx(0)
        return b, a

    def top10(self, book: Any, n_reads: int) -> BBO:
        bidx, aidx = book.bids.index, book.asks.index
        ten = range(10)
        r = None
        for _ in range(n_reads):
            r = [bidx(i) for i in ten], [aidx(i) for i in ten]
        return r

    def message(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> None:
        bids, asks = book.bids, book.asks
        for b_levels, a_levels in msgs:
            for px, qty in b_levels:
                if qty:
                    bids[px] = qty
                else:
                    try:
                        del bids[px]
                    except KeyError:
                        pass
            for px, qty in a_levels:
                if qty:
                    asks[px] = qty
                else:
                    try:
                        del asks[px]
                    except KeyError:
                        pass

    def message_bbo(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> BBO:
        bids, asks = book.bids, book.asks
        bidx, aidx = bids.index, asks.index
        b = a = None
        for b_levels, a_levels in msgs:
            for px, qty in b_levels:
                if qty:
                    bids[px] = qty
                else:
                    try:
                        del bids[px]
                    except KeyError:
                        pass
            for px, qty in a_levels:
                if qty:
                    asks[px] = qty
                else:
                    try:
                        del asks[px]
                    except KeyError:
                        pass
            b = bidx(0)
            a = aidx(0)
        return b, a

    def json_bbo(self, book: Any, raws: list[bytes]) -> BBO:
        loads = self._loads
        bids, asks = book.bids, book.asks
        bidx, aidx = bids.index, asks.index
        b = a = None
        for raw in raws:
            d = loads(raw)
            for p, q in d["b"]:
                px = float(p)
                qty = float(q)
                if qty:
                    bids[px] = qty
                else:
                    try:
                        del bids[px]
                    except KeyError:
                        pass
            for p, q in d["a"]:
                px = float(p)
                qty = float(q)
                if qty:
                    asks[px] = qty
                else:
                    try:
                        del asks[px]
                    except KeyError:
                        pass
            b = bidx(0)
            a = aidx(0)
        return b, a


class SortedContainersAdapter(BookAdapter):
    """Pure-Python ``sortedcontainers.SortedDict`` per side; bids keyed by -price."""

    name = "sortedcontainers"

    def __init__(self) -> None:
        try:
            import orjson
            import sortedcontainers
        except ImportError as exc:
            raise BenchUnavailableError(
                f"sortedcontainers peer needs `pip install sortedcontainers orjson`: {exc}"
            ) from exc
        self._cls = sortedcontainers.SortedDict
        self._loads = orjson.loads
        self.version = sortedcontainers.__version__

    def new_book(self, stream: DepthStream) -> Any:
        bids, asks = stream.snapshot_float_levels()
        return self._cls({-px: qty for px, qty in bids}), self._cls(asks)

    def levels(self, book: Any, n: int) -> tuple[Iterable[Any], Iterable[Any]]:
        bids, asks = book
        return [(-k, v) for k, v in bids.items()[:n]], list(asks.items()[:n])

    def depth(self, book: Any) -> tuple[int, int]:
        return len(book[0]), len(book[1])

    def update(self, book: Any, ops: list[tuple[int, float, float]]) -> None:
        bids, asks = book
        for side, px, qty in ops:
            if side:
                if qty:
                    asks[px] = qty
                else:
                    asks.pop(px, None)
            elif qty:
                bids[-px] = qty
            else:
                bids.pop(-px, None)

    def bbo(self, book: Any, n_reads: int) -> BBO:
        bpeek, apeek = book[0].peekitem, book[1].peekitem
        b = a = None
        for _ in range(n_reads):
            k, q = bpeek(0)
            b = (-k, q)
            a = apeek(0)
        return b, a

    def top10(self, book: Any, n_reads: int) -> BBO:
        bitems, aitems = book[0].items(), book[1].items()
        r = None
        for _ in range(n_reads):
            r = [(-k, v) for k, v in bitems[:10]], aitems[:10]
        return r

    def message(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> None:
        bids, asks = book
        for b_levels, a_levels in msgs:
            for px, qty in b_levels:
                if qty:
                    bids[-px] = qty
                else:
                    bids.pop(-px, None)
            for px, qty in a_levels:
                if qty:
                    asks[px] = qty
                else:
                    asks.pop(px, None)

    def message_bbo(self, book: Any, msgs: list[tuple[list[PriceSize], list[PriceSize]]]) -> BBO:
        bids, asks = book
        bpeek, apeek = bids.peekitem, asks.peekitem
        b = a = None
        for b_levels, a_levels in msgs:
            for px, qty in b_levels:
                if qty:
                    bids[-px] = qty
                else:
                    bids.pop(-px, None)
            for px, qty in a_levels:
                if qty:
                    asks[px] = qty
                else:
                    asks.pop(px, None)
            k, q = bpeek(0)
            b = (-k, q)
            a = apeek(0)
        return b, a

    def json_bbo(self, book: Any, raws: list[bytes]) -> BBO:
        loads = self._loads
        bids, asks = book
        bpeek, apeek = bids.peekitem, asks.peekitem
        b = a = None
        for raw in raws:
            d = loads(raw)
            for p, q in d["b"]:
                qty = float(q)
                if qty:
                    bids[-float(p)] = qty
                else:
                    bids.pop(-float(p), None)
            for p, q in d["a"]:
                qty = float(q)
                if qty:
                    asks[float(p)] = qty
                else:
                    asks.pop(float(p), None)
            k, q = bpeek(0)
            b = (-k, q)
            a = apeek(0)
        return b, a


ADAPTERS: dict[str, Callable[[], BookAdapter]] = {
    "openclaw": OpenclawAdapter,
    "order_book": OrderBookAdapter,
    "sortedcontainers": SortedContainersAdapter,
}


def make_adapter(name: str) -> BookAdapter:
    """Instantiate one implementation by name; raises BenchUnavailableError if missing."""
    try:
        factory = ADAPTERS[name]
    except KeyError:
        raise ValueError(f"unknown implementation {name!r}; known: {', '.join(ADAPTERS)}") from None
    return factory()


# --------------------------------------------------------------------------- checks


def _to_ticks(levels: Iterable[Any], stream: DepthStream) -> tuple[list[tuple[int, int]], bool]:
    """(price, size) floats -> (ticks, lots), and whether every float was the exact decimal."""
    out: list[tuple[int, int]] = []
    exact = True
    ps, ss = stream.price_scale, stream.size_scale
    for px, qty in levels:
        px, qty = float(px), float(qty)
        tick, lots = round(px * ps), round(qty * ss)
        exact = exact and px == tick / ps and qty == lots / ss
        out.append((tick, lots))
    return out, exact


def _compare(
    label: str, side: str, got: list[tuple[int, int]], want: Sequence[tuple[int, int]]
) -> None:
    if got == list(want):
        return
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            raise BenchCheckError(
                f"{label}: {side} level {i} is {g} (ticks, lots), the generator says {w}"
            )
    raise BenchCheckError(f"{label}: {side} has {len(got)} levels, the generator {len(want)}")


def check_case(
    adapter: BookAdapter, stream: DepthStream, case: str, book: Any, result: Any, label: str
) -> bool:
    """Check a case's book and read result against the truth; return True if floats are exact.

    Raises BenchCheckError on any mismatch. After a mutating case the whole book is checked
    (top 10 and depth); after a read case the value read is checked.
    """
    exact = True
    if case in MUTATING_CASES:
        bids, asks = adapter.levels(book, TRUTH_LEVELS)
        got_b, ex_b = _to_ticks(bids, stream)
        got_a, ex_a = _to_ticks(asks, stream)
        _compare(label, "bid", got_b, stream.truth_bids)
        _compare(label, "ask", got_a, stream.truth_asks)
        depth = tuple(adapter.depth(book))
        if depth != stream.truth_depth:
            raise BenchCheckError(
                f"{label}: depth {depth}, the generator says {stream.truth_depth}"
            )
        exact = ex_b and ex_a
    if case == "top10":
        if result is None:
            raise BenchCheckError(f"{label}: top10 read returned None")
        got_b, ex_b = _to_ticks(result[0], stream)
        got_a, ex_a = _to_ticks(result[1], stream)
        _compare(label, "bid", got_b, stream.truth_bids[:10])
        _compare(label, "ask", got_a, stream.truth_asks[:10])
        exact = exact and ex_b and ex_a
    elif case in ("bbo", "message_bbo", "json_bbo"):
        if result is None or result[0] is None or result[1] is None:
            raise BenchCheckError(f"{label}: BBO read returned {result!r}")
        got_b, ex_b = _to_ticks([result[0]], stream)
        got_a, ex_a = _to_ticks([result[1]], stream)
        _compare(label, "best bid", got_b, stream.truth_bids[:1])
        _compare(label, "best ask", got_a, stream.truth_asks[:1])
        exact = exact and ex_b and ex_a
    return exact


# --------------------------------------------------------------------------- timing


def case_input(stream: DepthStream, case: str) -> tuple[Any, int]:
    """The input a case loops over, and the number of units it counts per loop."""
    if case == "update":
        return stream.flat_ops, len(stream.flat_ops)
    if case in ("bbo", "top10"):
        return stream.n_messages, stream.n_messages
    if case in ("message", "message_bbo"):
        return stream.levels, stream.n_messages
    if case == "json_bbo":
        return stream.json_msgs, stream.n_messages
    raise ValueError(f"unknown case {case!r}; known: {', '.join(CASES)}")


def static_book(adapter: BookAdapter, stream: DepthStream) -> Any:
    """The final book (snapshot + every op) that the read cases run on; checked."""
    book = adapter.new_book(stream)
    adapter.update(book, stream.flat_ops)
    check_case(adapter, stream, "update", book, None, f"{adapter.name}/static book")
    return book


def time_case(adapter: BookAdapter, case: str, book: Any, data: Any) -> tuple[int, Any]:
    """Run one case loop with GC disabled; return (elapsed ns, the loop's last read)."""
    fn = getattr(adapter, case)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        result = fn(book, data)
        elapsed = time.perf_counter_ns() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed, result


class Progress:
    """rich progress bar on stderr when available, else plain stderr lines.

    The bar is refreshed by hand between timed loops (no refresh thread competing for the
    GIL while a loop is being timed).
    """

    def __init__(self, total: int, enabled: bool = True) -> None:
        self._total = total
        self._done = 0
        self._enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._last_line = ""
        if not enabled:
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
        except ImportError:
            return
        console = Console(stderr=True)
        if not console.is_terminal:  # logs and CI: plain lines read better than a bar
            return
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
        )
        self._task = self._bar.add_task("bench book", total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def log(self, text: str) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
            self._bar.refresh()
        else:
            print(text, file=sys.stderr, flush=True)

    def step(self, description: str) -> None:
        self._done += 1
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=description)
            self._bar.refresh()
        else:
            line = description.split(":")[0]
            if line != self._last_line or self._done == self._total:
                print(f"[{self._done}/{self._total}] {description}", file=sys.stderr, flush=True)
                self._last_line = line


def _resolve_adapters(impls: Sequence[str] | None) -> tuple[list[BookAdapter], dict[str, str]]:
    """Explicitly named implementations must load; by default missing peers are skipped."""
    skipped: dict[str, str] = {}
    adapters: list[BookAdapter] = []
    for name in impls or IMPLS:
        try:
            adapters.append(make_adapter(name))
        except BenchUnavailableError as exc:
            if impls is not None or name == BASELINE:
                raise
            skipped[name] = str(exc)
    return adapters, skipped


def run_book_bench(
    quick: bool = False,
    reps: int | None = None,
    json_out: bool = False,
    *,
    impls: Sequence[str] | None = None,
    cases: Sequence[str] | None = None,
    n_messages: int | None = None,
    seed: int = DEFAULT_SEED,
    adapters: Sequence[BookAdapter] | None = None,
    show_progress: bool = True,
    raise_errors: bool = False,
) -> dict[str, Any]:
    """Run the benchmark, print the table (or one JSON object) and return the result dict.

    ``quick`` uses 2000 messages and 3 repetitions (defaults: 10000 and 7). ``result["ok"]`` is
    False when an implementation disagrees with the stream's truth (or cannot be loaded): then
    no figure is printed, the failure goes to stderr in red (and, with ``json_out``, a JSON
    object ``{"ok": false, "error": ...}`` to stdout), and the caller must exit non-zero.
    With ``raise_errors`` the BenchCheckError/BenchUnavailableError propagates instead.
    ``adapters`` overrides ``impls`` (for testing the harness with stand-in books).
    """
    try:
        results = _run_book_bench(
            quick, reps, impls, cases, n_messages, seed, adapters, show_progress
        )
    except (BenchCheckError, BenchUnavailableError) as exc:
        if raise_errors:
            raise
        kind = "check" if isinstance(exc, BenchCheckError) else "unavailable"
        report_failure(kind, str(exc), json_out)
        return {"ok": False, "kind": kind, "error": str(exc)}
    if json_out:
        import json

        print(json.dumps(results))
    else:
        _print_table(results)
    return results


def report_failure(kind: str, message: str, json_out: bool) -> None:
    headline = "BENCH CHECK FAILED" if kind == "check" else "BENCH UNAVAILABLE"
    text = f"{headline}: {message}\nNo figures are reported."
    try:
        from rich.console import Console

        Console(stderr=True, highlight=False).print(text, style="bold red", markup=False)
    except ImportError:
        print(text, file=sys.stderr, flush=True)
    if json_out:
        import json

        print(json.dumps({"ok": False, "kind": kind, "error": message}))


def _run_book_bench(
    quick: bool,
    reps: int | None,
    impls: Sequence[str] | None,
    cases: Sequence[str] | None,
    n_messages: int | None,
    seed: int,
    adapters: Sequence[BookAdapter] | None,
    show_progress: bool,
) -> dict[str, Any]:
    n_messages = n_messages or (QUICK_MESSAGES if quick else DEFAULT_MESSAGES)
    reps = reps or (QUICK_REPS if quick else DEFAULT_REPS)
    if reps < 1:
        raise ValueError("reps must be >= 1")
    cases = tuple(cases or CASES)
    for case in cases:
        if case not in CASE_UNIT:
            raise ValueError(f"unknown case {case!r}; known: {', '.join(CASES)}")
    skipped: dict[str, str] = {}
    if adapters is None:
        adapters, skipped = _resolve_adapters(impls)
    adapters = list(adapters)
    if not adapters:
        raise ValueError("no implementation to benchmark")

    total_steps = (reps + 1) * len(adapters) * len(cases)
    with Progress(total_steps, enabled=show_progress) as progress:
        for name, why in skipped.items():
            progress.log(f"skipping {name}: {why}")
        progress.log(f"generating {n_messages} messages (seed {seed}) ...")
        stream = generate(n_messages, seed)
        verify_stream(stream)
        s = stream.stats
        progress.log(
            f"stream ok: {s.n_messages} msgs, {s.n_levels} level updates "
            f"({s.mean_levels_per_msg:.2f}/msg), depth {s.min_depth}-{s.max_depth}, "
            f"spread median {s.spread_median_ticks:g} ticks"
        )
        for adapter in adapters:
            progress.log(f"impl {adapter.describe()}")
        # everything the stream holds lives for the whole run: keep it out of GC passes
        gc.collect()
        gc.freeze()
        try:
            results = _run_reps(stream, adapters, cases, reps, progress)
        finally:
            gc.unfreeze()
    results["skipped"] = skipped
    return results


def _run_reps(
    stream: DepthStream,
    adapters: list[BookAdapter],
    cases: tuple[str, ...],
    reps: int,
    progress: Progress,
) -> dict[str, Any]:
    inputs = {case: case_input(stream, case) for case in cases}
    statics = {a.name: static_book(a, stream) for a in adapters}
    samples: dict[tuple[str, str], list[float]] = {(a.name, c): [] for a in adapters for c in cases}
    passed: dict[str, int] = {}
    exact: dict[str, bool] = {a.name: True for a in adapters}
    # rep 0 is an untimed-for-the-report warm-up: every path runs and is checked first
    for rep in range(reps + 1):
        shift = rep % len(adapters)
        order = adapters[shift:] + adapters[:shift]
        for case in cases:
            data, units = inputs[case]
            for adapter in order:
                label = f"{adapter.name}/{case}" + (f" rep {rep}" if rep else " warm-up")
                progress.step(
                    f"{'warm-up' if rep == 0 else f'rep {rep}/{reps}'}: {case} {adapter.name}"
                )
                book = adapter.new_book(stream) if case in MUTATING_CASES else statics[adapter.name]
                elapsed, result = time_case(adapter, case, book, data)
                exact[adapter.name] &= check_case(adapter, stream, case, book, result, label)
                key = f"{adapter.name}/{case}"
                passed[key] = passed.get(key, 0) + 1
                if rep:
                    samples[(adapter.name, case)].append(elapsed / units)
                del book, result

    names = [a.name for a in adapters]
    rows = []
    for case in cases:
        base = statistics.median(samples[(BASELINE, case)]) if BASELINE in names else None
        for name in names:
            vals = samples[(name, case)]
            med = statistics.median(vals)
            rows.append(
                {
                    "case": case,
                    "impl": name,
                    "median_ns": round(med, 1),
                    "ratio": float(f"{med / base:.4g}") if base else None,
                    "min_ns": round(min(vals), 1),
                    "per": CASE_UNIT[case],
                }
            )
    openclaw = next((a for a in adapters if a.name == BASELINE), None)
    return {
        "ok": True,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": {a.name: a.version for a in adapters},
        "stream": {
            "seed": stream.seed,
            "messages": stream.n_messages,
            "level_updates": len(stream.flat_ops),
            "reps": reps,
        },
        "openclaw_json_path": getattr(openclaw, "json_path", None),
        "cases": rows,
        "checks": {
            "all_passed": True,
            "stream": "ok",
            "passed": sum(passed.values()),
            "by_path": passed,
            "exact_floats": exact,
        },
    }


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    if ratio >= 100:
        return f"{ratio:.0f}x"
    if ratio >= 10:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def _print_table(results: dict[str, Any]) -> None:
    """Human table on stdout: rich when installed, else aligned plain text."""
    st = results["stream"]
    title = (
        f"order-book bench, Python {results['python']}, {st['messages']} msgs / "
        f"{st['level_updates']} level updates, {st['reps']} reps; ns, ratio = median / "
        f"openclaw median"
    )
    notes = [f"{k} {v}" for k, v in results["versions"].items()]
    if results.get("openclaw_json_path"):
        notes.append(f"openclaw json_bbo: {results['openclaw_json_path']}")
    checks = results["checks"]
    notes.append(f"checks: {checks['passed']} passed against the generator's truth")
    inexact = [k for k, v in checks["exact_floats"].items() if not v]
    if inexact:
        notes.append(
            "note: returned floats not bit-equal to the decimal (rounding needed): "
            + ", ".join(inexact)
        )
    for name, why in results.get("skipped", {}).items():
        notes.append(f"skipped {name}: {why}")
    header = ("case", "impl", "per", "median ns", "min ns", "ratio")
    body = [
        (
            r["case"],
            r["impl"],
            r["per"],
            f"{r['median_ns']:,.1f}",
            f"{r['min_ns']:,.1f}",
            fmt_ratio(r["ratio"]),
        )
        for r in results["cases"]
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(x[i])) for x in (header, *body)) for i in range(len(header))]
        print(title)
        for row in (header, *body):
            print(
                "  ".join(
                    str(v).rjust(w) if i >= 3 else str(v).ljust(w)
                    for i, (v, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        for note in notes:
            print(note)
        return
    table = Table(title=title, caption="\n".join(notes), caption_justify="left")
    for i, col in enumerate(header):
        table.add_column(col, justify="right" if i >= 3 else "left", no_wrap=True)
    prev_case = None
    for row in body:
        if prev_case is not None and row[0] != prev_case:
            table.add_section()
        prev_case = row[0]
        table.add_row(*row)
    Console(highlight=False).print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: ``python -m openclaw.bench.book [--quick] [--reps N] [--json] ...``.

    Exit codes: 0 ok, 1 a correctness check failed, 2 an implementation is unavailable.
    """
    parser = argparse.ArgumentParser(
        prog="openclaw-trading bench book",
        description="Time L2 order books on a BTC/USDT-like stream."
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_MESSAGES} messages, {QUICK_REPS} reps"
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        help=f"repetitions (default {DEFAULT_REPS}, quick {QUICK_REPS})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--messages", type=int, default=None, help="stream length")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--impls", default=None, help=f"comma list of {','.join(IMPLS)} (default: all available)"
    )
    parser.add_argument("--cases", default=None, help=f"comma list of {','.join(CASES)}")
    args = parser.parse_args(argv)
    impls = args.impls.split(",") if args.impls else None
    cases = args.cases.split(",") if args.cases else None
    for name in impls or ():
        if name not in ADAPTERS:
            parser.error(f"unknown implementation {name!r}; known: {', '.join(ADAPTERS)}")
    for case in cases or ():
        if case not in CASE_UNIT:
            parser.error(f"unknown case {case!r}; known: {', '.join(CASES)}")
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be >= 1")
    if args.messages is not None and args.messages < 1:
        parser.error("--messages must be >= 1")
    result = run_book_bench(
        args.quick,
        args.reps,
        args.json,
        impls=impls,
        cases=cases,
        n_messages=args.messages,
        seed=args.seed,
    )
    if result["ok"]:
        return 0
    return 1 if result["kind"] == "check" else 2


if __name__ == "__main__":
    sys.exit(main())
