"""The fault catalogue: one entry per fault, as data (name, layer, venue, what is injected, what
is checked) plus the run that injects it through the simulators' control API and checks the
fault's own evidence. The checks every row gets (lost, duplicates, books, journal, open orders,
reconciliation) are the runner's (openclaw/app/chaos/runner.py); docs/chaos.md has the table.

Market-data faults run with no order; the evidence is the feed's own counters (a resync or a
reconnect counted for the cause injected) and every book LIVE and equal to the simulator's.
Trading faults send one 3-leg list (0.01 BTC/USDT market buys on Binance, OKX and Bybit) through
the order manager with the fault armed on one venue; the evidence is the venues' order lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

from openclaw.app.chaos.process import PROCESS_FAULTS
from openclaw.app.chaos.runner import VENUES, Fault, Trial
from openclaw.feeds.state import FeedCounters
from openclaw.model.orders import OrderStatus

__all__ = ["CATALOGUE", "by_name", "filled_once", "half_filled", "market_data", "not_at_venue",
           "one_list", "quick"]

MD = "market data"
TRADING = "trading"
SYMBOL = "BTC/USDT"
Evidence = Callable[[FeedCounters, dict[str, int]], bool]


def _snapshot(c: FeedCounters) -> dict[str, int]:
    return {"reconnects": c.reconnects, "duplicates": c.duplicates,
            "parse_errors": c.parse_errors, "checksum_failed": c.checksum_failed,
            "resyncs": c.total_resyncs, "snapshots": c.snapshots_fetched,
            **{f"resync_{k}": n for k, n in c.resyncs.items()}}


def _grew(*keys: str) -> Evidence:
    """Evidence: one of these counters grew since the injection."""
    def ev(c: FeedCounters, before: dict[str, int]) -> bool:
        now = _snapshot(c)
        return any(now[k] > before[k] for k in keys)
    ev.__doc__ = " or ".join(keys)
    return ev


def market_data(kind: str, evidence: Evidence | None, *, symbol: str | None = SYMBOL,
                also: tuple[str, ...] = (), timeout: float = 10.0, went_down: bool = False,
                config: dict[str, object] | None = None,
                **params: object) -> Callable[[Trial], Awaitable[None]]:
    """Inject ``kind`` (and ``also`` before it) on the fault's venue; recovered when the
    evidence holds (the feed counted the fault's cause; None: the simulator applied the fault
    and nothing needed repair) and every book of the venue is LIVE. ``went_down``: a book of
    the venue must also have left LIVE meanwhile (stall); ``config``: venue settings first."""
    async def act(t: Trial) -> None:
        if config:
            await t.control("POST", "/_sim/config", body=dict(config))
            await asyncio.sleep(0.3)        # frames under the new settings reach the books
        c = t.counters()
        before = _snapshot(c)
        applied = await t.faults_applied()
        seen_down = False
        for extra in also:
            await t.control("POST", "/_sim/fault", body={"kind": extra, "symbol": symbol})
        await t.inject(kind, **({"symbol": symbol} if symbol else {}), **params)
        end = asyncio.get_running_loop().time() + timeout
        what = evidence.__doc__ if evidence is not None else f"{kind!r} applied"
        while True:
            live = t.venue_books_live()
            seen_down = seen_down or not live
            if evidence is not None:
                happened = evidence(c, before)
            else:
                happened = await t.faults_applied() > applied
            if happened and live and (seen_down or not went_down):
                t.recovered()
                break
            if asyncio.get_running_loop().time() > end:
                t.expect(False, f"timed out after {timeout:g}s waiting for {what} and every "
                                "book LIVE")
                break
            await asyncio.sleep(0.01)
        t.expect(await t.faults_applied() > applied, f"the simulator never applied {kind!r}")
        if evidence is None:
            await asyncio.sleep(0.3)        # the faulted frame is read and applied by now
            t.expect(t.venue_books_live(), "a book left LIVE after the fault")
            t.expect(_snapshot(c)["resyncs"] == before["resyncs"],
                     "a resync was needed for a fault the protocol allows")
    return act


def one_list(kind: str | None, check: Callable[[Trial, str], Awaitable[None]] | None = None,
             **params: object) -> Callable[[Trial], Awaitable[None]]:
    """Arm ``kind`` on the fault's venue, send one 3-leg list, wait until every leg is final;
    then the fault's own check of the faulted leg against the venue's record."""
    async def act(t: Trial) -> None:
        if kind is not None:
            await t.inject(kind, **params)
        orders = await t.submit(t.legs())
        leg = next(o for o in orders if o.venue == t.fault.venue)
        # the other venues' legs are untouched by the fault: filled in full
        for o in orders:
            if o is not leg:
                t.expect(o.status is OrderStatus.FILLED, f"{o.venue} leg {o.status.value}")
        if check is not None:
            await check(t, leg.client_id)
    return act


async def _records(t: Trial, cid: str) -> list[dict[str, object]]:
    return [o for o in await t.venue_orders(t.fault.venue) if o.get("client_id") == cid]


async def not_at_venue(t: Trial, cid: str) -> None:
    """The faulted leg was refused: the venue holds no such order; the journal says REJECTED."""
    leg = next(o for o in t.orders if o.client_id == cid)
    t.expect(not await _records(t, cid), "the refused leg exists at the venue")
    t.expect(leg.status is OrderStatus.REJECTED and leg.filled_qty == 0,
             f"refused leg is {leg.status.value}, filled {leg.filled_qty}")


async def filled_once(t: Trial, cid: str) -> None:
    """The venue executed the faulted leg (its reply was lost or late): exactly one order at
    the venue, filled, and the journal says FILLED with the venue's quantity."""
    leg = next(o for o in t.orders if o.client_id == cid)
    recs = await _records(t, cid)
    t.expect(len(recs) == 1, f"{len(recs)} orders at the venue for the faulted leg")
    if recs:
        t.expect(Decimal(str(recs[0]["filled"])) == leg.filled_qty == leg.qty,
                 f"venue filled {recs[0]['filled']}, journal {leg.filled_qty}")
    t.expect(leg.status is OrderStatus.FILLED, f"faulted leg is {leg.status.value}")


