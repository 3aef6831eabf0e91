"""The TWS simulator's paper account: orders and executions as records, cash, positions, IB-like
commissions, the margin check, and the account values TWS reports.

No sockets here: ``tws.py`` turns these records into wire messages.  Money is USD; FX positions
are held in base-currency units (``"EUR.USD": 20000`` is long 20,000 EUR) and valued at the mid.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from openclaw.sim.tws.universe import Instrument, Universe

__all__ = [
    "Account",
    "OrderLogEntry",
    "Position",
    "SimExecution",
    "SimOrder",
    "commission",
    "now_text",
]

ZERO = Decimal(0)


def now_text() -> str:
    """Execution / completion time as TWS sends it: ``YYYYMMDD HH:MM:SS UTC``."""
    return datetime.now(UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


def commission(inst: Instrument, shares: float, notional: float) -> float:
    """IB-like commission (USD) of a cumulative order size.

    Stocks: IB fixed-style 0.0035 USD/share, min 0.35, max 1 % of the trade value.
    FX (IDEALPRO): 0.2 bp of the USD notional, min 2 USD.
    """
    if inst.is_fx:
        return max(2.0, notional * 0.00002)
    return min(max(0.35, 0.0035 * shares), 0.01 * notional)


@dataclass(slots=True)
class SimExecution:
    """One fill of a SimOrder."""

    exec_id: str
    order: SimOrder
    time: str  # "YYYYMMDD HH:MM:SS UTC"
    shares: Decimal
    price: float
    cum_qty: Decimal
    avg_price: float
    commission: float
    realized_pnl: float | None
    exchange: str
    last_liquidity: int  # 1 added (resting order), 2 removed (marketable)
    epoch: float


@dataclass(slots=True)
class SimOrder:
    """An order as the simulated gateway holds it."""

    client_id: int
    order_id: int
    perm_id: int
    inst: Instrument
    action: str  # BUY | SELL
    qty: Decimal
    order_type: str  # MKT | LMT
    lmt_price: float | None
    tif: str
    account: str
    order_ref: str
    outside_rth: bool
    exchange: str
    status: str = "PreSubmitted"
    filled: Decimal = ZERO
    avg_price: float = 0.0
    last_fill_price: float = 0.0
    commission: float = 0.0
    executions: list[SimExecution] = field(default_factory=list)
    completed_time: str = ""
    completed_status: str = ""
    slicing: bool = False  # partial-mode slices still scheduled

    @property
    def done(self) -> bool:
        """Filled or cancelled."""
        return self.status in ("Filled", "Cancelled", "ApiCancelled", "Inactive")

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.qty - self.filled

    @property
    def symbol(self) -> str:
        """The simulator's symbol ("ABCD", "EUR.USD")."""
        return self.inst.symbol


@dataclass(slots=True)
class OrderLogEntry:
    """One placeOrder message received (whatever happened to it)."""

    time: float
    client_id: int
    order_id: int
    symbol: str
    action: str
    qty: str
    order_type: str
    lmt_price: str
    result: str  # "accepted" | "modified" | "stalled" | "error <code>"
    order_ref: str = ""  # the client's orderRef (our client order id): duplicate checks


@dataclass(slots=True)
class Position:
    """Quantity, average cost per unit (commission included) and realised PnL of a symbol."""

    qty: Decimal = ZERO
    avg_cost: float = 0.0
    realized: float = 0.0


_VALUE_KEYS = (
    "NetLiquidation",
    "TotalCashValue",
    "GrossPositionValue",
    "AvailableFunds",
    "BuyingPower",
    "EquityWithLoanValue",
    "ExcessLiquidity",
    "InitMarginReq",
    "MaintMarginReq",
    "UnrealizedPnL",
    "RealizedPnL",
)


