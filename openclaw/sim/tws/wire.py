"""TWS socket API wire format for the simulator: framing and version-dependent encoders.

Framing (both directions after the hello): a 4-byte big-endian length, then NUL-terminated UTF-8
text fields.  The client hello is the raw ``API\\0`` followed by one framed ``v<min>..<max>``
string.  Encoders here build the server -> client messages the simulator sends, laid out for the
negotiated server version (see ``docs/venues/ibkr.md`` §4/§6): faProfile below 177,
pendingPriceRevision from 178, the error's advancedOrderRejectJson from 166.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "MAX_SERVER_VERSION",
    "MIN_SERVER_VERSION",
    "UNSET_DOUBLE",
    "FrameReader",
    "WireError",
    "fmt_float",
    "fmt_qty",
    "frame",
    "parse_hello",
]

MIN_SERVER_VERSION = 164  # the encoders implement 164..178 (clients ask for up to 176 / 178)
MAX_SERVER_VERSION = 178
UNSET_DOUBLE = "1.7976931348623157E308"
_PACK = struct.Struct(">I").pack
_UNPACK = struct.Struct(">I").unpack_from
MAX_FRAME = 16 << 20


class WireError(ValueError):
    """A malformed client message (bad hello, oversized frame)."""


def fmt_qty(q: Decimal | float | int) -> str:
    """Quantity as TWS sends it: "10", "2.5" (no exponent, no trailing zeros)."""
    if isinstance(q, Decimal):
        s = format(q.normalize(), "f")
    else:
        f = float(q)
        s = str(int(f)) if f.is_integer() else repr(f)
    return s


def fmt_float(x: float) -> str:
    """A price as text ("488.13"); integral values keep one decimal ("100.0")."""
    return repr(float(x))


def frame(fields: Iterable[Any]) -> bytes:
    """One framed message: every field as text, each NUL-terminated, length-prefixed."""
    payload = ("\0".join(map(str, fields)) + "\0").encode()
    return _PACK(len(payload)) + payload


def parse_hello(payload: bytes) -> tuple[int, int, str]:
    """Parse the client's ``v<min>..<max>[ options]`` string -> (min, max, options)."""
    text = payload.decode(errors="replace")
    head, _, options = text.partition(" ")
    if not head.startswith("v") or ".." not in head:
        raise WireError(f"bad API version string {text!r}")
    lo, _, hi = head[1:].partition("..")
    try:
        return int(lo), int(hi), options
    except ValueError as exc:
        raise WireError(f"bad API version string {text!r}") from exc


class FrameReader:
    """Incremental parser: feed bytes, get complete messages as field lists."""

    __slots__ = ("_buf", "hello_done", "prefix_done")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.prefix_done = False  # "API\0" seen
        self.hello_done = False  # the framed version string seen

    def feed(self, data: bytes) -> list[bytes]:
        """Append bytes; return every complete frame payload now available."""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        if not self.prefix_done:
            if len(buf) < 4:
                return out
            if bytes(buf[:4]) != b"API\0":
                raise WireError(f"bad client prefix {bytes(buf[:4])!r}")
            del buf[:4]
            self.prefix_done = True
        pos = 0
        n = len(buf)
        while n - pos >= 4:
            (size,) = _UNPACK(buf, pos)
            if size > MAX_FRAME:
                raise WireError(f"frame of {size} bytes")
            end = pos + 4 + size
            if end > n:
                break
            out.append(bytes(buf[pos + 4 : end]))
            pos = end
        if pos:
            del buf[:pos]
        return out


def fields_of(payload: bytes) -> list[str]:
    """Split a framed payload into its text fields (the trailing NUL dropped)."""
    parts = payload.decode(errors="replace").split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


# ---- server -> client encoders ---------------------------------------------------------------


def error_msg(version: int, req_id: int, code: int, text: str) -> bytes:
    """error (4): reqId -1 for general messages."""
    f: list[Any] = [4, 2, req_id, code, text]
    if version >= 166:
        f.append("")
    return frame(f)


def contract11(c: Any) -> list[Any]:
    """The 11-field contract form of replies (no primaryExchange)."""
    return [
        c.con_id,
        c.ib_symbol,
        c.sec_type,
        "",
        "0",
        "",
        "",
        "" if c.is_fx else c.primary_exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
    ]


def contract11_exec(c: Any, exchange: str) -> list[Any]:
    """The 11-field contract form with an explicit exchange (order and execution replies)."""
    return [
        c.con_id,
        c.ib_symbol,
        c.sec_type,
        "",
        "0",
        "",
        "",
        exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
    ]


