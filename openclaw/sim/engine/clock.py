"""The market clock: steps a ``SyntheticMarket`` at a fixed rate and fans each step out.

One clock is shared by all venue servers of a simulator cluster, so pausing it freezes every
venue at the same instant (a quiet moment at which tests compare books), and ``step(n)`` advances
all of them deterministically while paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from openclaw.sim.engine.market import MarketStep, SyntheticMarket

__all__ = ["MarketClock", "StepListener"]

log = logging.getLogger("openclaw.sim")

StepListener = Callable[[MarketStep], None]

#: Longest stretch of back-to-back steps before the clock yields to the socket writers.
BATCH_BUDGET_S = 0.02
#: When behind, the clock rests this fraction of the time it just spent stepping, so an
#: overloaded simulator slows its market down instead of starving its own (and, in tests, its
#: in-process clients') I/O: the clock takes at most 1 / (1 + rest_ratio) of the event loop.
REST_RATIO = 0.25


class MarketClock:
    """Runs ``market.step()`` ``rate`` times per second and calls every listener per step."""

    def __init__(
        self,
        market: SyntheticMarket,
        rate: float = 10.0,
        *,
        paused: bool = False,
        rest_ratio: float = REST_RATIO,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 steps per second")
        self.market = market
        self.rate = float(rate)
        self.rest_ratio = rest_ratio
        self._listeners: list[StepListener] = []
        self._paused = paused
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self.behind_resets = 0  # times the clock gave up catching up (overload indicator)

    # ---- listeners ---------------------------------------------------------------------

    def add_listener(self, listener: StepListener) -> None:
        """Call ``listener(step)`` after every step (synchronously, in step order)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: StepListener) -> None:
        """Stop calling a listener."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    # ---- control -----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True while the free-running clock is stopped."""
        return self._paused

    @property
    def running(self) -> bool:
        """True when the background task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def step_index(self) -> int:
        """Number of steps taken so far."""
        return self.market.step_index

    def pause(self) -> int:
        """Stop stepping after the current step; returns the step index frozen at."""
        self._paused = True
        return self.market.step_index

    def resume(self) -> None:
        """Start stepping again at the configured rate (no catch-up for the paused time)."""
        self._paused = False
        if self._wake is not None:
            self._wake.set()

    def set_rate(self, rate: float) -> None:
        """Change the step rate (steps per second)."""
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = float(rate)
        if self._wake is not None:
            self._wake.set()

    def step(self, n: int = 1) -> int:
        """Run ``n`` steps now (works while paused); returns the new step index."""
        for _ in range(max(0, n)):
            self._one()
        return self.market.step_index

    def _one(self) -> None:
        step = self.market.step()
        for listener in tuple(self._listeners):
            try:
                listener(step)
            except Exception:  # a broken listener must not stop the market
                log.exception("step listener %r failed", listener)

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background stepping task (idempotent)."""
        if self.running:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="openclaw-sim-clock")

    async def stop(self) -> None:
        """Stop the background task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake
        assert wake is not None
        next_t = loop.time()
        rate = self.rate
        while True:
            if self._paused:
                wake.clear()
                await wake.wait()
                next_t = loop.time()
                continue
            if rate != self.rate:
                rate = self.rate
                next_t = loop.time()
            now = loop.time()
            if now < next_t:
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), next_t - now)
                continue
            interval = 1.0 / rate
            due = 1 + int((now - next_t) * rate)
            budget_end = now + BATCH_BUDGET_S
            done = 0
            while done < due and not self._paused:
                self._one()
                done += 1
                if loop.time() > budget_end:
                    break
            next_t += done * interval
            end = loop.time()
            if end - next_t > 1.0:  # overloaded: do not try to catch up forever
                next_t = end
                self.behind_resets += 1
            await asyncio.sleep(max(0.0, (end - now) * self.rest_ratio if end > next_t else 0.0))
