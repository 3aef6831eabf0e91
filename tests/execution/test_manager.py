"""The order manager's own rules, on a scripted route (the real routes run end to end in the
demo, runner and fault tests): risk told once per list, an incomplete list unwound through the
same check or held, a refused unwind held and alerted, halt and drain close the door, the
hot path's hand-over reuses the task made ahead."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from support.aio import deadline

from openclaw.execution.manager import (
    ManagerClosed,
    OrderManager,
    OrderRefused,
)
from openclaw.model.orders import Order, OrderStatus, OrderType, Side

run = deadline(10.0)


class ScriptedRoute:
    """Fills each limit order by the fraction the script gives its symbol (1: filled, 0:
    canceled, between: a partial fill then canceled), as an IOC leg ends at a venue; market
    orders fill by ``market`` (default: completely)."""

    def __init__(self, fill: dict[str, Decimal], market: Decimal = Decimal(1)) -> None:
        self.fill = fill
        self.market = market
        self.lists: list[list[Order]] = []
        self.first_sends = 0

    async def send_list(self, orders: list[Order], *, on_first_send: Any = None,
                        wait_tokens: bool = False) -> None:
        self.lists.append(list(orders))
        if on_first_send is not None:
            on_first_send()
            self.first_sends += 1
        await asyncio.sleep(0)
        for k, o in enumerate(orders):
            o.mark_sent()
            o.ack(f"v-{o.client_id}")
            frac = self.market if o.order_type is OrderType.MARKET else self.fill.get(
                o.symbol, Decimal(1))
            q = (o.qty * frac).quantize(Decimal("0.0001"))
            if q > 0:
                o.fill(f"t-{o.client_id}-{k}", q, o.price or Decimal(100))
            if not o.is_final:
                o.cancel(reason="IOC remainder")

    async def reconcile_unknown(self, orders: list[Order]) -> None:
        return None


class CountingRisk:
    """Records every check and every outcome; refuses what ``refuse`` says."""

    def __init__(self) -> None:
        self.checked: list[list[str]] = []
        self.results: list[list[str]] = []
        self.refuse: Any = None

    def check(self, orders: list[Order]) -> str | None:
        self.checked.append([o.client_id for o in orders])
        return self.refuse(orders) if self.refuse is not None else None

    def on_result(self, orders: list[Order]) -> None:
        self.results.append([o.client_id for o in orders])


class Alerts:
    def __init__(self) -> None:
        self.fills: list[str] = []
        self.unwinds: list[str] = []

    def fill(self, venue: str, symbol: str, side: str, qty: str, price: str, cid: str) -> None:
        self.fills.append(cid)

    def unwind(self, opportunity_id: int, text: str) -> None:
        self.unwinds.append(text)


def _list(m: OrderManager) -> list[Order]:
    opp = m.ids.next_opportunity()
    return [Order(m.ids.make(opp, k), "binance", sym, Side.BUY, OrderType.LIMIT,
                  Decimal("1"), Decimal("100"), opp, k)
            for k, sym in enumerate(("BTC/USDT", "ETH/USDT", "ETH/BTC"))]


def test_submit_checks_sends_and_tells_risk_once() -> None:
    async def body() -> None:
        route, risk, alerts = ScriptedRoute({}), CountingRisk(), Alerts()
        m = OrderManager(route, risk=risk, alerter=alerts)  # type: ignore[arg-type]
        orders = await m.submit(_list(m))
        assert all(o.status is OrderStatus.FILLED for o in orders)
        assert risk.checked == [[o.client_id for o in orders]]
        assert risk.results == [[o.client_id for o in orders]]       # once, after the answers
        assert alerts.fills == [o.client_id for o in orders] and not alerts.unwinds
        assert m.stats.lists == 1 and m.stats.orders == 3 and m.stats.filled_legs == 3
        assert m.orders == orders and not m.busy and m.activity() == 1
        rows = m.clock.snapshot()
        assert rows.shape[0] == 1 and (rows[0, [3, 4, 5, 6]] > 0).all()   # risk..send stamped

    run(body)


def test_a_refused_list_is_never_sent() -> None:
    async def body() -> None:
        route, risk = ScriptedRoute({}), CountingRisk()
        risk.refuse = lambda orders: "NOTIONAL_EXCEEDS_ORDER_LIMIT"
        m = OrderManager(route, risk=risk)  # type: ignore[arg-type]
        with pytest.raises(OrderRefused, match="NOTIONAL_EXCEEDS_ORDER_LIMIT"):
            await m.submit(_list(m))
        assert route.lists == [] and risk.results == []
        assert m.stats.refused_by_risk == 1
        assert m.stats.last_refusal == "NOTIONAL_EXCEEDS_ORDER_LIMIT"

    run(body)


@pytest.mark.parametrize("policy", ["unwind", "hold"])
def test_an_incomplete_list_is_unwound_or_held(policy: str) -> None:
    async def body() -> None:
        route = ScriptedRoute({"ETH/BTC": Decimal(0), "ETH/USDT": Decimal("0.5")})
        risk, alerts = CountingRisk(), Alerts()
        m = OrderManager(route, risk=risk, alerter=alerts,  # type: ignore[arg-type]
                         partial_policy=policy)
        orders = _list(m)
        m.arm()
        await m.hand_over(m.clock.start(), orders)
        assert m.stats.incomplete == 1
        if policy == "hold":
            assert len(route.lists) == 1 and m.stats.unwinds == 0
            assert any(t.startswith("holding") for t in alerts.unwinds)
            return
        # the filled quantities taken back by market orders on the other side, checked first
        assert len(route.lists) == 2 and m.stats.unwinds == 1
        back = route.lists[1]
        assert [(o.symbol, o.side, o.order_type, o.qty) for o in back] == [
            ("BTC/USDT", Side.SELL, OrderType.MARKET, Decimal("1")),
            ("ETH/USDT", Side.SELL, OrderType.MARKET, Decimal("0.5000"))]
        assert risk.checked == [[o.client_id for o in back]]          # the hot path checked
        assert risk.results == [[o.client_id for o in orders], [o.client_id for o in back]]
        assert m.orders == orders + back and m.stats.orders == 5
        assert any(t.startswith("unwinding") for t in alerts.unwinds)
        assert m.stats.unwind_incomplete == 0

    run(body)


def test_an_unwind_that_does_not_fill_is_counted_and_alerted() -> None:
    async def body() -> None:
        route = ScriptedRoute({"ETH/BTC": Decimal(0)}, market=Decimal("0.5"))
        alerts = Alerts()
        m = OrderManager(route, alerter=alerts,  # type: ignore[arg-type]
                         partial_policy="unwind")
        await m.hand_over(m.clock.start(), _list(m))
        assert m.stats.unwinds == 1 and m.stats.unwind_incomplete == 1
        assert m.stats.incomplete == 1                 # the arbitrage, not its unwind
        assert any("unwind incomplete, position remains" in t for t in alerts.unwinds)

    run(body)


def test_a_refused_unwind_holds_the_position_and_alerts() -> None:
    async def body() -> None:
        route = ScriptedRoute({"ETH/BTC": Decimal(0)})
        risk, alerts = CountingRisk(), Alerts()
        risk.refuse = lambda orders: "HALTED"
        m = OrderManager(route, risk=risk, alerter=alerts,  # type: ignore[arg-type]
                         partial_policy="unwind")
        await m.hand_over(m.clock.start(), _list(m))
        assert len(route.lists) == 1 and m.stats.unwind_refused == 1 and m.stats.unwinds == 0
        assert any("unwind refused by risk, position held: HALTED" in t for t in alerts.unwinds)

    run(body)


def test_halt_and_drain_close_the_door_resume_reopens_after_a_halt() -> None:
    async def body() -> None:
        route = ScriptedRoute({})
        m = OrderManager(route)  # type: ignore[arg-type]
        m.halt("operator")
        assert not m.accepting and m.halted == "operator"
        with pytest.raises(ManagerClosed, match="operator"):
            await m.submit(_list(m))
        m.resume()
        assert m.accepting and m.halted is None
        await m.submit(_list(m))
        assert len(route.lists) == 1
        assert await m.drain(1.0) == []
        m.resume()                                   # a drained manager stays closed
        assert not m.accepting
        with pytest.raises(ManagerClosed, match="draining"):
            await m.submit(_list(m))

    run(body)


def test_hand_over_uses_the_task_made_ahead_and_arms_the_next() -> None:
    async def body() -> None:
        route = ScriptedRoute({})
        m = OrderManager(route)  # type: ignore[arg-type]
        m.arm()
        armed = m._armed[1]  # noqa: SLF001 - the task made ahead is the point of the test
        task = m.hand_over(m.clock.start(), _list(m))
        assert task is armed and m.busy
        await task
        assert not m.busy and m._armed is not None and m._armed[1] is not armed  # noqa: SLF001
        assert m.activity() == 1 and route.first_sends == 1

    run(body)