def open_order(version: int, o: Any) -> bytes:
    """openOrder (5) for a simple MKT/LMT order (no version field); ``o`` is a SimOrder."""
    c = o.inst
    f: list[Any] = [5, o.order_id, *contract11_exec(c, o.exchange)]
    f += [
        o.action,
        fmt_qty(o.qty),
        o.order_type,
        fmt_float(o.lmt_price) if o.lmt_price is not None else "",
        "",
        o.tif,
        "",
        o.account,
        "O" if not c.is_fx else "",
        "0",
        o.order_ref,
        o.client_id,
        o.perm_id,
        "1" if o.outside_rth else "0",
        "0",
        "0",
        "",
        "",  # deprecated sharesAllocation
        "",
        "",
        "",
    ]
    if version < 177:
        f.append("")  # faProfile
    # group 2 (29): modelCode .. deltaNeutralAuxPrice
    f += [
        "", "", "", "", "", "0", "", "-1", "0", "", "", "", "", "", "", "0", "0", "0", "",
        "3", "0", "0", "", "0", "0", "", "0", "", "",
    ]  # fmt: skip
    # group 3 (7)
    f += ["0", "0", "", "", "", "", ""]
    # combo legs, order combo legs, smart combo routing params
    f += ["0", "0", "0"]
    # scale (3, no block), hedgeType (empty)
    f += ["", "", "", ""]
    # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, dncPresent, algoStrategy
    f += ["0", "", "", "0", "0", ""]
    # solicited, whatIf, status, 9 margins, commission, min, max, currency, warning, randomize x2
    f += ["0", "0", o.status]
    f += [UNSET_DOUBLE] * 9
    f += [UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE, "", "", "0", "0"]
    # conditions
    f += ["0"]
    # 16: adjustedOrderType .. usePriceMgmtAlgo
    f += [o.order_type, "", "", "", "", "", "", "0", "", "", "", "", "0", "0", "0", ""]
    if version >= 159:
        f.append("")  # duration
    if version >= 160:
        f.append("0")  # postToAts
    if version >= 162:
        f.append("0")  # autoCancelParent
    if version >= 170:
        f += ["", "", "", "", ""]
    return frame(f)


def completed_order(version: int, o: Any) -> bytes:
    """completedOrder (101): no orderId/clientId; keyed by permId."""
    c = o.inst
    f: list[Any] = [101, *contract11_exec(c, o.exchange)]
    f += [
        o.action,
        fmt_qty(o.qty),
        o.order_type,
        fmt_float(o.lmt_price) if o.lmt_price is not None else "",
        "",
        o.tif,
        "",
        o.account,
        "O" if not c.is_fx else "",
        "0",
        o.order_ref,
        o.perm_id,
        "1" if o.outside_rth else "0",
        "0",
        "0",
        "",
        "",
        "",
        "",
    ]
    if version < 177:
        f.append("")  # faProfile
    # group 2 (23): modelCode .. deltaNeutralAuxPrice
    f += [
        "", "", "0", "", "", "0", "", "-1", "", "", "", "", "", "0", "0", "0", "", "3", "0", "",
        "0", "", "",
    ]  # fmt: skip
    # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, comboLegsDescrip
    f += ["0", "0", "", "", ""]
    f += ["0", "0", "0"]  # combo legs, order combo legs, smart combo params
    f += ["", "", "", ""]  # scale x3, hedgeType
    f += ["", "", "0", "0", ""]  # clearingAccount, clearingIntent, notHeld, dncPresent, algo
    f += ["0", o.status, "0", "0"]  # solicited, status, randomizeSize, randomizePrice
    f += ["0"]  # conditions
    f += [
        "",  # trailStopPrice
        "",  # lmtPriceOffset
        "",  # cashQty
        "0",  # dontUseAutoPriceForHedge
        "0",  # isOmsContainer
        "",  # autoCancelDate
        fmt_qty(o.filled),  # filledQuantity
        "0",  # refFuturesConId
        "0",  # autoCancelParent
        "",  # shareholder
        "0",  # imbalanceOnly
        "0",  # routeMarketableToBbo
        "0",  # parentPermId
        o.completed_time,
        o.completed_status,
    ]
    if version >= 170:
        f += ["", "", "", "", ""]
    return frame(f)


