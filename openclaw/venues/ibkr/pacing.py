"""Pacing for the TWS API: requests wait for their turn instead of failing.

IB enforces two kinds of limits, and this module knows both:

* **Messages**: about 50 client messages per second per connection. ib_async already queues
  messages beyond ``Client.MaxRequests`` (45) per ``Client.RequestsInterval`` (1 s) and sends
  them when the window allows, so a large rebalance is paced by the client, never rejected.
  ``message_limit`` below is the value the session sets; raise it (or 0 = off) only against
  the local simulator.
* **Historical data** ("pacing violations", error 162 / 366, and error 100 for the message
  rate): at most 60 requests in any 10 minutes, no identical request within 15 s, at most 6
  requests for the same contract (exchange, tick type) within 2 s. ``HistoricalPacer`` admits
  requests under all three rules, waits (on the loop) when one would break, and after a
  violation reported by the gateway backs off with a capped exponential delay plus jitter.

Everything runs on the event loop's clock (``loop.time()``) and never blocks the loop.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

__all__ = [
    "Backoff",
    "HistoricalLimits",
    "HistoricalPacer",
    "OrderPacer",
    "PACING_CODES",
    "message_limit",
]

#: Error codes of the gateway that mean "too fast, try again later".
#: 162: historical data pacing violation (the text says so); 366: no historical data query
#: found (sent after a cancelled/violating request); 100: max rate of messages exceeded;
#: 420: invalid real-time query (pacing of market data lines).
PACING_CODES = frozenset({100, 162, 366, 420})

#: ib_async's own default: 45 messages per second (IB's documented cap is ~50/s).
IB_MESSAGES_PER_S = 45


def message_limit(simulator: bool, requested: int | None = None) -> int:
    """The ``Client.MaxRequests`` to use: IB's safe 45/s against a real gateway, whatever is
    requested (0 = unthrottled) against the local simulator.

    A real TWS/IB Gateway disconnects clients that exceed ~50 messages/s, so a request above
    45 for a real gateway is refused with ``ValueError`` rather than silently used.
    """
    if requested is None:
        return IB_MESSAGES_PER_S
    if requested < 0:
        raise ValueError(f"max messages per second must be >= 0, not {requested}")
    if not simulator and (requested == 0 or requested > IB_MESSAGES_PER_S):
        raise ValueError(
            f"{requested} messages/s is above IB's limit (~50/s; use <= {IB_MESSAGES_PER_S})"
            " against a real gateway"
        )
    return requested


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter: attempt n waits ``min(cap, base * 2**n)``
    scaled by a random factor in [1 - jitter, 1]."""

    base_s: float = 0.1
    cap_s: float = 10.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s or not 0 <= self.jitter <= 1:
            raise ValueError(f"bad backoff {self}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt`` (0-based)."""
        raw = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        r = (rng or random).random()
        return raw * (1.0 - self.jitter * r)


@dataclass(frozen=True, slots=True)
class HistoricalLimits:
    """IB's historical-data pacing rules (defaults: the documented ones)."""

    max_requests: int = 60
    window_s: float = 600.0
    identical_s: float = 15.0
    per_contract: int = 6
    contract_window_s: float = 2.0

    def __post_init__(self) -> None:
        if self.max_requests < 1 or self.per_contract < 1:
            raise ValueError(f"bad historical limits {self}")
        if self.window_s <= 0 or self.contract_window_s <= 0 or self.identical_s < 0:
            raise ValueError(f"bad historical limits {self}")


@dataclass(slots=True)
class PacerStats:
    """What the pacer did: requests admitted, how many had to wait, violations reported."""

    admitted: int = 0
    waited: int = 0
    waited_s: float = 0.0
    violations: int = 0
    retries: int = 0


@dataclass
class HistoricalPacer:
    """Admits historical-data requests under ``HistoricalLimits``; waits instead of failing.

    ``await pacer.acquire(request_key, contract_key)`` waits until the request may go out
    and records it as sent. The rules are checked and the request recorded under a lock (no two
    requests take the same slot); the waiting itself happens outside the lock, so a request
    held back by a rule of its own (an identical request within 15 s, its contract's 6 per 2 s)
    never delays another symbol's request. A waiter re-checks the rules when it wakes up (a
    request admitted meanwhile may push it back). ``violation()`` is called when the gateway
    nevertheless answers with a pacing error: every request then waits for a backoff delay
    (capped exponential, jitter) before the next admission.
    """

    limits: HistoricalLimits = field(default_factory=HistoricalLimits)
    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=1.0, cap_s=60.0))
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._all: deque[float] = deque()
        self._by_contract: dict[Hashable, deque[float]] = {}
        self._identical: dict[Hashable, float] = {}
        self._not_before = 0.0
        self._strikes = 0
        self._lock = asyncio.Lock()
        self.stats = PacerStats()

    def wait_needed(self, key: Hashable, contract: Hashable, now: float) -> float:
        """Seconds until a request (``key``, ``contract``) may be sent at time ``now``."""
        lim = self.limits
        wait = max(0.0, self._not_before - now)
        all_q = self._all
        while all_q and now - all_q[0] >= lim.window_s:
            all_q.popleft()
        if len(all_q) >= lim.max_requests:
            wait = max(wait, all_q[0] + lim.window_s - now)
        cq = self._by_contract.get(contract)
        if cq is not None:
            while cq and now - cq[0] >= lim.contract_window_s:
                cq.popleft()
            if len(cq) >= lim.per_contract:
                wait = max(wait, cq[0] + lim.contract_window_s - now)
        last = self._identical.get(key)
        if last is not None and now - last < lim.identical_s:
            wait = max(wait, last + lim.identical_s - now)
        return wait

    def _record(self, key: Hashable, contract: Hashable, now: float) -> None:
        self._all.append(now)
        self._by_contract.setdefault(contract, deque()).append(now)
        self._identical[key] = now
        if len(self._identical) > 4 * self.limits.max_requests:  # forget the old ones
            horizon = now - self.limits.identical_s
            self._identical = {k: t for k, t in self._identical.items() if t > horizon}
        self.stats.admitted += 1

    async def acquire(self, key: Hashable, contract: Hashable) -> None:
        """Wait (on the loop) until the request may be sent, then count it as sent.

        The wait is computed and the request recorded under the lock; the sleep is outside it,
        so other keys and contracts are admitted while this one waits."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        waited = False
        while True:
            async with self._lock:
                now = loop.time()
                wait = self.wait_needed(key, contract, now)
                if wait <= 0:
                    if waited:
                        self.stats.waited += 1
                        self.stats.waited_s += now - t0
                    self._record(key, contract, now)
                    return
            waited = True
            await asyncio.sleep(wait)

    def violation(self) -> float:
        """The gateway reported a pacing violation: back off; returns the delay applied."""
        loop = asyncio.get_running_loop()
        delay = self.backoff.delay(self._strikes, self.rng)
        self._strikes += 1
        self.stats.violations += 1
        self._not_before = max(self._not_before, loop.time() + delay)
        return delay

    def success(self) -> None:
        """A request went through: the backoff starts from the base again."""
        self._strikes = 0


class OrderPacer:
    """Orders wait for their turn at ``rate`` per second instead of being refused.

    A token bucket with the same arithmetic as the pre-trade risk engine's venue throttle
    (``max_orders`` per 1 s, integer nanoseconds, full after a quiet second): an order admitted
    here at time t finds at least one token in an engine bucket of the same rate at any time
    >= t, so a paced sender never meets ``RATE_LIMITED`` (that check stays as the backstop).
    Admission is FIFO (one lock); waiting is ``asyncio.sleep`` on the loop, never blocking.
    Clock: ``time.monotonic_ns`` (the risk engine's).
    """

    _NS = 1_000_000_000
    _SLACK_NS = 2_000_000  # admit with 2 ms of refill to spare (clock reads, rounding)

    def __init__(self, rate: int) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise ValueError(f"rate must be an int >= 1 orders/s, not {rate!r}")
        self.rate = rate
        self._cap = rate * self._NS
        self._tokens = self._cap
        self._last = 0
        self._lock = asyncio.Lock()
        self.admitted = 0
        self.waited = 0  # orders that had to wait for a token
        self.waited_s = 0.0

    def _level(self, now: int) -> int:
        dt = now - self._last
        if dt <= 0:
            return self._tokens
        if dt >= self._NS:
            return self._cap
        return min(self._cap, self._tokens + dt * self.rate)

    async def acquire(self) -> int:
        """Wait until a token is available, take it; returns the admission time
        (``time.monotonic_ns``), to be given to the risk check (``now_ns``) so that both
        buckets see the same instants."""
        import time

        need = self._NS + self.rate * self._SLACK_NS  # one token and a little
        async with self._lock:
            t0 = time.monotonic_ns()
            now = t0
            lvl = self._level(now)
            while lvl < need and lvl < self._cap:
                await asyncio.sleep(((need - lvl) // self.rate + 1) / 1e9)
                now = time.monotonic_ns()
                lvl = self._level(now)
            if now != t0:
                self.waited += 1
                self.waited_s += (now - t0) / 1e9
            self._tokens = lvl - self._NS
            self._last = now
            self.admitted += 1
            return now
