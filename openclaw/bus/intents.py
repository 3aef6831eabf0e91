"""Order intents, strategy -> execution, exactly once by client id (request/reply).

The strategy makes the client ids (``model/client_ids.py``) and sends the whole list on
``<prefix>.intent``; the execution role answers accepted or refused (the risk reason) after the
order manager's pre-trade check and then runs the list on the one order path
(``OrderManager.submit``). A repeated intent (a retry after a timeout, a reply lost) is
answered with the first answer and ``duplicate: true``: the list is never sent twice. The
payload is orjson (off the book path); decimals travel as strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from openclaw.execution.manager import ManagerClosed, OrderManager, OrderRefused
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Order

__all__ = ["IntentClient", "IntentError", "IntentReply", "IntentServer", "decode_intent",
           "encode_intent", "intent_subject"]

log = logging.getLogger("openclaw.bus.intents")


def intent_subject(prefix: str) -> str:
    """Where intents are sent (the execution role listens in queue group ``execution``)."""
    return f"{prefix}.intent"


class IntentError(OpenclawError):
    """An intent got no answer after every retry (the execution role may still have it)."""


@dataclass(frozen=True, slots=True)
class IntentReply:
    """The execution role's answer to one intent."""

    accepted: bool
    reason: str | None
    duplicate: bool
    client_ids: tuple[str, ...]

    def encode(self) -> bytes:
        """The reply's bytes."""
        return orjson.dumps({"accepted": self.accepted, "reason": self.reason,
                             "duplicate": self.duplicate, "client_ids": list(self.client_ids)})

    @classmethod
    def decode(cls, data: bytes) -> IntentReply:
        """The reply in ``data``."""
        d = orjson.loads(data)
        return cls(bool(d["accepted"]), d.get("reason"), bool(d.get("duplicate")),
                   tuple(d.get("client_ids", ())))


def encode_intent(orders: list[Order]) -> bytes:
    """An intent: the legs of one list (client ids made by the strategy)."""
    return orjson.dumps({"sent_ns": time.time_ns(), "orders": [
        {"client_id": o.client_id, "venue": o.venue, "symbol": o.symbol, "side": str(o.side),
         "type": str(o.order_type), "qty": str(o.qty),
         "price": None if o.price is None else str(o.price),
         "opportunity_id": o.opportunity_id, "leg": o.leg} for o in orders]})


def decode_intent(data: bytes) -> list[Order]:
    """The orders of an intent (fresh ``Order`` objects, status NEW)."""
    d = orjson.loads(data)
    return [Order(o["client_id"], o["venue"], o["symbol"], o["side"], o["type"],
                  Decimal(o["qty"]), None if o["price"] is None else Decimal(o["price"]),
                  int(o["opportunity_id"]), int(o["leg"])) for o in d["orders"]]


class IntentClient:
    """The strategy role's side: send a list, retry the same bytes on timeout."""

    def __init__(self, nc: Any, *, prefix: str = "oc", timeout_s: float = 1.0,
                 retries: int = 3) -> None:
        self.nc = nc
        self.subject = intent_subject(prefix)
        self.timeout_s = timeout_s
        self.retries = retries
        self.timeouts = 0

    async def send(self, orders: list[Order]) -> IntentReply:
        """Send ``orders`` until answered (``retries`` more times on a timeout or no
        responder); the same client ids each time, so the list runs at most once."""
        import nats.errors

        payload = encode_intent(orders)
        for attempt in range(self.retries + 1):
            try:
                msg = await self.nc.request(self.subject, payload, timeout=self.timeout_s)
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                self.timeouts += 1
                if attempt < self.retries:
                    await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                continue
            return IntentReply.decode(msg.data)
        raise IntentError(f"no answer to intent {orders[0].client_id} after "
                          f"{self.retries + 1} tries")


@dataclass
class IntentStats:
    """What the execution role's intent server did."""

    intents: int = 0
    accepted: int = 0
    refused: int = 0
    duplicates: int = 0
    malformed: int = 0


class IntentServer:
    """The execution role's side: dedupe by client id, check, answer, submit.

    ``on_answer(reply, orders)``: called once per new intent after its answer (the order
    stream records ``accepted``/``refused``). Answers are kept for the process's life (the
    journal's primary key on the client id is the backstop after a restart).
    """

    def __init__(self, nc: Any, manager: OrderManager, *, prefix: str = "oc",
                 on_answer: Callable[[IntentReply, list[Order]], None] | None = None) -> None:
        self.nc = nc
        self.manager = manager
        self.subject = intent_subject(prefix)
        self.on_answer = on_answer
        self.answers: dict[str, IntentReply] = {}
        self.stats = IntentStats()
        self.tasks: set[asyncio.Task[None]] = set()
        self._sub: Any = None

    async def start(self) -> None:
        """Listen for intents (queue group ``execution``)."""
        self._sub = await self.nc.subscribe(self.subject, queue="execution", cb=self._on_msg)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop listening; wait up to ``timeout`` for the lists in flight."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    def answer(self, orders: list[Order]) -> tuple[IntentReply, str]:
        """The answer to ``orders`` and what it is: ``"new"``, ``"duplicate"`` (the first
        answer again) or ``"invalid"`` (ids reused by another list, or repeated in this one).
        Synchronous: no await between the dedupe and the check, so a list is checked once
        however often it arrives."""
        ids = tuple(o.client_id for o in orders)
        seen = self.answers.get(ids[0]) if ids else None
        if seen is not None and seen.client_ids == ids:
            self.stats.duplicates += 1
            return IntentReply(seen.accepted, seen.reason, True, ids), "duplicate"
        if not ids or len(set(ids)) != len(ids) or any(i in self.answers for i in ids):
            self.stats.refused += 1
            return IntentReply(False, "client_id_reused", False, ids), "invalid"
        self.stats.intents += 1
        m = self.manager
        reason = (m.halted or "draining") if not m.accepting else m.check(orders)
        reply = IntentReply(reason is None, reason, False, ids)
        for i in ids:
            self.answers[i] = reply
        if reason is None:
            self.stats.accepted += 1
        else:
            self.stats.refused += 1
        return reply, "new"

    async def _on_msg(self, msg: Any) -> None:
        try:
            orders = decode_intent(msg.data)
        except (ValueError, KeyError, TypeError, OpenclawError) as e:
            self.stats.malformed += 1
            await msg.respond(IntentReply(False, f"malformed: {e}"[:200], False, ()).encode())
            return
        reply, kind = self.answer(orders)
        await msg.respond(reply.encode())
        if kind != "new":
            return
        if self.on_answer is not None:
            self.on_answer(reply, orders)
        if reply.accepted:
            t = asyncio.get_running_loop().create_task(self._submit(orders),
                                                       name=f"intent:{orders[0].client_id}")
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)

    async def _submit(self, orders: list[Order]) -> None:
        try:
            await self.manager.submit(orders, checked=True)
        except (ManagerClosed, OrderRefused) as e:
            log.warning("accepted intent %s not run: %s", orders[0].client_id, e)
        except Exception:  # noqa: BLE001 - the manager logged and alerted it
            log.debug("intent %s ended with an error", orders[0].client_id, exc_info=True)
