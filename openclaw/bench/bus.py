"""``openclaw-trading bench bus``: the bus on loopback against a local nats-server.

Cases (two NATS connections in one process, as the issue's naive figures were taken):

* ``book_hop``: a book change (``BookPublisher.on_book``: diff, encode, queue) -> the
  subscriber's book updated (``BookSubscriber``: decode, ``apply_ticks``), paced so each change
  travels alone; p50/p99 of publish-stamp -> applied;
* ``book_throughput``: changes published as fast as one publisher can, with one and with two
  subscribers (changes/s published, and received by the first subscriber);
* ``intent``: ``IntentClient.send`` -> accepted by the ``IntentServer`` (dedupe + the order
  manager's check; the route is a no-op, so only the bus and the check are timed);
* ``stream_ack``: one order event published to JetStream (file store) and acked;
* ``in_process``: the same book change through ``BookSubscriber.on_message`` without a
  network hop (decode + apply only), the floor the bus adds to.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from decimal import Decimal
from typing import Any

import numpy as np

from openclaw._core.book import BookSet
from openclaw.bus.books import BookPublisher, BookSubscriber, book_subject
from openclaw.bus.codec import DELTA, SNAPSHOT, encode
from openclaw.bus.intents import IntentClient, IntentServer
from openclaw.bus.server import NatsServer
from openclaw.bus.stream import OrderStream
from openclaw.execution.manager import OrderManager
from openclaw.feeds.state import BookState
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.instrument import Instrument
from openclaw.model.orders import Order

INST = Instrument("binance", "BTCUSDT", "0.01", "0.00001")


def _pct(values_us: list[float] | np.ndarray) -> dict[str, float]:
    a = np.asarray(values_us, dtype=np.float64)
    return {"n": int(a.size), "p50_us": round(float(np.percentile(a, 50)), 1),
            "p90_us": round(float(np.percentile(a, 90)), 1),
            "p99_us": round(float(np.percentile(a, 99)), 1),
            "max_us": round(float(a.max()), 1)}


class _NoRoute:
    """A route that sends nothing (the intent case times the bus and the check only)."""

    async def send_list(self, orders: list[Order], **kw: Any) -> None:
        return None

    async def reconcile_unknown(self, orders: list[Order]) -> None:
        return None


def _book(levels: int = 20) -> tuple[BookSet, int]:
    bs = BookSet(1, 1000)
    b = bs.add(INST.tick_size, INST.lot_size)
    bids = np.array([[100_000 - i, 1000 + i] for i in range(levels)], dtype=np.int64)
    asks = np.array([[100_001 + i, 1000 + i] for i in range(levels)], dtype=np.int64)
    bs.book(b).apply_ticks(bids, asks, True, 1)
    bs.set_state(b, BookState.LIVE)
    return bs, b


def _change(bs: BookSet, b: int, i: int) -> None:
    """One venue message's worth: two levels change size near the top."""
    book = bs.book(b)
    book.apply_ticks(np.array([[100_000 - i % 5, 500 + i % 997]], dtype=np.int64),
                     np.array([[100_001 + i % 7, 700 + i % 991]], dtype=np.int64), False, i)


async def _connect(url: str) -> Any:
    import nats

    return await nats.connect(url, pending_size=64 * 1024 * 1024)


async def book_hop(url: str, n: int) -> dict[str, Any]:
    nc_p, nc_s = await _connect(url), await _connect(url)
    bs, b = _book()
    pub = BookPublisher(nc_p, bs, {b: INST}, heartbeat_s=1.0)
    sub = BookSubscriber(nc_s, [INST], ring=n)
    await pub.start()
    await sub.start()
    await sub.wait_live(10)
    done = 0
    for i in range(n):
        _change(bs, b, i + 2)
        pub.on_book(b, time.monotonic_ns())
        target = sub.hops + 1
        while sub.hops < target:                 # one change at a time: no queueing
            await asyncio.sleep(0)
        done += 1
    res = sub.hop_percentiles()
    await sub.stop()
    await pub.stop()
    await nc_p.close()
    await nc_s.close()
    a = sub.hop_ns[:done] / 1e3
    return {**_pct(a), "msg_bytes": len(encode(DELTA, 1, 0, 0, 0, 0, 0, 0,
                                               np.zeros((1, 2), np.int64),
                                               np.zeros((1, 2), np.int64))),
            "ring_p50_us": round(res["p50_us"], 1)}


async def book_throughput(url: str, n: int, subscribers: int) -> dict[str, Any]:
    nc_p = await _connect(url)
    subs_nc = [await _connect(url) for _ in range(subscribers)]
    bs, b = _book()
    pub = BookPublisher(nc_p, bs, {b: INST}, heartbeat_s=5.0)
    subs = [BookSubscriber(nc, [INST], ring=1024) for nc in subs_nc]
    await pub.start()
    for s in subs:
        await s.start()
        await s.wait_live(10)
    t0 = time.perf_counter()
    for i in range(n):
        _change(bs, b, i + 2)
        pub.on_book(b, 0)
        if i % 256 == 255:
            await asyncio.sleep(0)              # let the sender and the readers run
    while pub.published < n:
        await asyncio.sleep(0)
    t_pub = time.perf_counter() - t0
    first = subs[0]
    end = time.monotonic() + 30
    while first.hops < n and time.monotonic() < end:
        await asyncio.sleep(0.001)
    t_recv = time.perf_counter() - t0
    got = first.hops
    for s in subs:
        await s.stop()
    await pub.stop()
    for nc in [nc_p, *subs_nc]:
        await nc.close()
    resyncs = sum(c.total_resyncs for s in subs for c in s.counters.values())
    return {"subscribers": subscribers, "changes": n, "published_per_s": round(n / t_pub),
            "received_per_s": round(got / t_recv), "received": got, "resyncs": resyncs}


