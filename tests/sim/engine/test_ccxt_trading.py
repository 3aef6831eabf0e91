"""The real ccxt async clients trade against the simulators: markets, balances, orders, fills."""

from __future__ import annotations

import asyncio
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import ccxt.async_support as ccxt
import pytest
from support.ccxtclient import SYMBOL, VENUES, D, Env, cid_params, client_id, with_env

DEFAULT = {"USDT": Decimal("100000"), "BTC": Decimal("2"), "ETH": Decimal("30")}
TAKER = {"binance": Decimal("0.001"), "okx": Decimal("0.001"), "bybit": Decimal("0.001")}
MAKER = {"binance": Decimal("0.001"), "okx": Decimal("0.0008"), "bybit": Decimal("0.001")}
#: unified status of an IOC/market order whose rest was cancelled after a partial fill
PARTIAL_IOC = {"binance": "expired", "okx": "canceled", "bybit": "closed"}


def q8(x: Decimal) -> Decimal:
    """Fees and quote amounts are kept to 8 decimals (rounded half-up)."""
    return x.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)


def spec_of(env: Env, symbol: str = SYMBOL):
    return env.sims.market.find(env.venue, symbol, "spot")


async def assert_balances_match(env: Env) -> dict[str, dict[str, Decimal]]:
    """The client's fetch_balance equals the simulator's truth for every asset."""
    bal = await env.ex.fetch_balance()
    truth = await env.truth_balances()
    for asset, t in truth.items():
        assert D(bal[asset]["total"]) == t["total"], (asset, bal[asset], t)
        assert D(bal[asset]["free"]) == t["free"], (asset, bal[asset], t)
        assert D(bal[asset]["used"]) == t["locked"], (asset, bal[asset], t)
    return truth


def walk(levels: list[list[float]], amount: Decimal) -> list[tuple[Decimal, Decimal]]:
    """The fills a taker of ``amount`` should get from the levels the client saw."""
    out = []
    left = amount
    for px, sz, *_ in levels:
        take = min(D(sz), left)
        out.append((D(px), take))
        left -= take
        if left == 0:
            break
    return out


@pytest.mark.parametrize("venue", VENUES)
def test_load_markets_spot_with_simulator_rules(venue: str) -> None:
    async def body(env: Env) -> None:
        markets = await env.ex.load_markets()
        assert sorted(markets) == ["BTC/USDT", "ETH/BTC", "ETH/USDT"]
        for sym, m in markets.items():
            spec = spec_of(env, sym)
            assert m["spot"] and m["active"] and m["type"] == "spot"
            assert m["id"] == spec.venue_symbol
            assert D(m["precision"]["price"]) == Decimal(spec.tick)
            assert D(m["precision"]["amount"]) == Decimal(spec.lot)
        btc = markets["BTC/USDT"]
        assert D(btc["limits"]["amount"]["min"]) == Decimal("0.00001")
        if venue == "okx":
            assert btc["limits"]["cost"]["min"] is None  # OKX publishes no minimum notional
        else:
            assert D(btc["limits"]["cost"]["min"]) == Decimal("5")

    with_env(venue, body)