async def half_filled(t: Trial, cid: str) -> None:
    leg = next(o for o in t.orders if o.client_id == cid)
    recs = await _records(t, cid)
    t.expect(len(recs) == 1, f"{len(recs)} orders at the venue for the faulted leg")
    t.expect(leg.filled_qty == leg.qty / 2, f"faulted leg filled {leg.filled_qty} of {leg.qty}")
    if recs:
        t.expect(Decimal(str(recs[0]["filled"])) == leg.filled_qty,
                 f"venue filled {recs[0]['filled']}, journal {leg.filled_qty}")


def _ws_then_rest(kind: str, must_fill: bool = False) -> Callable[[Trial], Awaitable[None]]:
    """Route ``ws``: the venue's trading WebSocket drops (or loses its session) with the leg
    in flight; the leg ends once at the venue, through one route, never both. ``must_fill``:
    the venue refused it unplaced (not logged in), so nothing stops sending it again: it must
    end FILLED."""
    async def act(t: Trial) -> None:
        await t.inject(kind)
        orders = await t.submit(t.legs())
        leg = next(o for o in orders if o.venue == t.fault.venue)
        recs = await _records(t, leg.client_id)
        t.expect(len(recs) <= 1, f"the leg is {len(recs)} times at the venue")
        vias = {str(x.get("via")) for x in recs}
        t.expect(len(vias) <= 1, f"the leg went through {sorted(vias)}")
        filled = Decimal(str(recs[0]["filled"])) if recs else Decimal(0)
        t.expect(filled == leg.filled_qty, f"venue filled {filled}, journal {leg.filled_qty}")
        if must_fill:
            t.expect(leg.status is OrderStatus.FILLED,
                     f"the leg ended {leg.status.value} ({leg.reason}) instead of being sent "
                     "again after the session expired")
        # a second list after the drop: the route is usable again (socket or ccxt fallback)
        again = await t.submit(t.legs([t.fault.venue]))
        t.expect(again[0].status is OrderStatus.FILLED,
                 f"the next order after the drop is {again[0].status.value}")
        await asyncio.sleep(0)
    return act


