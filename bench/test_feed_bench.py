"""pytest-benchmark cases of the feed benchmark: raw venue frame text -> applied book.

Same frames, implementations and truth checks as ``openclaw-trading bench feed``
(openclaw/bench/feed.py), on 1000 frames per venue so the file stays quick: ``pytest bench/
--benchmark-only``. Each round times one loop over all frames on a fresh LIVE book; the last
round's book is then checked against the market truth. ``extra_info["median_ns_per_msg"]`` is the
per-message figure.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("pytest_benchmark")

from openclaw.bench.feed import (  # noqa: E402
    CASES,
    IMPLS,
    FeedBenchError,
    FeedCase,
    PythonBook,
    check_loads,
    check_openclaw,
    check_python,
    generate_cases,
    new_sync,
    run_loads,
    run_openclaw,
    run_python,
)

BENCH_MESSAGES = 1000
ROUNDS = 10


@pytest.fixture(scope="session")
def feed_cases() -> dict[str, FeedCase]:
    """Deterministic frames for every case (generated once per session)."""
    return generate_cases(BENCH_MESSAGES)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES)
def test_feed(benchmark: Any, feed_cases: dict[str, FeedCase], case: str, impl: str) -> None:
    """Time one loop over the case's frames per round, then check the last round's result."""
    fc = feed_cases[case]
    state: dict[str, Any] = {}

    if impl == "openclaw":
        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            state["sync"], state["book_id"] = new_sync(fc)
            return (state["sync"], fc.frames, time.monotonic_ns()), {}
        fn: Any = run_openclaw
    elif impl == "python":
        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            state["book"] = PythonBook(fc)
            return (state["book"], fc.frames), {}
        fn = run_python
    else:
        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            return (fc.frames,), {}
        fn = run_loads

    benchmark.group = f"feed {case}"
    benchmark.extra_info.update(case=case, impl=impl, messages=fc.n,
                                levels_per_msg=round(fc.levels_per_msg, 2))
    result = benchmark.pedantic(fn, setup=setup, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    if impl == "openclaw":
        check_openclaw(fc, state["sync"], state["book_id"], result)
    elif impl == "python":
        check_python(fc, state["book"])
    else:
        check_loads(fc, result)
    stats = getattr(benchmark.stats, "stats", None)
    if stats is not None:
        benchmark.extra_info["median_ns_per_msg"] = round(stats.median * 1e9 / fc.n, 1)


def test_frames_are_deterministic(feed_cases: dict[str, FeedCase]) -> None:
    """Same seed and length give the same frames and truth; another seed does not."""
    again = generate_cases(BENCH_MESSAGES, cases=("bybit",))["bybit"]
    assert again.frames == feed_cases["bybit"].frames
    assert again.truth_bids == feed_cases["bybit"].truth_bids
    other = generate_cases(BENCH_MESSAGES, seed=1, cases=("bybit",))["bybit"]
    assert other.frames != feed_cases["bybit"].frames


def test_checks_catch_a_wrong_book(feed_cases: dict[str, FeedCase]) -> None:
    """The last frame with one non-zero size changed: both books end off the truth."""
    import orjson

    fc = feed_cases["bybit"]
    msg = orjson.loads(fc.frames[-1])
    level = next(lv for lv in msg["data"]["b"] + msg["data"]["a"] if float(lv[1]) != 0)
    level[1] = "7.5" if level[1] != "7.5" else "2.5"
    frames = fc.frames[:-1] + (orjson.dumps(msg).decode(),)
    sync, book_id = new_sync(fc)
    last = run_openclaw(sync, frames, time.monotonic_ns())
    with pytest.raises(FeedBenchError, match="level"):
        check_openclaw(fc, sync, book_id, last)
    book = PythonBook(fc)
    run_python(book, frames)
    with pytest.raises(FeedBenchError, match="level"):
        check_python(fc, book)


def test_checks_catch_a_lost_frame(feed_cases: dict[str, FeedCase]) -> None:
    """One frame missing from the middle: openclaw resyncs (gap), the python handler raises."""
    fc = feed_cases["okx"]
    frames = fc.frames[:10] + fc.frames[11:]
    sync, book_id = new_sync(fc)
    last = run_openclaw(sync, frames, time.monotonic_ns())
    with pytest.raises(FeedBenchError, match="resyncs"):
        check_openclaw(fc, sync, book_id, last)
    with pytest.raises(FeedBenchError, match="prevSeqId"):
        run_python(PythonBook(fc), frames)
