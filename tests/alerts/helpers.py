"""Helpers of the alert tests: a runner (pytest-asyncio is not installed) and a fake token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from support.aio import deadline, until

T = TypeVar("T")

#: Shaped like a real bot token; only the fake server ever sees it.
TOKEN = "987654321:AAHsimSECRETsimSECRETsimSECRET_x-y"
CHAT = "424242"


run = deadline(15.0)


async def wait_for(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``pred`` every 10 ms until it holds."""
    await until(pred, timeout, step=0.01)