class Account:
    """Cash (USD), positions and executions of the one paper account."""

    def __init__(
        self,
        name: str,
        cash: float,
        leverage: float,
        universe: Universe,
        mid: Callable[[Instrument], float],
    ) -> None:
        if not name:
            raise ValueError("account must be a non-empty string")
        if not math.isfinite(cash):
            raise ValueError("cash must be finite")
        if not (leverage > 0 and math.isfinite(leverage)):
            raise ValueError("leverage must be > 0")
        self.name = name
        self.cash = float(cash)
        self.leverage = float(leverage)
        self.positions: dict[str, Position] = {}
        self.executions: list[SimExecution] = []
        self._u = universe
        self._mid = mid
        self._exec_seq = 0
        self._cache: dict[str, float] | None = None
        self._cache_t = 0.0

    def invalidate(self) -> None:
        """Forget the cached snapshot (after any change of cash or positions)."""
        self._cache = None

    def set_positions(self, positions: Mapping[str, tuple[Decimal, float]]) -> None:
        """Replace every position: ``{symbol: (qty, avg_cost)}``."""
        self.positions = {s: Position(q, c) for s, (q, c) in positions.items()}
        self.invalidate()

    # ---- valuation -----------------------------------------------------------------------

    def numbers(self) -> dict[str, float]:
        """Net liquidation, cash, gross value, funds and margin figures (USD), at the mids."""
        stock_value = gross = fx_value = fx_gross = unreal = realized = 0.0
        by_symbol = self._u.by_symbol
        for sym, p in self.positions.items():
            realized += p.realized
            if not p.qty:
                continue
            inst = by_symbol[sym]
            mid = self._mid(inst)
            qty = float(p.qty)
            value = qty * mid
            unreal += (mid - p.avg_cost) * qty
            if inst.is_fx:
                fx_value += value
                fx_gross += abs(value)
            else:
                stock_value += value
                gross += abs(value)
        total_cash = self.cash + fx_value
        net_liq = total_cash + stock_value
        margin = (gross + fx_gross) / self.leverage
        available = max(net_liq - margin, 0.0)
        return {
            "NetLiquidation": net_liq,
            "TotalCashValue": total_cash,
            "GrossPositionValue": gross,
            "AvailableFunds": available,
            "BuyingPower": available * self.leverage,
            "EquityWithLoanValue": net_liq,
            "ExcessLiquidity": available,
            "InitMarginReq": margin,
            "MaintMarginReq": margin * 0.75,
            "UnrealizedPnL": unreal,
            "RealizedPnL": realized,
        }

    def snapshot(self) -> dict[str, float]:
        """``numbers()`` cached until the next change or for 0.5 s (margin checks per order)."""
        now = time.monotonic()
        if self._cache is None or now - self._cache_t > 0.5:
            self._cache = self.numbers()
            self._cache_t = now
        return self._cache

    def values(self) -> list[tuple[str, str, str]]:
        """(key, value, currency) rows as TWS reports them (updateAccountValue / summary)."""
        n = self.numbers()
        out = [("AccountCode", self.name, ""), ("AccountType", "INDIVIDUAL", "")]
        out += [(key, f"{n[key]:.2f}", "USD") for key in _VALUE_KEYS]
        out.append(("CashBalance", f"{self.cash:.2f}", "USD"))
        out.append(("CashBalance", f"{n['TotalCashValue']:.2f}", "BASE"))
        out.append(("NetLiquidationByCurrency", f"{n['NetLiquidation']:.2f}", "BASE"))
        out.append(("ExchangeRate", "1.00", "USD"))
        for inst in self._u.fx:
            p = self.positions.get(inst.symbol)
            if p is not None and p.qty:
                out.append(("CashBalance", _qty_text(p.qty), inst.ib_symbol))
                out.append(("ExchangeRate", f"{self._mid(inst):.5f}", inst.ib_symbol))
        return out

    def margin_shortfall(self, inst: Instrument, action: str, qty: Decimal, px: float) -> str:
        """The error-201 text if the account cannot carry the trade at ``px``, else ``""``.

        The rule (a stand-in for IB's initial-margin check): after the trade, net liquidation
        must cover gross position value / leverage; trades that reduce the gross are allowed.
        """
        p = self.positions.get(inst.symbol) or Position()
        sign = 1 if action == "BUY" else -1
        old_qty = float(p.qty)
        new_qty = old_qty + sign * float(qty)
        notional = float(qty) * px
        fee = commission(inst, float(qty), notional)
        n = self.snapshot()
        mid = self._mid(inst)
        gross_before = n["InitMarginReq"] * self.leverage
        gross_after = gross_before + (abs(new_qty) - abs(old_qty)) * mid
        net_after = n["NetLiquidation"] - sign * notional - fee + (new_qty - old_qty) * mid
        if gross_after <= gross_before or net_after - gross_after / self.leverage >= 0:
            return ""
        return (
            "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
            f"POSITION YOUR EQUITY WITH LOAN VALUE [{net_after:.2f} USD] MUST EXCEED THE INITIAL "
            f"MARGIN [{gross_after / self.leverage:.2f} USD]"
        )

    # ---- fills ---------------------------------------------------------------------------

    def fill(self, o: SimOrder, shares: Decimal, px: float, liquidity: int) -> SimExecution:
        """Book one execution of ``o``: order progress, commission, position, cash."""
        if shares <= 0:
            raise ValueError(f"fill of {shares} shares")
        inst = o.inst
        px = round(px, 5 if inst.is_fx else 4)
        prev = o.filled
        o.filled += shares
        o.avg_price = (o.avg_price * float(prev) + px * float(shares)) / float(o.filled)
        o.last_fill_price = px
        total_fee = round(commission(inst, float(o.filled), float(o.filled) * o.avg_price), 6)
        fee = round(total_fee - o.commission, 6)
        o.commission = total_fee
        p = self.positions.setdefault(inst.symbol, Position())
        sign = 1 if o.action == "BUY" else -1
        delta = sign * shares
        realized: float | None = None
        if p.qty == 0 or (p.qty > 0) == (delta > 0):
            cost = p.avg_cost * float(abs(p.qty)) + px * float(shares) + fee
            p.qty += delta
            p.avg_cost = cost / float(abs(p.qty))
        else:
            closing = min(abs(p.qty), shares)
            realized = (px - p.avg_cost) * float(closing) * (1 if p.qty > 0 else -1) - fee
            p.realized += realized
            p.qty += delta
            if not p.qty:
                p.avg_cost = 0.0
            elif (p.qty > 0) == (delta > 0):  # flipped through zero
                p.avg_cost = px
        self.cash -= sign * float(shares) * px + fee
        self.invalidate()
        self._exec_seq += 1
        e = SimExecution(
            exec_id=f"{o.perm_id:08x}.{self._exec_seq:08x}.01.01",
            order=o,
            time=now_text(),
            shares=shares,
            price=px,
            cum_qty=o.filled,
            avg_price=round(o.avg_price, 6),
            commission=fee,
            realized_pnl=realized,
            exchange=inst.exec_exchange,
            last_liquidity=liquidity,
            epoch=time.time(),
        )
        o.executions.append(e)
        self.executions.append(e)
        if o.filled >= o.qty:
            o.status = "Filled"
            o.completed_time = e.time
            o.completed_status = "Filled Size: " + _qty_text(o.filled)
        return e


def _qty_text(q: Decimal) -> str:
    return format(q.normalize(), "f")


def parse_position_spec(spec: Any) -> tuple[Decimal, float | None]:
    """``qty`` or ``(qty, avg_cost)`` -> (Decimal qty, avg cost or None)."""
    if isinstance(spec, tuple):
        qty, cost = spec
    else:
        qty, cost = spec, None
    q = Decimal(str(qty))
    if not q.is_finite():
        raise ValueError(f"position quantity must be finite, got {qty!r}")
    return q, (float(cost) if cost is not None else None)
