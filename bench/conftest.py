"""Fixtures for the pytest-benchmark order-book cases (run: ``pytest bench/ --benchmark-only``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_gc_while_benchmarking(request: pytest.FixtureRequest) -> Iterator[None]:
    """Disable the cyclic GC around benchmark tests, as the CLI harness does per loop."""
    if "benchmark" not in request.fixturenames:
        yield
        return
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
