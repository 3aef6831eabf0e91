"""Async test bodies under a hard deadline (pytest-asyncio is not used), and polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run(fn: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    """Run one async test body (a no-argument coroutine function) with a hard timeout."""

    async def guarded() -> T:
        return await asyncio.wait_for(fn(), timeout)

    return asyncio.run(guarded())


def deadline(default: float) -> Callable[..., Any]:
    """``run`` with this file's default timeout (``run = deadline(20.0)``)."""

    def run_with(fn: Callable[[], Awaitable[T]], timeout: float = default) -> T:
        return run(fn, timeout)

    return run_with


async def until(pred: Callable[[], bool], timeout: float, what: str = "the condition",
                step: float = 0.02) -> None:
    """Poll ``pred`` until it holds; AssertionError naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(step)


async def read_lines(stream: asyncio.StreamReader, sink: list[str]) -> None:
    """Append each line of a subprocess's stream to ``sink`` until it ends."""
    while line := await stream.readline():
        sink.append(line.decode())
