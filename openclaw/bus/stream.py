"""Order events and fills on a JetStream stream (file storage), replayable from the start.

Subjects ``<prefix>.orders.<event>.<venue>``, events ``accepted``/``refused`` (the intent's
answer, one per leg), ``final`` (the order's state when its list ended: FILLED, CANCELED,
REJECTED, ... or UNKNOWN while the resolver follows it) and ``fill`` (one per venue trade id).
Each message carries ``Nats-Msg-Id`` = client id + event (+ trade id for a fill), so the server
drops a repeat within the stream's duplicate window: a fill is in the stream once however often
it is published. Observers read with a durable pull consumer: one that was down resumes where
it stopped, a new one replays from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import orjson

from openclaw.model.orders import Fill, Order

__all__ = ["OrderStream", "StreamReader", "order_event"]

log = logging.getLogger("openclaw.bus.stream")


def order_event(event: str, order: Order, fill: Fill | None = None,
                reason: str | None = None) -> tuple[str, dict[str, Any]]:
    """(message id, payload) of one event of ``order``."""
    body: dict[str, Any] = {
        "event": event, "client_id": order.client_id, "venue": order.venue,
        "symbol": order.symbol, "side": str(order.side), "type": str(order.order_type),
        "qty": str(order.qty), "price": None if order.price is None else str(order.price),
        "opportunity_id": order.opportunity_id, "leg": order.leg,
        "status": str(order.status), "filled_qty": str(order.filled_qty),
        "venue_order_id": order.venue_order_id, "reason": reason or order.reason}
    msg_id = f"{order.client_id}:{event}"
    if fill is not None:
        body["fill"] = {"trade_id": fill.trade_id, "qty": str(fill.qty),
                        "price": str(fill.price), "fee": str(fill.fee),
                        "fee_asset": fill.fee_asset, "ts_ns": fill.ts_ns}
        msg_id = f"{msg_id}:{fill.trade_id}"
    return msg_id, body


class OrderStream:
    """The execution role's writer: events are queued synchronously (``emit``, ``on_list``:
    an ``OrderManager.after_list`` callback) and published in order by one task, each acked by
    JetStream."""

    def __init__(self, nc: Any, *, prefix: str = "oc", name: str = "OC_ORDERS",
                 duplicate_window_s: float = 120.0, max_age_s: float = 0.0) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.prefix = prefix
        self.name = name
        self.duplicate_window_s = duplicate_window_s
        self.max_age_s = max_age_s
        self.published = 0
        self.duplicates = 0          # publishes the server recognised as repeats
        self.errors = 0
        self._out: deque[tuple[str, str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create (or update) the stream and start the publishing task."""
        from nats.js.api import StorageType, StreamConfig

        cfg = StreamConfig(name=self.name, subjects=[f"{self.prefix}.orders.>"],
                           storage=StorageType.FILE,
                           duplicate_window=self.duplicate_window_s, max_age=self.max_age_s)
        try:
            await self.js.add_stream(cfg)
        except Exception:  # noqa: BLE001 - exists with another config: update it
            await self.js.update_stream(cfg)
        self._task = asyncio.create_task(self._run(), name="bus:order-stream")

    async def stop(self, timeout: float = 5.0) -> None:
        """Publish what is queued (up to ``timeout``), then stop."""
        with contextlib.suppress(TimeoutError):
            await self.flush(timeout)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued event is acked by the stream."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    def emit(self, event: str, order: Order, fill: Fill | None = None,
             reason: str | None = None) -> None:
        """Queue one event (synchronous)."""
        msg_id, body = order_event(event, order, fill, reason)
        self._out.append((f"{self.prefix}.orders.{event}.{order.venue}", msg_id,
                          orjson.dumps(body)))
        self._idle.clear()
        self._wake.set()

    def on_answer(self, reply: Any, orders: list[Order]) -> None:
        """An intent was answered (``IntentServer.on_answer``): ``accepted`` or ``refused``
        (with the reason) per leg."""
        event = "accepted" if reply.accepted else "refused"
        for o in orders:
            self.emit(event, o, reason=reply.reason)

    def on_list(self, orders: list[Order]) -> None:
        """An order list ended (``OrderManager.after_list``): each order's fills and state."""
        for o in orders:
            for f in o.fills.values():
                self.emit("fill", o, f)
            self.emit("final", o)

    async def _run(self) -> None:
        out = self._out
        while True:
            await self._wake.wait()
            self._wake.clear()
            while out:
                subject, msg_id, data = out[0]
                try:
                    ack = await self.js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})
                except Exception as e:  # noqa: BLE001 - server restarting: keep it, retry
                    self.errors += 1
                    log.warning("order stream publish failed (will retry): %r", e)
                    await asyncio.sleep(0.2)
                    continue
                out.popleft()
                self.published += 1
                if ack.duplicate:
                    self.duplicates += 1
            self._idle.set()


class StreamReader:
    """An observer of the order stream through a durable pull consumer (``durable``): a
    consumer that was down reads what it missed, a new durable reads from the start."""

    def __init__(self, nc: Any, durable: str, *, prefix: str = "oc",
                 name: str = "OC_ORDERS") -> None:
        self.js = nc.jetstream()
        self.durable = durable
        self.subject = f"{prefix}.orders.>"
        self.name = name
        self._sub: Any = None

    async def read(self, batch: int = 256, idle_s: float = 0.2) -> list[dict[str, Any]]:
        """Every event not read (acked) yet by this durable, oldest first; returns when none
        came for ``idle_s``."""
        import nats.errors

        if self._sub is None:
            self._sub = await self.js.pull_subscribe(self.subject, durable=self.durable,
                                                     stream=self.name)
        out: list[dict[str, Any]] = []
        while True:
            try:
                msgs = await self._sub.fetch(batch, timeout=idle_s)
            except nats.errors.TimeoutError:
                return out
            for m in msgs:
                out.append(orjson.loads(m.data))
                await m.ack()

    async def close(self) -> None:
        """Stop reading (the durable consumer stays on the server)."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
