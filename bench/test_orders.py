"""pytest-benchmark cases for the fast order routes: per order, the work from a risk-approved
``Order`` to the bytes handed to the socket (template fill, signature, WebSocket framing).

Same code as the hot path of ``FastRoute.place`` (``_build_place`` + ``_frame``), without the
socket itself: ``pytest bench/test_orders.py --benchmark-only``. The end-to-end comparison with
ccxt against the simulators is ``openclaw-trading bench orders``. Each case checks what it timed:
the frame unmasks to the JSON request the venue expects for that order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

pytest.importorskip("pytest_benchmark")

from websockets.utils import apply_mask  # noqa: E402

from openclaw.execution.venues import Credentials  # noqa: E402
from openclaw.model.client_ids import ClientIdFactory  # noqa: E402
from openclaw.model.orders import Order  # noqa: E402
from openclaw.venues.registry import make_fast_route  # noqa: E402

N = 256
ID_FIELD = {"binance": ("params", "newClientOrderId"), "okx": ("args", "clOrdId"),
            "bybit": ("args", "orderLinkId")}


def _unframe(frame: bytes) -> dict[str, Any]:
    """Decode one masked client text frame (RFC 6455) back to its JSON payload."""
    assert frame[0] == 0x81 and frame[1] & 0x80          # FIN + text, masked
    n = frame[1] & 0x7F
    at = 2
    if n == 126:
        n, at = int.from_bytes(frame[2:4], "big"), 4
    mask, data = frame[at:at + 4], frame[at + 4:]
    assert len(data) == n
    return orjson.loads(apply_mask(data, mask))


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
@pytest.mark.parametrize("kind", ["limit", "market"])
def test_order_to_frame(benchmark: Any, venue: str, kind: str) -> None:
    route = make_fast_route(venue, f"ws://127.0.0.1:1/{venue}", Credentials.simulator())
    ids = ClientIdFactory()
    px = Decimal("65000.1") if kind == "limit" else None
    orders = [Order(ids.make(ids.next_opportunity(), 0), venue, "BTC/USDT", "buy", kind,
                    Decimal("0.00123"), px, 1, 0) for _ in range(N)]
    build, frame = route._build_place, route._frame
    out: list[bytes] = []

    def run() -> None:
        out.clear()
        for o in orders:
            out.append(frame(build(o)[1]))

    benchmark.extra_info.update(venue=venue, kind=kind, orders_per_round=N)
    benchmark.pedantic(run, rounds=30, iterations=1, warmup_rounds=2)
    stats = getattr(benchmark.stats, "stats", None)
    if stats is not None:
        benchmark.extra_info["median_ns_per_order"] = round(stats.median * 1e9 / N, 1)
    for o, f in zip(orders, out, strict=True):
        msg = _unframe(f)
        where, field = ID_FIELD[venue]
        got = msg[where][field] if where == "params" else msg[where][0][field]
        assert got == o.client_id