async def intents(url: str, n: int) -> dict[str, Any]:
    nc_e, nc_s = await _connect(url), await _connect(url)
    manager = OrderManager(_NoRoute())
    server = IntentServer(nc_e, manager)
    await server.start()
    client = IntentClient(nc_s)
    ids = ClientIdFactory()
    lat = []
    for _ in range(n):
        opp = ids.next_opportunity()
        legs = [Order(ids.make(opp, k), v, "BTC/USDT", "buy", "market", Decimal("0.001"),
                      None, opp, k) for k, v in enumerate(("binance", "okx", "bybit"))]
        t0 = time.perf_counter_ns()
        reply = await client.send(legs)
        lat.append((time.perf_counter_ns() - t0) / 1e3)
        assert reply.accepted
    await server.stop()
    await nc_e.close()
    await nc_s.close()
    return {**_pct(lat), "legs": 3}


async def stream_ack(url: str, n: int) -> dict[str, Any]:
    nc = await _connect(url)
    stream = OrderStream(nc, prefix="bench", name="BENCH")
    await stream.start()
    ids = ClientIdFactory()
    lat = []
    for i in range(n):
        o = Order(ids.make(i, 0), "binance", "BTC/USDT", "buy", "market", Decimal("0.001"),
                  None, i, 0)
        t0 = time.perf_counter_ns()
        stream.emit("final", o)
        await stream.flush()
        lat.append((time.perf_counter_ns() - t0) / 1e3)
    await stream.stop()
    await nc.close()
    return _pct(lat)


def in_process(n: int) -> dict[str, Any]:
    """Decode + apply of the same delta without the network (the subscriber's own cost)."""
    bs, b = _book()
    sub = BookSubscriber(None, [INST], ring=n)
    subject = book_subject("oc", INST.venue, INST.key)
    sub.apply_snapshot(subject, encode(SNAPSHOT, 1, 1, 0, 0, 0, 0, 0))
    lat = []
    for i in range(n):
        data = encode(DELTA, 1, 1, i + 1, i, 0, 0, time.monotonic_ns(),
                      np.array([[100_000 - i % 5, 500 + i]], np.int64),
                      np.array([[100_001 + i % 7, 700 + i]], np.int64))
        t0 = time.perf_counter_ns()
        sub.on_message(subject, data)
        lat.append((time.perf_counter_ns() - t0) / 1e3)
    return _pct(lat)


async def run_all(url: str | None, quick: bool) -> dict[str, Any]:
    """Every case; starts a nats-server (JetStream, temp store) unless ``url`` is given."""
    server = None
    tmp = None
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="openclaw-bench-bus-")
        server = await asyncio.to_thread(NatsServer(tmp.name).start)
        url = server.url
    k = 1 if quick else 4
    try:
        out: dict[str, Any] = {"url": url}
        out["in_process"] = in_process(2000 * k)
        out["book_hop"] = await book_hop(url, 2000 * k)
        out["book_throughput_1"] = await book_throughput(url, 25_000 * k, 1)
        out["book_throughput_2"] = await book_throughput(url, 25_000 * k, 2)
        out["intent"] = await intents(url, 500 * k)
        out["stream_ack"] = await stream_ack(url, 500 * k)
        one = out["book_throughput_1"]["received_per_s"]
        two = out["book_throughput_2"]["received_per_s"]
        out["second_subscriber_cost_pct"] = round(100 * (one - two) / one, 1) if one else None
        out["targets"] = {
            "book_hop_p50_le_150us": out["book_hop"]["p50_us"] <= 150,
            "book_hop_p99_le_1ms": out["book_hop"]["p99_us"] <= 1000,
            "intent_p50_le_250us": out["intent"]["p50_us"] <= 250,
            "publish_ge_50k_per_s": out["book_throughput_1"]["published_per_s"] >= 50_000,
            "second_subscriber_lt_10pct": (out["second_subscriber_cost_pct"] or 0) < 10,
        }
        return out
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
        if tmp is not None:
            tmp.cleanup()


def run_bus_bench(url: str | None = None, quick: bool = False,
                  json_out: bool = False) -> dict[str, Any]:
    """Run the cases and print them (JSON or lines); returns the result."""
    result = asyncio.run(run_all(url, quick))
    if json_out:
        print(json.dumps(result))
    else:
        for name, v in result.items():
            print(f"{name:28s} {v}")
    return result


if __name__ == "__main__":
    import sys

    run_bus_bench(quick="--quick" in sys.argv, json_out="--json" in sys.argv)
