"""Per-venue request buckets shared by trading and background queries.

A token bucket on the event loop's clock: ``try_acquire`` for the trading path (never waits:
an order that would wait is a risk decision, not a sleep), ``acquire`` for background queries
(waits for a token without blocking the loop).
"""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; starts full."""

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"bad bucket rate={rate} burst={burst}")
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()
        self.waited = 0

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def try_acquire(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens now if there are enough."""
        self._refill()
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False

    async def acquire(self, n: float = 1.0) -> None:
        """Take ``n`` tokens, sleeping (on the loop) until they are there."""
        if n > self.burst:
            raise ValueError(f"cannot take {n} tokens from a bucket of {self.burst}")
        while not self.try_acquire(n):
            self.waited += 1
            await asyncio.sleep((n - self.tokens) / self.rate)
