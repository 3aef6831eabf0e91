"""pytest-benchmark: frame -> order list (``openclaw.bench.pipeline``), with and without the
stage recorder, and ``orjson.loads`` of the same frames. ``pytest bench/ --benchmark-only``.

Each round replays ``BLOCKS`` blocks of four Binance frames (one in four ends in a risk-checked
order list) through a rig reset in the untimed setup; ``extra_info`` holds ns per frame. The
rounds run inside a running event loop because the pipeline hands each list to the loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("pytest_benchmark")

from openclaw.bench.pipeline import Rig, _lists_key, _loads, make_frames  # noqa: E402

BLOCKS = 250
ROUNDS = 15


def _in_loop(fn: Any) -> Any:
    async def body() -> Any:
        return fn()

    return asyncio.run(body())


@pytest.mark.parametrize("impl", ["recorder", "no_recorder"])
def test_pipeline(benchmark: Any, impl: str) -> None:
    frames = make_frames(BLOCKS)
    rig = Rig(impl == "recorder")
    made: list[int] = []

    def setup() -> tuple[tuple, dict]:
        made.append(rig.made)
        rig.reset()
        return (frames,), {}

    def run() -> None:
        benchmark.pedantic(rig.run, setup=setup, rounds=ROUNDS, iterations=1, warmup_rounds=1)
        made.append(rig.made)
        rig.reset()

    benchmark.group = "pipeline"
    benchmark.extra_info.update(impl=impl, frames=len(frames), lists_per_round=BLOCKS)
    _in_loop(run)
    # every round (after the first setup) made one order list per block
    assert made[1:] == [BLOCKS] * (len(made) - 1), made
    stats = getattr(benchmark.stats, "stats", None)
    if stats is not None:
        benchmark.extra_info["median_ns_per_frame"] = round(stats.median * 1e9 / len(frames), 1)


def test_pipeline_orjson_loads(benchmark: Any) -> None:
    frames = make_frames(BLOCKS)
    benchmark.group = "pipeline"
    benchmark.extra_info.update(impl="orjson_loads", frames=len(frames))
    last = benchmark.pedantic(_loads, args=(frames,), rounds=ROUNDS, iterations=1)
    assert last["data"]["s"] == "ETHBTC"


def test_variants_make_the_same_lists() -> None:
    """The no-recorder variant is the shipped on_book minus its clock: same order lists."""
    frames = make_frames(40)
    keys = []
    for stamped in (True, False):
        rig = Rig(stamped)

        async def one(rig: Rig = rig) -> list:
            rig.reset()
            rig.run(frames)
            out = _lists_key(await rig.settle())
            rig.reset()
            return out

        keys.append(asyncio.run(one()))
    assert len(keys[0]) == 40 and keys[0] == keys[1]
    assert all(len(lst) == 3 for lst in keys[0])
