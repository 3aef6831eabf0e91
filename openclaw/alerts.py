"""Operator alerts (fills, unwinds, halts, resync storms, disconnects) to Telegram and webhooks.

Why the shape: alerting must never slow or stop trading. ``Alerter.notify`` is a plain method
(no await, O(1)): it appends to a bounded per-sink queue and returns. When a queue is full the
oldest LOW-priority alert is dropped and counted (a HIGH one only if nothing LOW is left). One
task per sink drains its queue off the hot path:

* batching: alerts arriving within ``batch_window`` of the oldest queued one go out as one
  message (HIGH-priority alerts first in line, each batch printed in arrival order);
* rate limit: at most one message per ``sink.min_interval`` (Telegram allows about one message
  a second per chat), and a 429's ``retry_after`` is honoured;
* retries: network errors, timeouts and 5xx are retried with exponential backoff (and jitter)
  up to ``max_attempts``; other 4xx are not retried. A batch given up is counted and logged.

Secrets: the bot token comes from ``OPENCLAW_TELEGRAM_TOKEN`` (chat from
``OPENCLAW_TELEGRAM_CHAT``) and a webhook URL may embed a secret too; neither ever appears in a
log line, an exception or a repr (errors from aiohttp are reduced to redacted text and raised
without a cause or context).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from openclaw.model.errors import AlertConfigError, AlertDeliveryError

__all__ = [
    "CHAT_ENV",
    "DEFAULT_PRIORITY",
    "DEFAULT_TELEGRAM_API",
    "TOKEN_ENV",
    "Alert",
    "AlertKind",
    "Alerter",
    "Priority",
    "Sink",
    "SinkStats",
    "TelegramSink",
    "WebhookSink",
]

log = logging.getLogger("openclaw.alerts")

DEFAULT_TELEGRAM_API = "https://api.telegram.org"
TOKEN_ENV = "OPENCLAW_TELEGRAM_TOKEN"
CHAT_ENV = "OPENCLAW_TELEGRAM_CHAT"
TELEGRAM_MAX_CHARS = 4096
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")
_CHAT_RE = re.compile(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,}")


class AlertKind(StrEnum):
    """What an alert is about."""

    FILL = "fill"
    UNWIND = "unwind"
    HALT = "halt"
    RESYNC_STORM = "resync_storm"
    DISCONNECT = "disconnect"
    INFO = "info"


class Priority(IntEnum):
    """LOW alerts are dropped first when a queue is full."""

    LOW = 0
    HIGH = 1


#: Priority of each kind unless ``notify`` is given one.
DEFAULT_PRIORITY: Mapping[AlertKind, Priority] = {
    AlertKind.FILL: Priority.LOW,
    AlertKind.UNWIND: Priority.HIGH,
    AlertKind.HALT: Priority.HIGH,
    AlertKind.RESYNC_STORM: Priority.LOW,
    AlertKind.DISCONNECT: Priority.LOW,
    AlertKind.INFO: Priority.LOW,
}


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as queued."""

    kind: AlertKind
    text: str
    priority: Priority
    ts_ns: int

    def line(self) -> str:
        """One line of a message: UTC time, kind, text."""
        t = time.gmtime(self.ts_ns // 1_000_000_000)
        ms = self.ts_ns // 1_000_000 % 1000
        return f"{time.strftime('%H:%M:%S', t)}.{ms:03d} {self.kind.value.upper()}: {self.text}"


@dataclass
class SinkStats:
    """Counters of one sink (read them with ``Alerter.stats()``)."""

    sink: str
    queued: int = 0
    sent_messages: int = 0
    sent_alerts: int = 0
    dropped_low: int = 0
    dropped_high: int = 0
    dropped_closed: int = 0  # notify() after aclose()
    failed_alerts: int = 0  # in batches given up after retries or a non-retryable error
    retries: int = 0
    rate_limited: int = 0  # 429 answers
    last_error: str | None = None


# ---- sinks --------------------------------------------------------------------------------


class Sink(ABC):
    """Where alerts go. ``send`` delivers one message or raises ``AlertDeliveryError``."""

    name: str = "sink"
    min_interval: float = 0.0  # seconds between two messages (rate limit)
    max_chars: int = TELEGRAM_MAX_CHARS  # longest message text

    @abstractmethod
    async def send(
        self, session: aiohttp.ClientSession, text: str, alerts: Sequence[Alert]
    ) -> None:
        """Deliver ``text`` (the rendered ``alerts``) once, or raise ``AlertDeliveryError``."""

    def redact(self, text: str) -> str:
        """``text`` with every secret of this sink replaced (for logs and errors)."""
        return text


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
) -> tuple[int, bytes, Mapping[str, str]] | str:
    """POST; (status, body, headers), or a description of the failure (to be redacted).

    Returns rather than raises so that no aiohttp exception (whose text may hold the URL)
    becomes the context of the caller's error.
    """
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            return resp.status, await resp.read(), resp.headers
    except TimeoutError:
        return f"timeout after {timeout:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def _check_http_url(url: str, what: str, show: bool) -> URL:
    try:
        u = URL(url)
    except (ValueError, TypeError):
        u = None
    if u is None or u.scheme not in ("http", "https") or not u.host:
        shown = f" {url!r}" if show else ""
        raise AlertConfigError(f"{what}{shown} must be an http(s) URL with a host")
    return u