def _md(name: str, venue: str, injects: str, checks: str,
        act: Callable[[Trial], Awaitable[None]], quick: bool = False) -> Fault:
    return Fault(name, MD, venue, injects, checks, act, quick=quick)


def _tr(name: str, venue: str, injects: str, checks: str,
        act: Callable[[Trial], Awaitable[None]], quick: bool = False, route: str = "ccxt",
        alert: str = "") -> Fault:
    return Fault(name, TRADING, venue, injects, checks, act, quick=quick, route=route,
                 min_alerts=1 if alert else 0, alert_match=alert)


def _always(c: FeedCounters, before: dict[str, int]) -> bool:
    """a book left LIVE"""
    return True


RECONNECT = _grew("reconnects", "resync_reconnect")
GAP = _grew("resync_gap")

#: what each venue's feed counts for a duplicated / reordered depth update (measured on the
#: simulators: Binance drops a duplicate by its update ids; Bybit and OKX resync on the broken
#: chain)
DUPLICATE = {"binance": _grew("duplicates"), "okx": GAP, "bybit": GAP}


def _per_venue(name: str, injects: str, checks: str,
               act: Callable[[str], Callable[[Trial], Awaitable[None]]],
               quick_on: str = "") -> tuple[Fault, ...]:
    return tuple(_md(f"{name}-{v}", v, injects, checks, act(v), quick=v == quick_on)
                 for v in VENUES)


def _tr_per_venue(name: str, injects: str, checks: str,
                  act: Callable[[str], Callable[[Trial], Awaitable[None]]], quick_on: str = "",
                  route: str = "ccxt", alert: str = "") -> tuple[Fault, ...]:
    return tuple(_tr(f"{name}-{v}", v, injects, checks, act(v), quick=v == quick_on,
                     route=route, alert=alert) for v in VENUES)