def order_status(o: Any) -> bytes:
    """orderStatus (3), no version field; echoes the placing clientId."""
    return frame(
        [
            3,
            o.order_id,
            o.status,
            fmt_qty(o.filled),
            fmt_qty(o.qty - o.filled),
            fmt_float(o.avg_price),
            o.perm_id,
            0,
            fmt_float(o.last_fill_price),
            o.client_id,
            "",
            0,
        ]
    )


def exec_details(version: int, req_id: int, e: Any) -> bytes:
    """execDetails (11), no version field; 31 fields at 176, 32 from 178."""
    o = e.order
    f: list[Any] = [
        11,
        req_id,
        o.order_id,
        *contract11_exec(o.inst, o.exchange),
        e.exec_id,
        e.time,
        o.account,
        e.exchange,
        "BOT" if o.action == "BUY" else "SLD",
        fmt_qty(e.shares),
        fmt_float(e.price),
        o.perm_id,
        o.client_id,
        0,
        fmt_qty(e.cum_qty),
        fmt_float(e.avg_price),
        o.order_ref,
        "",
        "",
        "",
        e.last_liquidity,
    ]
    if version >= 178:
        f.append("0")  # pendingPriceRevision
    return frame(f)


def commission_report(e: Any) -> bytes:
    """commissionReport (59): exactly 8 fields."""
    realized = fmt_float(e.realized_pnl) if e.realized_pnl is not None else UNSET_DOUBLE
    return frame([59, 1, e.exec_id, fmt_float(e.commission), "USD", realized, UNSET_DOUBLE, ""])


def contract_details(version: int, req_id: int, c: Any, exchange: str) -> bytes:
    """contractDetails (10) for a stock or an FX pair (layout of server version >= 164)."""
    if version < 164:
        raise ValueError("contractDetails is only encoded for server versions >= 164")
    if c.is_fx:
        order_types = "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,GTC,IOC,LIT,LMT,MKT,MIT,NONALGO,OCA,REL,RELPCTOFS,SCALE,STP,STPLMT,TRAIL,WHATIF"  # noqa: E501
        valid = "IDEALPRO"
        market_name = c.symbol
        min_size, incr, sugg = "1", "1", "1"
        stock_type = ""
        rules = "239"
    else:
        order_types = "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,GTC,IOC,LIT,LMT,LOC,MIT,MKT,MOC,MTL,NONALGO,OCA,REL,SCALE,STP,STPLMT,TRAIL,TRAILLIMIT,WHATIF"  # noqa: E501
        valid = "SMART,AMEX,NYSE,CBOE,ARCA,ISLAND,BATS,IEX,EDGEA,BYX,MEMX,PEARL,NASDAQ"
        market_name = c.trading_class
        min_size, incr, sugg = "1", "1", "100"
        stock_type = "COMMON"
        rules = ",".join(["26"] * 13)
    f: list[Any] = [
        10,
        req_id,
        c.ib_symbol,
        c.sec_type,
        "",  # lastTradeDate
        "0",  # strike
        "",  # right
        exchange,
        c.currency,
        c.local_symbol,
        market_name,
        c.trading_class,
        c.con_id,
        repr(c.min_tick),
        "",  # multiplier
        order_types,
        valid,
        "1",  # priceMagnifier
        "0",  # underConId
        c.long_name,
        "" if c.is_fx else c.primary_exchange,
        "",  # contractMonth
        "" if c.is_fx else "Industrial",
        "",
        "",
        "US/Eastern",
        "",  # tradingHours
        "",  # liquidHours
        "",
        "",
        0,  # numSecIds
        "1" if not c.is_fx else "4",  # aggGroup
        "",
        "",
        rules,
        "",
        stock_type,
        min_size,
        incr,
        sugg,
    ]
    return frame(f)


def historical_data(req_id: int, start: str, end: str, bars: Sequence[Any], fx: bool) -> bytes:
    """historicalData (17), all bars in one message; daily dates as YYYYMMDD."""
    f: list[Any] = [17, req_id, start, end, len(bars)]
    for b in bars:
        f += [
            b.date.strftime("%Y%m%d"),
            repr(b.open),
            repr(b.high),
            repr(b.low),
            repr(b.close),
            b.volume,
            repr(b.wap),
            b.count,
        ]
    return frame(f)


def tick_price(req_id: int, tick_type: int, price: float, size: float) -> bytes:
    """tickPrice (1), exactly 7 fields."""
    return frame([1, 6, req_id, tick_type, repr(price), fmt_qty(size), 0])


def tick_size(req_id: int, tick_type: int, size: float) -> bytes:
    """tickSize (2)."""
    return frame([2, 6, req_id, tick_type, fmt_qty(size)])
