"""``openclaw-trading report``: what a run's journal says about each arbitrage, and in total.

Read from the journal only (``Journal.orders_by_prefix`` with each order's fills, ``runs``):
an arbitrage is one order list, the orders sharing a session (their client-id prefix) and an
``opportunity_id``. Per arbitrage: its legs, the detected edge when the journal records it (it
does not: ``detected_edge`` is ``null`` and ``edge_recorded`` false), the realised P&L per asset
from its fills and fees, its fill ratio, and for an incomplete list the unwind (the market
orders that took its filled legs back) with the round trip's cost. Totals over the journal:
counts, fill rates, P&L, fees and unwind cost per asset. ``save_plots`` draws the cumulative
P&L over time and the fill rate (matplotlib, the ``plot`` extra).

Amounts are exact decimals as strings; P&L per asset counts a buy as +qty of the base and
-qty*price of the quote (a sell the opposite), each fee as minus the fee in its asset. The
base and quote come from the symbol (``BASE/QUOTE``, ``BASE-QUOTE``, ``BASE.QUOTE``, a known
quote suffix such as ``BTCUSDT``; an IBKR stock's quote is ``USD``). The JSON keys are
documented in docs/report.md and stable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openclaw.journal import SCHEMA_VERSION, Journal, RunRecord
from openclaw.model.client_ids import ALPHABET
from openclaw.model.errors import JournalError
from openclaw.model.orders import Order, OrderStatus, OrderType, Side

__all__ = [
    "EDGE_NOTE",
    "PlotUnavailableError",
    "ReportError",
    "build_report",
    "plots_available",
    "read_report",
    "save_plots",
    "split_symbol",
]

EDGE_NOTE = ("not recorded: the journal keeps orders and fills, not the edge the detector "
             "priced; the run's log has it")
#: quote assets recognised at the end of a symbol without a separator (``BTCUSDT``)
QUOTE_SUFFIXES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "BTC", "ETH", "BNB", "EUR",
                  "USD", "GBP", "JPY")
_ZERO = Decimal(0)


class ReportError(Exception):
    """The report cannot be made (no journal at the path, not a journal)."""


class PlotUnavailableError(ReportError):
    """``--png`` without matplotlib (the ``plot`` extra)."""


def split_symbol(venue: str, symbol: str) -> tuple[str, str]:
    """(base, quote) of a journaled symbol; ``("?", "?")`` parts when it cannot be told."""
    for sep in ("/", "-", "."):
        if sep in symbol:
            base, _, quote = symbol.partition(sep)
            return base, quote.split(":")[0]
    for q in QUOTE_SUFFIXES:
        if symbol.endswith(q) and len(symbol) > len(q):
            return symbol[: -len(q)], q
    if venue == "ibkr":
        return symbol, "USD"
    return symbol, "?"


def _add(into: dict[str, Decimal], asset: str, amount: Decimal) -> None:
    into[asset] = into.get(asset, _ZERO) + amount


def _flows(orders: Iterable[Order]) -> dict[str, Decimal]:
    """Net change per asset of these orders' fills, fees included."""
    out: dict[str, Decimal] = {}
    for o in orders:
        base, quote = split_symbol(o.venue, o.symbol)
        sign = 1 if o.side is Side.BUY else -1
        for f in o.fills.values():
            _add(out, base, sign * f.qty)
            _add(out, quote, -sign * f.qty * f.price)
            if f.fee:
                _add(out, f.fee_asset, -f.fee)
    return out


def _num(v: Decimal) -> str:
    """An exact decimal in plain notation (no exponent, no trailing zeros)."""
    return format(v.normalize(), "f") if v else "0"


def _amounts(d: dict[str, Decimal]) -> dict[str, str]:
    return {k: _num(v) for k, v in sorted(d.items())}


@dataclass
class _List:
    """One order list: the orders of one (session, opportunity id)."""

    session: str
    opportunity_id: int
    orders: list[Order] = field(default_factory=list)
    unwind: _List | None = None
    unwinds_of: _List | None = None

    @property
    def created_ns(self) -> int:
        return min(o.created_ns for o in self.orders)

    @property
    def filled(self) -> list[Order]:
        return [o for o in self.orders if o.filled_qty > 0]

    @property
    def outcome(self) -> str:
        if any(not o.is_final for o in self.orders):
            return "open"
        if all(o.status is OrderStatus.FILLED for o in self.orders):
            return "filled"
        return "incomplete" if self.filled else "not_filled"


def _session(client_id: str) -> str:
    """The client-id prefix shared by one process's (or one scheduled run's) orders."""
    if client_id.startswith("C"):
        return client_id[:11]          # tag + 10-char session (model/client_ids.py)
    if client_id.startswith("R"):
        return client_id[:12]          # tag + 11-char run digest (schedule.py)
    return ""


