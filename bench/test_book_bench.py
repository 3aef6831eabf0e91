"""pytest-benchmark cases: the six order-book cases for openclaw and the two peers.

Same adapters, inputs and truth checks as ``openclaw-trading bench book`` (openclaw/bench/book.py),
on a short stream so the whole file stays quick: ``pytest bench/ --benchmark-only``. Each benchmark
checks the book (and the value read) against the stream generator's truth after timing.
pytest-benchmark reports time per loop over the stream; ``extra_info`` holds ns per op/read/msg.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("order_book")
pytest.importorskip("sortedcontainers")
pytest.importorskip("orjson")
pytest.importorskip("pytest_benchmark")

from openclaw.bench.book import (  # noqa: E402
    CASE_UNIT,
    CASES,
    IMPLS,
    MUTATING_CASES,
    BenchCheckError,
    BenchUnavailableError,
    BookAdapter,
    case_input,
    check_case,
    make_adapter,
    static_book,
)
from openclaw.bench.stream import DepthStream, generate, verify_stream  # noqa: E402

BENCH_MESSAGES = 1000
ROUNDS = 10


@pytest.fixture(scope="session")
def stream() -> DepthStream:
    """A short deterministic stream, verified before anything is timed on it."""
    s = generate(BENCH_MESSAGES)
    verify_stream(s)
    return s


@pytest.fixture(scope="module", params=IMPLS)
def adapter(request: pytest.FixtureRequest) -> BookAdapter:
    """Each implementation; skipped (not failed) if it cannot be imported."""
    try:
        return make_adapter(request.param)
    except BenchUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def final_book(adapter: BookAdapter, stream: DepthStream) -> Any:
    """The checked final book the read cases (bbo, top10) run on."""
    return static_book(adapter, stream)


@pytest.mark.parametrize("case", CASES)
def test_book(
    benchmark: Any, adapter: BookAdapter, stream: DepthStream, final_book: Any, case: str
) -> None:
    """Time one loop over the stream per round, then check the last round's book and read."""
    data, units = case_input(stream, case)
    last: list[Any] = [None]

    def setup() -> tuple[tuple[Any, Any], dict[str, Any]]:
        last[0] = adapter.new_book(stream) if case in MUTATING_CASES else final_book
        return (last[0], data), {}

    benchmark.group = case
    benchmark.extra_info.update(
        impl=adapter.name, version=adapter.version, case=case, per=CASE_UNIT[case], units=units
    )
    result = benchmark.pedantic(
        getattr(adapter, case), setup=setup, rounds=ROUNDS, iterations=1, warmup_rounds=1
    )
    check_case(adapter, stream, case, last[0], result, f"{adapter.name}/{case}")
    stats = getattr(benchmark.stats, "stats", None)
    if stats is not None:
        benchmark.extra_info["median_ns_per_unit"] = round(stats.median * 1e9 / units, 1)


def test_stream_is_deterministic(stream: DepthStream) -> None:
    """Same seed and length give the same bytes and truth; another seed does not."""
    again = generate(BENCH_MESSAGES)
    assert again.json_msgs == stream.json_msgs
    assert again.snapshot_bids == stream.snapshot_bids
    assert (again.truth_bids, again.truth_asks) == (stream.truth_bids, stream.truth_asks)
    assert generate(BENCH_MESSAGES, seed=1).json_msgs != stream.json_msgs


def test_stream_shape(stream: DepthStream) -> None:
    """The stream keeps the shape docs/benchmarks.md section 2 describes."""
    s = stream.stats
    assert 14.5 <= s.mean_levels_per_msg <= 15.5
    assert 900 <= s.min_depth and s.max_depth <= 1100
    assert s.spread_median_ticks <= 3
    assert 0.5 <= s.n_change / s.n_levels <= 0.65  # ~58 % size changes
    assert 0.17 <= s.n_delete / s.n_levels <= 0.23  # ~20 % deletes (plus "taken" ones)


@pytest.mark.parametrize("impl", ["order_book", "sortedcontainers"])
def test_checks_catch_a_wrong_book(stream: DepthStream, impl: str) -> None:
    """The truth checks fail loudly on a book one level away from the truth."""
    adapter = make_adapter(impl)
    book = adapter.new_book(stream)
    adapter.update(book, stream.flat_ops)
    check_case(adapter, stream, "update", book, None, "clean")
    deep_bid = (stream.truth_bids[-1][0] - 10_000) / stream.price_scale  # below every level
    adapter.update(book, [(0, deep_bid, 0.5)])  # one extra level, far from the top 10
    with pytest.raises(BenchCheckError, match="depth"):
        check_case(adapter, stream, "update", book, None, "tampered")
    best = stream.truth_asks[0][0] / stream.price_scale
    adapter.update(book, [(0, deep_bid, 0.0), (1, best, 1.0)])  # size change at the touch
    with pytest.raises(BenchCheckError, match="ask level 0"):
        check_case(adapter, stream, "message", book, None, "tampered")
    with pytest.raises(BenchCheckError, match="best bid"):
        check_case(adapter, stream, "bbo", book, ((1.0, 1.0), (best, 1.0)), "tampered")