CATALOGUE: tuple[Fault, ...] = (
    # -- market data ------------------------------------------------------------------------------
    *_per_venue("md-tcp-drop", "TCP abort of the depth socket, no close frame",
                "reconnect counted; books resynced",
                lambda v: market_data("drop", RECONNECT, symbol=None), quick_on="binance"),
    *_per_venue("md-close-frame", "close frame 1001 on the depth socket",
                "reconnect counted; books resynced",
                lambda v: market_data("close", RECONNECT, symbol=None)),
    _md("md-stall", "okx", "no frame written for 2.5 s, then the backlog at once",
        "books leave LIVE (stale after 1.5 s), come back LIVE",
        market_data("stall", _always, symbol=None, seconds=2.5, went_down=True)),
    *_per_venue("md-sequence-gap", "one depth update of BTC/USDT withheld",
                "gap resync counted", lambda v: market_data("gap", GAP), quick_on="bybit"),
    *_per_venue("md-duplicate", "one depth update of BTC/USDT sent twice",
                "Binance: duplicate dropped and counted; OKX, Bybit: gap resync counted",
                lambda v: market_data("duplicate", DUPLICATE[v])),
    *_per_venue("md-reorder", "two depth updates of BTC/USDT swapped",
                "gap resync counted", lambda v: market_data("reorder", GAP)),
    *_per_venue("md-malformed-json", "a truncated JSON frame before one depth update",
                "parse error counted", lambda v: market_data("malformed", _grew(
                    "parse_errors", "resync_parse")), quick_on="okx"),
    _md("md-okx-checksum", "okx", "real CRC32 checksums on, then one update's checksum wrong",
        "checksum resync counted", market_data("bad_checksum", _grew("resync_checksum"),
                                               config={"checksum": "real"}), quick=True),
    _md("md-okx-seq-reset", "okx", "seqId < prevSeqId on one update (OKX maintenance)",
        "accepted as OKX documents: no resync, book LIVE and equal",
        market_data("seq_reset", None)),
    _md("md-stale-snapshot", "binance",
        "a gap, then a REST snapshot older than the buffered events",
        "stale-snapshot resync counted", market_data(
            "gap", _grew("resync_stale_snapshot"), also=("stale_snapshot",))),
    _md("md-shutdown-notice", "binance", "serverShutdown event, close 0.5 s later",
        "reconnect counted", market_data("server_shutdown", RECONNECT, symbol=None,
                                         seconds=0.5)),
    _md("md-bybit-reset", "bybit", "a u=1 snapshot (Bybit service restart) on BTC/USDT",
        "the snapshot replaces the book: no resync, book LIVE and equal",
        market_data("reset", None)),
    # -- trading ----------------------------------------------------------------------------------
    *_tr_per_venue("order-reject", "the venue refuses the leg (its price-band rejection)",
                   "leg REJECTED, absent at the venue; incomplete list alerted",
                   lambda v: one_list("order_reject", not_at_venue), quick_on="okx",
                   alert="legs incomplete"),
    *_tr_per_venue("http-5xx", "HTTP 503 to the order request, not executed",
                   "leg settled as never placed (query by client id); absent at the venue",
                   lambda v: one_list("server_error", not_at_venue, status=503, scope="order"),
                   alert="legs incomplete"),
    *_tr_per_venue("http-429", "the venue's rate-limit reply (Retry-After 1 s), not executed",
                   "leg refused, absent at the venue; nothing re-sent twice",
                   lambda v: one_list("rate_limit", not_at_venue, scope="order", seconds=1),
                   alert="legs incomplete"),
    _tr("http-418-binance", "binance", "418 IP ban with Retry-After 2 s, not executed",
        "leg refused, absent at the venue",
        one_list("rate_limit", not_at_venue, status=418, scope="order", seconds=2),
        alert="legs incomplete"),
    *_tr_per_venue("reply-lost", "order executed, HTTP reply held back past the client timeout",
                   "leg resolved by client id: FILLED once at the venue",
                   lambda v: one_list("order_timeout", filled_once, seconds=3600),
                   quick_on="okx"),
    *_tr_per_venue("conn-dropped-mid-order", "order executed, then the TCP connection aborted",
                   "leg resolved by client id: FILLED once at the venue",
                   lambda v: one_list("drop_conn", filled_once)),
    *_tr_per_venue("partial-fill", "the leg fills half (the rest expires)",
                   "journal filled = venue filled = half",
                   lambda v: one_list("partial_fill", half_filled, ratio=0.5)),
    *_tr_per_venue("ws-drop-mid-order", "trading WebSocket dropped with the leg in flight",
                   "leg once at the venue, one route (via), journal = venue; next order fills",
                   lambda v: _ws_then_rest("drop_ws"), route="ws", quick_on="okx",
                   alert="fast route down"),
    *_tr_per_venue("ws-session-expired", "trading WebSocket session expired before the leg",
                   "leg re-sent after a new login (or through ccxt) and FILLED once, one "
                   "route (via)", lambda v: _ws_then_rest("expire_session", must_fill=True),
                   route="ws"),
    # -- process and disk (openclaw/app/chaos/process.py) ---------------------------------------
    *PROCESS_FAULTS,
)


def by_name() -> dict[str, Fault]:
    """The catalogue by fault name."""
    return {f.name: f for f in CATALOGUE}


def quick() -> list[Fault]:
    """The ``--quick`` subset: at least one fault of every layer, < ~40 s on 2 shared cores."""
    return [f for f in CATALOGUE if f.quick]