def _is_unwind_of(candidate: _List, incomplete: _List) -> bool:
    """True if ``candidate`` is market orders taking back exactly ``incomplete``'s filled legs."""
    if not candidate.orders or any(o.order_type is not OrderType.MARKET
                                   for o in candidate.orders):
        return False
    want = sorted((o.venue, o.symbol, "sell" if o.side is Side.BUY else "buy", o.filled_qty)
                  for o in incomplete.filled)
    got = sorted((o.venue, o.symbol, o.side.value, o.qty) for o in candidate.orders)
    return want == got


def _group(orders: list[Order]) -> list[_List]:
    """Order lists, oldest first, each unwind attached to the incomplete list it took back."""
    lists: dict[tuple[str, int], _List] = {}
    for o in sorted(orders, key=lambda o: (o.created_ns, o.client_id)):
        key = (_session(o.client_id), o.opportunity_id)
        lists.setdefault(key, _List(*key)).orders.append(o)
    ordered = sorted(lists.values(), key=lambda lst: lst.created_ns)
    for i, lst in enumerate(ordered):
        lst.orders.sort(key=lambda o: o.leg)
        for prev in reversed(ordered[:i]):
            if (prev.session == lst.session and prev.unwind is None
                    and prev.unwinds_of is None and prev.outcome == "incomplete"
                    and _is_unwind_of(lst, prev)):
                prev.unwind, lst.unwinds_of = lst, prev
                break
    return ordered


def _leg(o: Order) -> dict[str, Any]:
    return {
        "client_id": o.client_id, "leg": o.leg, "venue": o.venue, "symbol": o.symbol,
        "side": o.side.value, "order_type": o.order_type.value, "qty": str(o.qty),
        "price": None if o.price is None else str(o.price), "filled_qty": str(o.filled_qty),
        "avg_price": None if o.avg_price is None else _num(o.avg_price),
        "fees": _amounts(o.fees), "status": o.status.value, "reason": o.reason,
        "fills": len(o.fills), "created_ns": o.created_ns,
    }


def _fill_ratio(orders: list[Order]) -> float:
    return sum(float(o.filled_qty / o.qty) for o in orders if o.qty) / len(orders)


def _arbitrage(lst: _List) -> dict[str, Any]:
    pnl = _flows(lst.orders)
    unwind = None
    if lst.unwind is not None:
        u = lst.unwind
        for k, v in _flows(u.orders).items():
            _add(pnl, k, v)
        unwind = {"id": u.opportunity_id, "legs": [_leg(o) for o in u.orders],
                  "outcome": u.outcome, "cost": _amounts(_flows([*lst.filled, *u.orders]))}
    return {
        "id": lst.opportunity_id, "session": lst.session, "created_ns": lst.created_ns,
        "outcome": lst.outcome, "legs": [_leg(o) for o in lst.orders],
        "detected_edge": None, "pnl": _amounts(pnl), "fill_ratio": _fill_ratio(lst.orders),
        "unwind": unwind,
    }


def _timeline(arbs: list[_List]) -> list[dict[str, Any]]:
    """Cumulative P&L per asset after each arbitrage that traded (its unwind included), in
    the order they ended (their last fill)."""
    ended = []
    for lst in arbs:
        orders = lst.orders + (lst.unwind.orders if lst.unwind is not None else [])
        times = [f.ts_ns for o in orders for f in o.fills.values()]
        if times:
            ended.append((max(times), lst.opportunity_id, orders))
    total: dict[str, Decimal] = {}
    out = []
    for ts, opp, orders in sorted(ended, key=lambda e: e[0]):
        for k, v in _flows(orders).items():
            _add(total, k, v)
        out.append({"ts_ns": ts, "id": opp, "pnl": _amounts(total)})
    return out


def _run(r: RunRecord) -> dict[str, Any]:
    return {"run_id": r.run_id, "name": r.name, "status": r.status.value,
            "created_ns": r.created_ns, "started_ns": r.started_ns,
            "finished_ns": r.finished_ns, "detail": r.detail}


