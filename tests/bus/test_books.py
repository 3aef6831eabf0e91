"""Books over the bus: the simulators' books through a feed-role publisher to a strategy-side
subscriber on a real nats-server; late start, a gap, a dead feed and a new one."""

import asyncio

import nats
import numpy as np
from support.aio import deadline, until
from support.livefeeds import assert_books_match, quiesce, started

from openclaw._core.book import BookSet
from openclaw.bus.books import BookPublisher, BookSubscriber, book_subject
from openclaw.feeds.state import BookState
from openclaw.model.instrument import Instrument

run = deadline(40.0)


def ticks(bs: BookSet, book_id: int) -> list[list[int]]:
    return [a.tolist() for a in bs.book(book_id).top_ticks(100_000)]


def caught_up(pub: BookPublisher, sub: BookSubscriber) -> bool:
    return all(sub.bookset.state(sub.book_ids[(i.venue, i.key)]) == BookState.LIVE
               and ticks(sub.bookset, sub.book_ids[(i.venue, i.key)]) == ticks(pub.bookset, b)
               for b, i in pub.books.items() if (i.venue, i.key) in sub.book_ids)


def test_the_simulators_books_reach_a_subscriber_equal_and_resync_after_a_gap(nats_server):
    async def body():
        sims, agg = await started(rate=50.0)
        nc_feed = await nats.connect(nats_server.url)
        nc_strat = await nats.connect(nats_server.url)
        pub = BookPublisher(nc_feed, agg.bookset, agg.instrument_of, heartbeat_s=0.1)
        agg.subscribe(pub.on_book)
        subs: list[BookSubscriber] = []
        try:
            await pub.start()
            await agg.wait_live(15)
            sub = BookSubscriber(nc_strat, agg.instruments, stale_after_s=2.0)
            subs.append(sub)
            await sub.start()
            await sub.wait_live(10)
            assert sub.counters["binance"].snapshots_fetched >= 1
            seen: list[int] = []
            sub.subscribe(lambda b, ts: seen.append(b))
            await until(lambda: len(seen) > 20, 10, "deltas after the snapshot")
            await quiesce(sims, agg)
            await until(lambda: caught_up(pub, sub), 5, "the subscriber's books equal the feed's")
            assert assert_books_match(sims, agg) == len(agg.instruments)
            assert sum(c.total_resyncs for c in sub.counters.values()) == 0
            assert sub.hop_percentiles()["p50_us"] > 0

            # a lost message: the publisher skips one sequence number of one book
            inst = agg.instruments[0]
            b = agg.book_ids[(inst.venue, inst.key)]
            pub.seq[b] += 1
            sims.clock.resume()
            c = sub.counters[inst.venue]
            await until(lambda: c.resyncs["gap"] >= 1, 10, "a gap seen")
            await sub.wait_live(10)

            # a late subscriber to one venue's books by pattern
            late = BookSubscriber(nc_strat, [i for i in agg.instruments if i.venue == "okx"],
                                  patterns=["oc.book.okx.>"])
            subs.append(late)
            await late.start()
            await late.wait_live(10)
            await quiesce(sims, agg)
            await until(lambda: caught_up(pub, sub) and caught_up(pub, late), 5,
                        "both subscribers equal the feed after the resync")
            assert assert_books_match(sims, agg) == len(agg.instruments)
            assert late.counters["okx"].unknown_symbol == 0
        finally:
            for s in subs:
                await s.stop()
            await pub.stop()
            await agg.stop()
            await sims.aclose()
            await nc_feed.close()
            await nc_strat.close()

    run(body)


def test_a_dead_feed_goes_stale_and_a_new_one_resyncs(nats_server):
    inst = Instrument("binance", "BTCUSDT", "0.01", "0.001")
    lv = np.array

    async def body():
        nc_a = await nats.connect(nats_server.url)
        nc_s = await nats.connect(nats_server.url)
        bs = BookSet(1, 100)
        b = bs.add("0.01", "0.001")
        bs.set_state(b, BookState.LIVE)
        book = bs.book(b)
        book.apply_ticks(lv([[100, 5], [99, 7]]), lv([[101, 3]]), True, 1)
        pub = BookPublisher(nc_a, bs, {b: inst}, heartbeat_s=0.05)
        await pub.start()
        pub.on_book(b, 0)
        sub = BookSubscriber(nc_s, [inst], stale_after_s=0.3)
        try:
            await sub.start()
            await sub.wait_live(5)
            sb = sub.book_ids[("binance", "BTCUSDT")]
            assert ticks(sub.bookset, sb) == ticks(bs, b)
            book.apply_ticks(lv([[100, 0], [98, 1]]), lv([[102, 4]]).reshape(-1, 2), False, 2)
            pub.on_book(b, 0)
            await until(lambda: ticks(sub.bookset, sb) == ticks(bs, b), 5, "the delta applied")

            # the publisher's own book resyncs with its venue: not LIVE downstream either
            bs.set_state(b, BookState.RESYNCING)
            await until(lambda: sub.state(sb) == BookState.RESYNCING, 5, "upstream state")
            bs.set_state(b, BookState.LIVE)
            await until(lambda: sub.state(sb) == BookState.LIVE, 5, "LIVE again")

            await pub.stop()                              # the feed process dies
            await until(lambda: sub.state(sb) == BookState.STALE, 2, "STALE after the age")

            book.apply_ticks(lv([[97, 2]]), lv([[103, 1]]), True, 9)
            pub2 = BookPublisher(nc_a, bs, {b: inst}, heartbeat_s=0.05)   # a new feed
            await pub2.start()
            pub2.on_book(b, 0)
            await until(lambda: sub.state(sb) == BookState.LIVE, 5, "LIVE from the new feed")
            await until(lambda: ticks(sub.bookset, sb) == ticks(bs, b), 5, "equal again")
            assert sub.counters["binance"].resyncs["reconnect"] >= 1
            await pub2.stop()
            assert book_subject("oc", "binance", "BTC/USDT") == "oc.book.binance.BTC_USDT"
        finally:
            await sub.stop()
            await nc_a.close()
            await nc_s.close()

    run(body)


def test_an_unknown_book_is_counted_not_applied(nats_server):
    async def body():
        nc = await nats.connect(nats_server.url)
        sub = BookSubscriber(nc, [Instrument("okx", "BTC-USDT", "0.1", "0.001")])
        await sub.start()
        await nc.publish("oc.book.okx.DOGE-USDT", b"\x01")
        await until(lambda: "?" in sub.counters and sub.counters["?"].unknown_symbol == 1, 5,
                    "the unknown book counted")
        assert sub.state(0) == BookState.SYNCING          # no feed: never LIVE
        await sub.stop()
        await nc.close()
        await asyncio.sleep(0)

    run(body)
