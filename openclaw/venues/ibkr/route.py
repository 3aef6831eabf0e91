"""IBKR as an order route of the ``OrderManager`` (execution/manager.py): the same path as the
crypto venues' ``Router``.

``send_list`` hands every order to the persistent ``IbkrSession`` (which journals it before
``placeOrder``, with our client id as ``orderRef``) and waits until each is final; an order not
final after ``order_timeout`` seconds is cancelled (the cancel and any late fill are journaled
by the session). ``reconcile_unknown`` leaves an order that is still not final UNKNOWN: the
session's next resync (reconnect or start-up) settles it from the gateway's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from openclaw.model.orders import Order
from openclaw.venues.ibkr.session import IbkrError, IbkrSession

log = logging.getLogger("openclaw.venues.ibkr.route")


class IbkrRoute:
    """Orders of one IBKR session, sent in parallel and followed to a final state."""

    def __init__(self, session: IbkrSession, order_timeout: float = 60.0) -> None:
        self.session = session
        self.order_timeout = order_timeout
        self.sent: list[str] = []          # client ids handed to the session, in order

    async def send_list(self, orders: list[Order], *,
                        on_first_send: Callable[[], None] | None = None,
                        wait_tokens: bool = False) -> None:
        """Journal and send every order (the session), then wait for each to be final."""
        dones = []
        for o in orders:
            dones.append(await self.session.submit(o, connect_timeout=self.order_timeout))
            self.sent.append(o.client_id)
        if on_first_send is not None and orders:
            on_first_send()
        await asyncio.gather(*(self._final(o, d) for o, d in zip(orders, dones, strict=True)))

    async def _final(self, order: Order, done: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(done), self.order_timeout)
        except TimeoutError:
            log.warning("%s %s %s not final after %.0f s: cancelling the rest",
                        order.client_id, order.symbol, order.side.value, self.order_timeout)
            with contextlib.suppress(IbkrError):
                self.session.cancel(order)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), 10.0)

    def send_now(self, orders: list[Order], *,
                 on_sent: Callable[[int], None] | None = None) -> asyncio.Future[Any]:
        """Journal and write every order from this call (``IbkrSession.submit_nowait``: the
        journal commit, then ``placeOrder`` on the session's socket); the future completes
        when all are final (a failed journal write fails it). ``on_sent(ns)``: each order's
        socket write."""
        futs = [self.session.submit_nowait(o, on_sent=on_sent) for o in orders]
        self.sent.extend(o.client_id for o in orders)
        if len(futs) == 1:
            return futs[0]
        return asyncio.gather(*futs)

    async def reconcile_unknown(self, orders: list[Order]) -> None:
        """Nothing to query here: the session follows its orders itself (resync by execId)."""
        return None