def build_report(journal: str | Path, orders: list[Order], runs: list[RunRecord]
                 ) -> dict[str, Any]:
    """The report (the ``--json`` object) of a journal's orders (with fills) and runs."""
    lists = _group(orders)
    arbs = [lst for lst in lists if lst.unwinds_of is None]
    outcomes = [lst.outcome for lst in arbs]
    legs = [o for lst in arbs for o in lst.orders]
    fees: dict[str, Decimal] = {}
    for o in orders:
        for k, v in o.fees.items():
            _add(fees, k, v)
    unwind_cost: dict[str, Decimal] = {}
    for lst in arbs:
        if lst.unwind is not None:
            for k, v in _flows([*lst.filled, *lst.unwind.orders]).items():
                _add(unwind_cost, k, v)
    times = [o.created_ns for o in orders] + [f.ts_ns for o in orders for f in o.fills.values()]
    done = [lst for lst in arbs if lst.outcome != "open"]
    return {
        "ok": True,
        "journal": str(journal),
        "schema_version": SCHEMA_VERSION,
        "edge_recorded": False,
        "edge_note": EDGE_NOTE,
        "arbitrages": [_arbitrage(lst) for lst in arbs],
        "totals": {
            "arbitrages": len(arbs),
            "filled": outcomes.count("filled"),
            "incomplete": outcomes.count("incomplete"),
            "not_filled": outcomes.count("not_filled"),
            "open": outcomes.count("open"),
            "unwinds": sum(1 for lst in arbs if lst.unwind is not None),
            "orders": len(orders),
            "fills": sum(len(o.fills) for o in orders),
            "legs": len(legs),
            "legs_filled": sum(1 for o in legs if o.status is OrderStatus.FILLED),
            "fill_rate": (outcomes.count("filled") / len(done)) if done else None,
            "leg_fill_rate": (sum(1 for o in legs if o.status is OrderStatus.FILLED) / len(legs)
                              if legs else None),
            "pnl": _amounts(_flows(orders)),
            "fees": _amounts(fees),
            "unwind_cost": _amounts(unwind_cost),
            "first_ns": min(times) if times else None,
            "last_ns": max(times) if times else None,
        },
        "pnl_over_time": _timeline(arbs),
        "runs": [_run(r) for r in runs],
    }


async def _load(path: Path) -> tuple[list[Order], list[RunRecord]]:
    journal = await Journal.open(path, synchronous="NORMAL")
    try:
        orders: list[Order] = []
        # every client id is [A-Za-z0-9]+ (model/client_ids.py, schedule.py): one read per
        # first character covers them all through the journal's own API
        for c in ALPHABET:
            orders += await journal.orders_by_prefix(c)
        return orders, await journal.runs()
    finally:
        await journal.close()


def read_report(path: str | Path) -> dict[str, Any]:
    """Open the journal at ``path`` (never created), read it and build the report."""
    p = Path(path)
    if not p.is_file():
        raise ReportError(f"no journal at {p} (give the run's [journal] path)")
    try:
        orders, runs = asyncio.run(_load(p))
    except JournalError as e:
        raise ReportError(f"{p} is not a readable journal: {e}") from e
    return build_report(p, orders, runs)


def plots_available() -> bool:
    """True if matplotlib (the ``plot`` extra) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def save_plots(report: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """``pnl.png`` (cumulative P&L per asset over time) and ``fill_rate.png`` (each
    arbitrage's fill ratio and the running share of fully filled lists) in ``out_dir``."""
    if not plots_available():
        raise PlotUnavailableError(
            "--png needs matplotlib: pip install 'openclaw-trading[plot]'")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = report["totals"]["first_ns"] or 0
    series = report["pnl_over_time"]
    assets = sorted({a for p in series for a in p["pnl"]}) or ["-"]
    fig, axes = plt.subplots(len(assets), 1, figsize=(10, 2.4 * len(assets)), squeeze=False)
    for ax, asset in zip(axes[:, 0], assets, strict=True):
        xs = [(p["ts_ns"] - t0) / 1e9 for p in series]
        ys = [float(p["pnl"].get(asset, 0)) for p in series]
        ax.step(xs, ys, where="post")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_ylabel(asset)
    axes[-1, 0].set_xlabel("seconds since the first order")
    axes[0, 0].set_title("realised P&L per asset after each arbitrage (fills, fees, unwinds)")
    fig.tight_layout()
    pnl_path = out / "pnl.png"
    fig.savefig(pnl_path, dpi=100)
    plt.close(fig)

    arbs = report["arbitrages"]
    fig, ax = plt.subplots(figsize=(10, 4))
    xs = list(range(1, len(arbs) + 1))
    ax.bar(xs, [a["fill_ratio"] for a in arbs], label="fill ratio of the list")
    running, filled = [], 0
    for i, a in enumerate(arbs, 1):
        filled += a["outcome"] == "filled"
        running.append(filled / i)
    ax.plot(xs, running, color="black", label="share of lists fully filled")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("arbitrage (in the order they were sent)")
    ax.set_title("fill rate")
    ax.legend(loc="lower left")
    fig.tight_layout()
    rate_path = out / "fill_rate.png"
    fig.savefig(rate_path, dpi=100)
    plt.close(fig)
    return [pnl_path, rate_path]