@pytest.mark.parametrize("venue", VENUES)
def test_market_buy_walks_the_seen_book_and_moves_balances(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        truth0 = await assert_balances_match(env)
        assert {a: truth0[a]["total"] for a in DEFAULT} == DEFAULT
        book = await ex.fetch_order_book(SYMBOL, 20)
        lot = Decimal(spec_of(env).lot)
        amount = (D(book["asks"][0][1]) + D(book["asks"][1][1]) / 2).quantize(lot, ROUND_DOWN)
        expected = walk(book["asks"], amount)
        assert len(expected) == 2
        cid = client_id(venue, "mkt1")
        order = await ex.create_order(
            SYMBOL, "market", "buy", float(amount), None, {"clientOrderId": cid}
        )
        assert order["id"] and order["clientOrderId"] == cid
        trades = await ex.fetch_my_trades(SYMBOL)
        got = [(D(t["price"]), D(t["amount"])) for t in trades if t["order"] == order["id"]]
        assert got == expected
        assert all(t["takerOrMaker"] == "taker" for t in trades)
        fees = [D(t["fee"]["cost"]) for t in trades]
        assert all(t["fee"]["currency"] == "BTC" for t in trades)
        assert sum(fees) == sum(q8(q * TAKER[venue]) for _, q in expected)
        fetched = await ex.fetch_order(order["id"], SYMBOL)
        assert fetched["status"] == "closed" and D(fetched["filled"]) == amount
        assert fetched["clientOrderId"] == cid
        cost = sum(q8(p * q) for p, q in expected)
        truth = await assert_balances_match(env)
        assert truth["USDT"]["total"] == DEFAULT["USDT"] - cost
        assert truth["BTC"]["total"] == DEFAULT["BTC"] + amount - sum(fees)
        # the liquidity is gone from the simulator's book (what the WebSocket publishes)
        after = await ex.fetch_order_book(SYMBOL, 20)
        assert D(after["asks"][0][0]) == expected[1][0]
        assert D(after["asks"][0][1]) == D(book["asks"][1][1]) - expected[1][1]

    with_env(venue, body)


@pytest.mark.parametrize("venue", VENUES)
def test_ioc_limit_fills_partially_when_depth_is_short(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        book = await ex.fetch_order_book(SYMBOL, 5)
        px, sz = D(book["asks"][0][0]), D(book["asks"][0][1])
        cid = client_id(venue, "ioc1")
        order = await ex.create_order(
            SYMBOL,
            "limit",
            "buy",
            float(sz * 2),
            float(px),
            {"timeInForce": "IOC", "clientOrderId": cid},
        )
        got = await ex.fetch_order(order["id"], SYMBOL)
        assert D(got["filled"]) == sz
        assert D(got["amount"]) == sz * 2
        assert got["status"] == PARTIAL_IOC[venue]
        assert D(got["average"]) == px
        assert await ex.fetch_open_orders(SYMBOL) == []
        truth = await assert_balances_match(env)
        assert truth["USDT"]["locked"] == 0
        assert truth["USDT"]["total"] == DEFAULT["USDT"] - q8(px * sz)
        # market sell of ETH: the fee is charged in the quote received
        eth = await ex.fetch_order_book("ETH/USDT", 5)
        bid_px, bid_sz = D(eth["bids"][0][0]), D(eth["bids"][0][1])
        amount = min(bid_sz, Decimal("1"))
        sell = await ex.create_order(
            "ETH/USDT",
            "market",
            "sell",
            float(amount),
            None,
            {"clientOrderId": client_id(venue, "sell1")},
        )
        trades = await ex.fetch_my_trades("ETH/USDT")
        mine = [t for t in trades if t["order"] == sell["id"]]
        assert [(D(t["price"]), D(t["amount"])) for t in mine] == [(bid_px, amount)]
        assert mine[0]["fee"]["currency"] == "USDT"
        fee = D(mine[0]["fee"]["cost"])
        assert fee == q8(q8(bid_px * amount) * TAKER[venue])
        truth = await assert_balances_match(env)
        assert truth["ETH"]["total"] == DEFAULT["ETH"] - amount
        assert truth["USDT"]["total"] == DEFAULT["USDT"] - q8(px * sz) + q8(bid_px * amount) - fee

    with_env(venue, body)


@pytest.mark.parametrize("venue", VENUES)
def test_resting_order_by_client_id_and_duplicates(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        book = await ex.fetch_order_book(SYMBOL, 5)
        price = (D(book["bids"][0][0]) * Decimal("0.9")).quantize(Decimal(spec_of(env).tick))
        cid = client_id(venue, "rest1")
        order = await ex.create_order(
            SYMBOL, "limit", "buy", 0.01, float(price), {"clientOrderId": cid}
        )
        open_orders = await ex.fetch_open_orders(SYMBOL)
        assert [(o["id"], o["clientOrderId"], o["status"]) for o in open_orders] == [
            (order["id"], cid, "open")
        ]
        truth = await assert_balances_match(env)
        assert truth["USDT"]["locked"] == price * Decimal("0.01")
        if venue == "bybit":  # docs/venues/ccxt.md §2: unified param not mapped (orderId=None)
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order(None, SYMBOL, {"clientOrderId": cid})
        by_cid = await ex.fetch_order(None, SYMBOL, cid_params(venue, cid))
        assert by_cid["id"] == order["id"] and by_cid["status"] == "open"
        assert D(by_cid["price"]) == price and D(by_cid["amount"]) == Decimal("0.01")
        # a second order with the same client id is refused while the first is open
        with pytest.raises(ccxt.InvalidOrder) as info:
            await ex.create_order(
                SYMBOL, "limit", "buy", 0.01, float(price), {"clientOrderId": cid}
            )
        assert {"binance": "-2010", "okx": "51016", "bybit": "170141"}[venue] in str(info.value)
        canceled = await ex.cancel_order(None, SYMBOL, cid_params(venue, cid))
        assert canceled["id"] == order["id"]
        got = await ex.fetch_order(order["id"], SYMBOL)
        assert got["status"] == "canceled" and D(got["filled"]) == 0
        truth = await assert_balances_match(env)
        assert truth["USDT"] == {"free": DEFAULT["USDT"], "locked": 0, "total": DEFAULT["USDT"]}
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order(order["id"], SYMBOL)
        with pytest.raises(ccxt.OrderNotFound):
            await ex.fetch_order("123456789", SYMBOL)
        # after the order is closed: Binance accepts the id again (unique among open orders),
        # OKX and Bybit never reuse one
        if venue == "binance":
            again = await ex.create_order(
                SYMBOL, "limit", "buy", 0.01, float(price), {"clientOrderId": cid}
            )
            assert (await ex.fetch_order(None, SYMBOL, {"clientOrderId": cid}))["id"] == again["id"]
        else:
            with pytest.raises(ccxt.InvalidOrder):
                await ex.create_order(
                    SYMBOL, "limit", "buy", 0.01, float(price), {"clientOrderId": cid}
                )
        assert [o["client_id"] for o in await env.truth_orders()].count(cid) == (
            2 if venue == "binance" else 1
        )

    with_env(venue, body)


@pytest.mark.parametrize("venue", VENUES)
def test_trades_by_order_and_refusals(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        first = await ex.create_order(
            SYMBOL, "market", "buy", 0.001, None, {"clientOrderId": client_id(venue, "a1")}
        )
        second = await ex.create_order(
            SYMBOL, "market", "sell", 0.002, None, {"clientOrderId": client_id(venue, "a2")}
        )
        by_order = {"binance": "orderId", "okx": "ordId", "bybit": "orderId"}[venue]
        mine = await ex.fetch_my_trades(SYMBOL, None, None, {by_order: second["id"]})
        assert mine and {t["order"] for t in mine} == {second["id"]}
        assert sum(D(t["amount"]) for t in mine) == Decimal("0.002")
        everything = await ex.fetch_my_trades(SYMBOL)
        assert {t["order"] for t in everything} == {first["id"], second["id"]}
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order(
                SYMBOL, "market", "buy", 5.0, None, {"clientOrderId": client_id(venue, "big")}
            )
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order(
                SYMBOL, "market", "sell", 3.0, None, {"clientOrderId": client_id(venue, "big2")}
            )
        if venue != "okx":  # OKX has no minimum notional
            with pytest.raises((ccxt.InvalidOrder, ccxt.BadRequest)):
                await ex.create_order(SYMBOL, "market", "buy", 0.00005, None)
        await assert_balances_match(env)
        assert len(await env.truth_orders()) == 2

    with_env(venue, body)


@pytest.mark.parametrize("venue", VENUES)
def test_post_only_and_passive_maker_fill(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        book = await ex.fetch_order_book(SYMBOL, 5)
        ask = D(book["asks"][0][0])
        params = {"postOnly": True, "clientOrderId": client_id(venue, "po1")}
        if venue == "binance":
            with pytest.raises(ccxt.OrderImmediatelyFillable):
                await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(ask), params)
        else:  # created, then cancelled by the venue
            o = await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(ask), params)
            got = await ex.fetch_order(o["id"], SYMBOL)
            assert got["status"] == "canceled" and D(got["filled"]) == 0
        # a resting bid at the best bid fills as maker once the market moves through it
        bid = D(book["bids"][0][0])
        o = await ex.create_order(
            SYMBOL, "limit", "buy", 0.01, float(bid), {"clientOrderId": client_id(venue, "mk1")}
        )
        assert (await ex.fetch_order(o["id"], SYMBOL))["status"] == "open"
        status, _ = await _dislocate(env, -30.0)
        assert status == 200
        for _ in range(40):
            env.sims.clock.step(1)
            got = await ex.fetch_order(o["id"], SYMBOL)
            if got["status"] == "closed":
                break
        assert got["status"] == "closed" and D(got["average"]) == bid
        trades = [t for t in await ex.fetch_my_trades(SYMBOL) if t["order"] == o["id"]]
        assert trades and all(t["takerOrMaker"] == "maker" for t in trades)
        assert sum(D(t["fee"]["cost"]) for t in trades) == q8(Decimal("0.01") * MAKER[venue])
        await assert_balances_match(env)

    with_env(venue, body)


async def _dislocate(env: Env, bps: float):
    from support.ccxtclient import sim_post

    return await sim_post(env.base, "/_sim/dislocate", {"symbol": "BTC/USDT", "bps": bps})


@pytest.mark.parametrize("venue", VENUES)
def test_quote_sized_market_buy_and_order_history(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        book = await ex.fetch_order_book(SYMBOL, 5)
        ask, lot = D(book["asks"][0][0]), Decimal(spec_of(env).lot)
        assert D(book["asks"][0][1]) * ask > 500  # one level is enough
        o = await ex.create_market_buy_order_with_cost(
            SYMBOL, 500, {"clientOrderId": client_id(venue, "c1")}
        )
        got = await ex.fetch_order(o["id"], SYMBOL)
        bought = (Decimal(500) / ask).quantize(lot, ROUND_DOWN)
        assert got["status"] == "closed" and D(got["filled"]) == bought
        truth = await assert_balances_match(env)
        assert truth["USDT"]["total"] == DEFAULT["USDT"] - q8(bought * ask)
        rest = await ex.create_order(
            SYMBOL, "limit", "sell", 0.01, float(ask * 2), {"clientOrderId": client_id(venue, "c2")}
        )
        closed = await ex.fetch_closed_orders(SYMBOL)
        assert [x["id"] for x in closed] == [o["id"]]
        everywhere = await ex.fetch_open_orders(None if venue != "binance" else SYMBOL)
        assert [(x["id"], x["symbol"]) for x in everywhere] == [(rest["id"], SYMBOL)]
        assert D((await env.truth_balances())["BTC"]["locked"]) == Decimal("0.01")

    with_env(venue, body)


def test_okx_single_order_endpoint_and_bybit_account_probes() -> None:
    async def body(env: Env) -> None:
        from support.ccxtclient import make_client

        okx = make_client(
            "okx", env.sims.urls["okx"]["rest"], options={"createOrder": "privatePostTradeOrder"}
        )
        bybit = make_client("bybit", env.sims.urls["bybit"]["rest"])
        for key in ("enableUnifiedAccount", "enableUnifiedMargin"):
            bybit.options.pop(key)
        try:
            await okx.load_markets()
            o = await okx.create_order(
                SYMBOL, "market", "buy", 0.001, None, {"clientOrderId": "okone1"}
            )
            assert (await okx.fetch_order(o["id"], SYMBOL))["status"] == "closed"
            await bybit.load_markets()
            assert (await bybit.fetch_balance())["USDT"]["total"] == 100000.0
            assert bybit.options["enableUnifiedAccount"] is True  # learned from /v5/user/query-api
        finally:
            await okx.close()
            await bybit.close()

    with_env("binance", body)


def test_concurrent_orders_on_three_venues() -> None:
    """20 concurrent orders per venue (20 connections each), then the books of truth agree."""

    async def body(env: Env) -> None:
        from support.ccxtclient import make_client

        clients = {v: make_client(v, env.sims.urls[v]["rest"]) for v in VENUES}
        try:
            await asyncio.gather(*(c.load_markets() for c in clients.values()))
            orders = await asyncio.gather(
                *(
                    c.create_order(
                        SYMBOL,
                        "market",
                        "buy",
                        0.001,
                        None,
                        {"clientOrderId": client_id(v, f"cc{i}")},
                    )
                    for v, c in clients.items()
                    for i in range(20)
                )
            )
            assert len({(o["id"], o["clientOrderId"]) for o in orders}) == 60
            for v, c in clients.items():
                sub = Env(env.sims, v, c)
                truth = await assert_balances_match(sub)
                assert truth["BTC"]["total"] == DEFAULT["BTC"] + 20 * (
                    Decimal("0.001") - q8(Decimal("0.001") * TAKER[v])
                )
                assert len(await sub.truth_orders()) == 20
        finally:
            await asyncio.gather(*(c.close() for c in clients.values()))

    with_env("binance", body)
