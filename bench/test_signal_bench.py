"""pytest-benchmark: arbitrage detection per book update, openclaw vs plain Python."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_benchmark")

from openclaw.bench.signal import build, check  # noqa: E402

SETUPS = {
    "detect_seed": lambda: build(0, 0),
    "detect_100": lambda: build(28, 3),
    "detect_seed_quiet": lambda: build(0, 0, dislocate=False),
}


@pytest.mark.parametrize("case", list(SETUPS))
@pytest.mark.parametrize("impl", ["openclaw", "python"])
def test_detect(benchmark, case: str, impl: str) -> None:  # noqa: ANN001
    arb, py, ids = SETUPS[case]()
    check(arb, py, ids, expect_results=not case.endswith("quiet"))
    if impl == "openclaw":
        def one_round() -> None:
            for m in ids:
                arb.on_update(m, 1, False)
    else:
        def one_round() -> None:
            for m in ids:
                py.on_update(m)
    benchmark(one_round)
    benchmark.extra_info["updates_per_round"] = len(ids)