def _description(body: bytes, data: Any) -> str:
    desc = data.get("description") if isinstance(data, dict) else None
    if isinstance(desc, str):
        return desc
    text = body[:200].decode("utf-8", "replace").strip()
    return f"non-JSON reply: {text!r}" if text else "empty reply"


def _retry_after(data: Any, headers: Mapping[str, str]) -> float | None:
    params = data.get("parameters") if isinstance(data, dict) else None
    ra: Any = params.get("retry_after") if isinstance(params, dict) else None
    if ra is None:
        ra = headers.get("Retry-After")
    try:
        value = float(ra) if ra is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


class TelegramSink(Sink):
    """Telegram Bot API ``sendMessage`` to one chat (plain text, no parse mode)."""

    def __init__(
        self,
        token: str,
        chat_id: str,
        *,
        base_url: str = DEFAULT_TELEGRAM_API,
        min_interval: float = 1.0,
        timeout: float = 10.0,
        name: str = "telegram",
    ) -> None:
        """``token``: the bot token (secret); ``base_url``: the API root (a fake in tests)."""
        if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
            raise AlertConfigError(
                "the Telegram bot token does not look like <bot id>:<secret> (value not shown)"
            )
        chat = str(chat_id)
        if not _CHAT_RE.fullmatch(chat):
            raise AlertConfigError(f"Telegram chat id {chat!r} is not a number or @channelname")
        base = _check_http_url(base_url, "Telegram base_url", show=True)
        if min_interval < 0 or timeout <= 0:
            raise AlertConfigError("min_interval must be >= 0 and timeout > 0")
        self.name = name
        self.min_interval = float(min_interval)
        self.max_chars = TELEGRAM_MAX_CHARS
        self.timeout = float(timeout)
        self.chat_id = chat
        self.base_url = str(base).rstrip("/")
        self._token = token
        self._url = f"{self.base_url}/bot{token}/sendMessage"
        self._secrets = (token, quote(token, safe=""), token.split(":", 1)[1])

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str = DEFAULT_TELEGRAM_API,
        environ: Mapping[str, str] | None = None,
        min_interval: float = 1.0,
        timeout: float = 10.0,
    ) -> TelegramSink:
        """Token from ``OPENCLAW_TELEGRAM_TOKEN``, chat from ``OPENCLAW_TELEGRAM_CHAT``."""
        env = os.environ if environ is None else environ
        missing = [v for v in (TOKEN_ENV, CHAT_ENV) if not env.get(v)]
        if missing:
            raise AlertConfigError(f"environment variable(s) not set: {', '.join(missing)}")
        return cls(
            env[TOKEN_ENV],
            env[CHAT_ENV],
            base_url=base_url,
            min_interval=min_interval,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"TelegramSink(chat_id={self.chat_id!r}, base_url={self.base_url!r})"

    def redact(self, text: str) -> str:
        """``text`` without the token (plain, URL-encoded, or its secret half)."""
        for s in self._secrets:
            text = text.replace(s, "<token>")
        return text

    async def send(
        self, session: aiohttp.ClientSession, text: str, alerts: Sequence[Alert]
    ) -> None:
        """One ``sendMessage``; raises ``AlertDeliveryError`` (retryable? retry_after?)."""
        body = orjson.dumps(
            {"chat_id": self.chat_id, "text": text, "disable_web_page_preview": True}
        )
        res = await _post(
            session, self._url, body, {"Content-Type": "application/json"}, self.timeout
        )
        if isinstance(res, str):
            raise AlertDeliveryError(self.name, None, self.redact(res), retryable=True)
        status, raw, headers = res
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if status == 200 and isinstance(data, dict) and data.get("ok") is True:
            return
        reason = self.redact(_description(raw, data))
        if status == 429:
            raise AlertDeliveryError(
                self.name, 429, reason, retryable=True, retry_after=_retry_after(data, headers)
            )
        raise AlertDeliveryError(self.name, status, reason, retryable=status >= 500)


class WebhookSink(Sink):
    """POST JSON ``{"source", "text", "alerts": [{kind, priority, text, ts_ns}]}`` to a URL.

    The URL (and any header value) is treated as a secret: only its scheme and host are shown.
    Any 2xx is success; 429 honours ``Retry-After`` (seconds); 5xx and network errors retry.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        min_interval: float = 0.0,
        timeout: float = 10.0,
        max_chars: int = 16_000,
        name: str = "webhook",
    ) -> None:
        """``url``: where to POST (secret); ``headers``: e.g. an Authorization (secret)."""
        u = _check_http_url(url, "webhook url", show=False)
        if min_interval < 0 or timeout <= 0 or max_chars < 100:
            raise AlertConfigError("min_interval must be >= 0, timeout > 0, max_chars >= 100")
        self.name = name
        self.min_interval = float(min_interval)
        self.timeout = float(timeout)
        self.max_chars = max_chars
        self._url = url
        self._shown = f"{u.scheme}://{u.host}" + (f":{u.explicit_port}" if u.explicit_port else "")
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        secrets = [url, str(u), u.path_qs] + [v for v in (headers or {}).values() if v]
        self._secrets = tuple(s for s in secrets if s and s != "/")

    def __repr__(self) -> str:
        return f"WebhookSink({self._shown!r}, name={self.name!r})"

    def redact(self, text: str) -> str:
        """``text`` without the URL (beyond its host) or header values."""
        for s in self._secrets:
            text = text.replace(s, "<secret>")
        return text

    async def send(
        self, session: aiohttp.ClientSession, text: str, alerts: Sequence[Alert]
    ) -> None:
        """One POST; raises ``AlertDeliveryError`` on failure."""
        body = orjson.dumps(
            {
                "source": "openclaw",
                "text": text,
                "alerts": [
                    {
                        "kind": a.kind.value,
                        "priority": a.priority.name,
                        "text": a.text,
                        "ts_ns": a.ts_ns,
                    }
                    for a in alerts
                ],
            }
        )
        res = await _post(session, self._url, body, self._headers, self.timeout)
        if isinstance(res, str):
            raise AlertDeliveryError(self.name, None, self.redact(res), retryable=True)
        status, raw, headers = res
        if 200 <= status < 300:
            return
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        reason = self.redact(_description(raw, data))
        if status == 429:
            raise AlertDeliveryError(
                self.name, 429, reason, retryable=True, retry_after=_retry_after(data, headers)
            )
        raise AlertDeliveryError(self.name, status, reason, retryable=status >= 500)


# ---- the queue and its workers --------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    seq: int
    enqueued: float  # loop time
    alert: Alert


@dataclass
class _Channel:
    """The bounded two-priority queue of one sink and the state of its worker."""

    sink: Sink
    maxsize: int
    high: deque[_Item] = field(default_factory=deque)
    low: deque[_Item] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    next_send: float = 0.0  # loop time before which nothing is sent (rate limit, retry_after)
    busy: bool = False
    dropped_unreported: int = 0
    stats: SinkStats = field(init=False)

    def __post_init__(self) -> None:
        self.stats = SinkStats(self.sink.name)

    def __len__(self) -> int:
        return len(self.high) + len(self.low)

    def put(self, item: _Item) -> bool:
        """Queue without blocking; when full drop the oldest LOW (or, failing that, HIGH)."""
        if len(self) >= self.maxsize:
            self.dropped_unreported += 1
            if self.low:
                self.low.popleft()
                self.stats.dropped_low += 1
            elif item.alert.priority is Priority.LOW:
                self.stats.dropped_low += 1
                return False
            else:
                self.high.popleft()
                self.stats.dropped_high += 1
        (self.high if item.alert.priority is Priority.HIGH else self.low).append(item)
        self.wake.set()
        return True


class Alerter:
    """Fans alerts out to sinks through never-blocking queues (see the module docstring).

    ``await start()`` inside the trading loop, ``notify(...)`` (or ``fill``/``unwind``/``halt``/
    ``resync_storm``/``disconnect``) from anywhere on that loop, ``await aclose()`` at the end
    (it tries to deliver what is queued first).
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        maxsize: int = 1000,
        batch_window: float = 0.5,
        max_batch: int = 50,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_rate_limited: int = 10,
        max_retry_after: float = 300.0,
    ) -> None:
        """Queue bound per sink, batching window (s), retries and backoff (s) per batch."""
        if not sinks:
            raise AlertConfigError("an Alerter needs at least one sink")
        if maxsize < 1 or max_batch < 1 or max_attempts < 1 or max_rate_limited < 1:
            raise AlertConfigError(
                "maxsize, max_batch, max_attempts, max_rate_limited must be >= 1"
            )
        if batch_window < 0 or backoff_base < 0 or backoff_max < backoff_base:
            raise AlertConfigError("batch_window, backoff_base >= 0 and backoff_max >= base")
        self._channels = [_Channel(s, maxsize) for s in sinks]
        self.batch_window = batch_window
        self.max_batch = max_batch
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_rate_limited = max_rate_limited
        self.max_retry_after = max_retry_after
        self._seq = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._flushing = False
        self._warned_closed = False
        # called with each accepted alert (e.g. the control API's history); must be O(1)
        self.listeners: list[Callable[[Alert], None]] = []

    def __repr__(self) -> str:
        sinks = ", ".join(repr(c.sink) for c in self._channels)
        return f"Alerter([{sinks}], queued={sum(len(c) for c in self._channels)})"

    async def start(self) -> Alerter:
        """Open the HTTP session and start one worker task per sink."""
        if self._tasks:
            return self
        if self._closed:
            raise AlertConfigError("this Alerter was closed; make a new one")
        self._session = aiohttp.ClientSession()
        for ch in self._channels:
            ch.wake.set()  # the worker re-checks the queue
            self._tasks.append(asyncio.create_task(self._worker(ch), name=f"alerts-{ch.sink.name}"))
        return self

    async def __aenter__(self) -> Alerter:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def flush(self, timeout: float) -> bool:
        """Wait until every queue is empty and no send is in flight; False on timeout."""
        self._flushing = True
        for ch in self._channels:
            ch.wake.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while any(len(c) or c.busy for c in self._channels):
                if loop.time() >= deadline or not self._tasks or all(t.done() for t in self._tasks):
                    return False
                await asyncio.sleep(0.01)
            return True
        finally:
            self._flushing = False

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop accepting alerts, deliver what is queued within ``timeout``, stop the workers."""
        if self._closed:
            return
        self._closed = True
        if not self._tasks or not await self.flush(timeout):
            left = sum(len(c) for c in self._channels)
            if left:
                log.warning("alerts: closing with %d alert(s) undelivered", left)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def sinks(self) -> list[Sink]:
        """The sinks this Alerter delivers to, in order."""
        return [ch.sink for ch in self._channels]

    def stats(self) -> dict[str, SinkStats]:
        """A copy of each sink's counters, by sink name."""
        out = {}
        for ch in self._channels:
            ch.stats.queued = len(ch)
            out[ch.sink.name] = SinkStats(**vars(ch.stats))
        return out

    # ---- producing ------------------------------------------------------------------------

    def notify(self, kind: AlertKind, text: str, *, priority: Priority | None = None) -> bool:
        """Queue an alert for every sink without blocking; False if it was dropped at once."""
        if self._closed:
            for ch in self._channels:
                ch.stats.dropped_closed += 1
            if not self._warned_closed:
                self._warned_closed = True
                log.warning("alerts: notify() after aclose(); alert dropped: %s", text)
            return False
        kind = AlertKind(kind)
        prio = DEFAULT_PRIORITY[kind] if priority is None else Priority(priority)
        alert = Alert(kind, text, prio, time.time_ns())
        self._seq += 1
        now = asyncio.get_running_loop().time()
        accepted = False
        for ch in self._channels:
            accepted |= ch.put(_Item(self._seq, now, alert))
        for listener in self.listeners:
            listener(alert)
        return accepted

    def fill(
        self,
        venue: str,
        symbol: str,
        side: str,
        qty: Decimal | str,
        price: Decimal | str,
        client_id: str,
    ) -> bool:
        """A fill: ``binance BTCUSDT buy 0.5 @ 65000.1 (CXXXX)``."""
        return self.notify(AlertKind.FILL, f"{venue} {symbol} {side} {qty} @ {price} ({client_id})")

    def unwind(self, opportunity_id: int | str, detail: str) -> bool:
        """An opportunity being unwound (a leg failed): HIGH priority."""
        return self.notify(AlertKind.UNWIND, f"opportunity {opportunity_id}: {detail}")

    def halt(self, reason: str) -> bool:
        """Trading halted: HIGH priority."""
        return self.notify(AlertKind.HALT, f"trading halted: {reason}")

    def resync_storm(self, venue: str, symbol: str, count: int, window_s: float) -> bool:
        """Many book resyncs in a short window."""
        return self.notify(
            AlertKind.RESYNC_STORM, f"{venue} {symbol}: {count} resyncs in {window_s:g} s"
        )

    def disconnect(self, venue: str, detail: str) -> bool:
        """A venue connection dropped."""
        return self.notify(AlertKind.DISCONNECT, f"{venue}: {detail}")

    # ---- consuming ------------------------------------------------------------------------

    async def _worker(self, ch: _Channel) -> None:
        loop = asyncio.get_running_loop()
        assert self._session is not None
        session = self._session
        while True:
            if not len(ch):
                ch.wake.clear()
                await ch.wake.wait()
                continue
            now = loop.time()
            oldest = min(q[0].enqueued for q in (ch.high, ch.low) if q)
            ready_at = ch.next_send
            if len(ch) < self.max_batch and not self._flushing:
                ready_at = max(ready_at, oldest + self.batch_window)
            if ready_at > now:
                ch.wake.clear()
                # woken early only to re-check (e.g. flush); then wait again as needed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ch.wake.wait(), ready_at - now)
                if loop.time() < ch.next_send or (
                    not self._flushing
                    and len(ch) < self.max_batch
                    and loop.time() < oldest + self.batch_window
                ):
                    continue
            items = self._take(ch)
            if not items:
                continue
            ch.busy = True
            try:
                await self._deliver(ch, session, items)
            finally:
                ch.busy = False

    def _take(self, ch: _Channel) -> list[_Item]:
        """Up to ``max_batch`` alerts that fit one message: HIGH first, then LOW, by age."""
        budget = ch.sink.max_chars - 64  # room for the header line
        taken: list[_Item] = []
        for q in (ch.high, ch.low):
            while q and len(taken) < self.max_batch:
                size = len(q[0].alert.line()) + 1
                if taken and size > budget:
                    return sorted(taken, key=lambda i: i.seq)
                taken.append(q.popleft())
                budget -= size
        return sorted(taken, key=lambda i: i.seq)

    def _render(self, ch: _Channel, items: list[_Item]) -> str:
        lines = [i.alert.line() for i in items]
        if len(items) > 1:
            lines.insert(0, f"openclaw: {len(items)} alerts")
        if ch.dropped_unreported:
            lines.insert(0, f"({ch.dropped_unreported} alert(s) dropped: queue full)")
            ch.dropped_unreported = 0
        text = "\n".join(lines)
        limit = ch.sink.max_chars
        return text if len(text) <= limit else text[: limit - 1] + "\u2026"

    async def _deliver(
        self, ch: _Channel, session: aiohttp.ClientSession, items: list[_Item]
    ) -> None:
        loop = asyncio.get_running_loop()
        alerts = [i.alert for i in items]
        text = self._render(ch, items)
        sink = ch.sink
        attempts = 0
        limited = 0
        while True:
            try:
                await sink.send(session, text, alerts)
            except AlertDeliveryError as e:
                err = e
            except Exception as e:  # a sink bug: report it without its (possibly secret) text
                err = AlertDeliveryError(
                    sink.name, None, sink.redact(f"{type(e).__name__}: {e}"), retryable=False
                )
            else:
                ch.stats.sent_messages += 1
                ch.stats.sent_alerts += len(alerts)
                ch.next_send = loop.time() + sink.min_interval
                return
            ch.stats.last_error = str(err)
            now = loop.time()
            if err.retry_after is not None or err.status == 429:
                ch.stats.rate_limited += 1
                limited += 1
                if limited > self.max_rate_limited:
                    self._give_up(ch, alerts, err, f"{limited} rate-limit answers")
                    ch.next_send = now + sink.min_interval
                    return
                delay = err.retry_after
                if delay is None:
                    delay = self._backoff(limited - 1)
                delay = min(delay, self.max_retry_after)
            elif err.retryable and attempts + 1 < self.max_attempts:
                attempts += 1
                delay = self._backoff(attempts - 1)
            else:
                why = "not retryable" if not err.retryable else f"{attempts + 1} attempts"
                self._give_up(ch, alerts, err, why)
                ch.next_send = now + sink.min_interval
                return
            ch.stats.retries += 1
            wait = max(delay, sink.min_interval)
            log.warning("alerts: %s; retrying in %.2f s", err, wait)
            ch.next_send = now + wait
            await asyncio.sleep(wait)

    def _backoff(self, n: int) -> float:
        """Exponential backoff with jitter: uniform in [cap/2, cap], cap = base * 2**n (capped)."""
        cap = min(self.backoff_max, self.backoff_base * 2**n)
        return random.uniform(cap / 2, cap)

    def _give_up(
        self, ch: _Channel, alerts: list[Alert], err: AlertDeliveryError, why: str
    ) -> None:
        ch.stats.failed_alerts += len(alerts)
        log.error("alerts: gave up on %d alert(s) (%s): %s", len(alerts), why, err)
