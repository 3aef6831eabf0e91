"""Request signing and frame templates of the fast routes, checked against the venues' docs.

Binance publishes a worked HMAC example (web-socket-api.md, "SIGNED request example (HMAC)");
OKX and Bybit publish the formula only, so their frames are checked against an independent
computation of the documented formula and the frames are decoded as JSON.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from decimal import Decimal

import orjson
import pytest

from openclaw.execution.fast import RouteDown
from openclaw.execution.venues import Credentials
from openclaw.model.orders import Order
from openclaw.venues.binance.trade_ws import BinanceFastRoute
from openclaw.venues.bybit.trade_ws import BybitFastRoute, bybit_auth_sign
from openclaw.venues.okx.trade_ws import OkxFastRoute, okx_login_sign
from openclaw.venues.registry import make_fast_route

# the Binance documentation's example key pair (illustrative, published in the docs)
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = (
    "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&newOrderRespType=ACK"
    "&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
    "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
)
DOC_SIGNATURE = "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"

SIM = Credentials.simulator()


def _order(venue: str, kind: str = "limit", side: str = "buy") -> Order:
    price = Decimal("65000.10") if kind == "limit" else None
    return Order("CabcdefghijA0x1", venue, "BTC/USDT", side, kind, Decimal("0.00100"), price, 1, 0)


def test_binance_hmac_matches_the_documented_example() -> None:
    route = BinanceFastRoute("ws://127.0.0.1:1/ws-api/v3", Credentials(DOC_KEY, DOC_SECRET))
    assert route.sign_hex(DOC_PAYLOAD.encode()) == DOC_SIGNATURE
    # and twice in a row (the precomputed key state is copied, never consumed)
    assert route.sign_hex(DOC_PAYLOAD.encode()) == DOC_SIGNATURE


@pytest.mark.parametrize(("kind", "side"), [("limit", "buy"), ("market", "sell")])
def test_binance_order_frame_is_signed_over_its_sorted_params(kind: str, side: str) -> None:
    route = BinanceFastRoute("ws://127.0.0.1:1/ws-api/v3", Credentials(DOC_KEY, DOC_SECRET))
    before = time.time_ns() // 1_000_000
    rid, frame = route._build_place(_order("binance", kind, side))
    msg = orjson.loads(frame)
    assert rid == msg["id"] == "CabcdefghijA0x1"
    assert msg["method"] == "order.place"
    params = msg["params"]
    sig = params.pop("signature")
    # the documented rule: every other param, sorted by name, k=v joined by &
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    assert sig == hmac.new(DOC_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert params["apiKey"] == DOC_KEY and params["symbol"] == "BTCUSDT"
    assert params["side"] == side.upper() and params["quantity"] == "0.00100"
    assert params["newClientOrderId"] == rid and params["newOrderRespType"] == "FULL"
    assert before <= params["timestamp"] <= time.time_ns() // 1_000_000
    if kind == "limit":
        assert (params["type"], params["timeInForce"], params["price"]) == (
            "LIMIT", "IOC", "65000.10")
    else:
        assert params["type"] == "MARKET" and "price" not in params


def test_okx_login_sign_is_the_documented_formula() -> None:
    route = OkxFastRoute("ws://127.0.0.1:1/ws/v5/private", SIM)
    msg = orjson.loads(route._login_frame())
    assert msg["op"] == "login"
    (arg,) = msg["args"]
    ts = arg["timestamp"]
    assert ts.isdigit() and abs(int(ts) - time.time()) < 5          # Unix seconds
    want = base64.b64encode(hmac.new(SIM.secret.encode(), f"{ts}GET/users/self/verify".encode(),
                                     hashlib.sha256).digest()).decode()
    assert arg["sign"] == want == okx_login_sign(SIM.secret.encode(), ts)
    assert (arg["apiKey"], arg["passphrase"]) == (SIM.api_key, SIM.password)


@pytest.mark.parametrize("kind", ["limit", "market"])
def test_okx_order_frame(kind: str) -> None:
    route = OkxFastRoute("ws://127.0.0.1:1/ws/v5/private", SIM)
    with pytest.raises(RouteDown):          # no instIdCode known: the order goes through ccxt
        route._build_place(_order("okx", kind))
    route.use_markets({"BTC/USDT": {"info": {"instId": "BTC-USDT", "instIdCode": "10042"}}})
    rid, frame = route._build_place(_order("okx", kind))
    msg = orjson.loads(frame)
    assert msg["id"] == rid and msg["op"] == "order"
    (arg,) = msg["args"]
    # since 2026-03 OKX WebSocket orders name the instrument by instIdCode, not instId
    assert arg["instIdCode"] == 10042 and "instId" not in arg
    assert arg["tdMode"] == "cash" and arg["side"] == "buy"
    assert arg["clOrdId"] == rid and arg["sz"] == "0.00100"
    if kind == "limit":
        assert arg["ordType"] == "ioc" and arg["px"] == "65000.10"
    else:
        assert arg["ordType"] == "market" and arg["tgtCcy"] == "base_ccy" and "px" not in arg


def test_bybit_auth_sign_is_the_documented_formula() -> None:
    route = BybitFastRoute("ws://127.0.0.1:1/v5/trade", SIM)
    msg = orjson.loads(route._login_frame())
    assert msg["op"] == "auth"
    key, expires, sign = msg["args"]
    assert key == SIM.api_key
    assert expires > time.time() * 1000                            # a future ms timestamp
    want = hmac.new(SIM.secret.encode(), f"GET/realtime{expires}".encode(),
                    hashlib.sha256).hexdigest()
    assert sign == want == bybit_auth_sign(SIM.secret.encode(), expires)


@pytest.mark.parametrize("kind", ["limit", "market"])
def test_bybit_order_frame(kind: str) -> None:
    route = BybitFastRoute("ws://127.0.0.1:1/v5/trade", SIM)
    rid, frame = route._build_place(_order("bybit", kind, "sell"))
    msg = orjson.loads(frame)
    assert msg["reqId"] == rid and msg["op"] == "order.create"
    assert msg["header"]["X-BAPI-RECV-WINDOW"] == "5000"
    assert abs(int(msg["header"]["X-BAPI-TIMESTAMP"]) - time.time() * 1000) < 5000
    (arg,) = msg["args"]
    assert arg["category"] == "spot" and arg["symbol"] == "BTCUSDT" and arg["side"] == "Sell"
    assert arg["orderLinkId"] == rid and arg["qty"] == "0.00100"
    if kind == "limit":
        assert (arg["orderType"], arg["price"], arg["timeInForce"]) == ("Limit", "65000.10", "IOC")
    else:
        assert arg["orderType"] == "Market" and arg["marketUnit"] == "baseCoin"


def test_secrets_stay_out_of_reprs_and_bad_input_is_refused() -> None:
    route = make_fast_route("okx", "ws://127.0.0.1:1/ws/v5/private", SIM)
    assert SIM.secret not in repr(route) and SIM.password not in repr(route)
    with pytest.raises(ValueError, match="unknown venue .kraken."):
        make_fast_route("kraken", "ws://127.0.0.1:1/x", SIM)
    with pytest.raises(ValueError, match="ws://"):
        make_fast_route("bybit", "http://127.0.0.1:1/v5/trade", SIM)
    with pytest.raises(ValueError, match="passphrase"):
        make_fast_route("okx", "ws://127.0.0.1:1/ws/v5/private", Credentials("k", "s"))
    bad = Order("Cx", "binance", "BTCUSDT", "buy", "market", Decimal("1"), None, 1, 0)
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        make_fast_route("binance", "ws://127.0.0.1:1/ws-api/v3", SIM)._build_place(bad)


def test_route_choice_comes_from_the_config() -> None:
    from openclaw.app.config import ConfigError, parse_config, venue_urls
    from openclaw.venues.registry import fast_route_for

    inst = [{"venue": v, "symbol": s, "base": "BTC", "quote": "USDT", "tick_size": "0.01",
             "lot_size": "0.00001"} for v, s in (("binance", "BTCUSDT"), ("okx", "BTC-USDT"))]
    cfg = parse_config({"venues": {"binance": {"route": "ws"}, "okx": {}}, "instruments": inst})
    urls = {"binance": {"ws_api": "ws://127.0.0.1:9/ws-api/v3"}}
    fast = fast_route_for("binance", cfg.venues["binance"], SIM, sim_urls=urls)
    assert isinstance(fast, BinanceFastRoute) and fast.url == "ws://127.0.0.1:9/ws-api/v3"
    assert fast_route_for("okx", cfg.venues["okx"], SIM, sim_urls=urls) is None   # ccxt
    live = {"mode": "live", "ws": "wss://x", "rest": "https://x", "api_key_env": "K",
            "secret_env": "S", "route": "ws"}
    # a live venue without ws_trade takes its built-in trading WebSocket (model/venues.py):
    # the run resolves the URLs first (venue_urls); the route never guesses one itself
    cfg = parse_config({"venues": {"binance": live}, "instruments": inst[:1]})
    assert venue_urls("binance", cfg.venues["binance"]).ws_trade == (
        "wss://ws-api.binance.com:443/ws-api/v3")
    with pytest.raises(ValueError, match="needs ws_trade"):
        fast_route_for("binance", cfg.venues["binance"], SIM)
    cfg = parse_config({"venues": {"binance": {**live, "ws_trade": "wss://t/ws-api/v3"}},
                        "instruments": inst[:1]})
    assert fast_route_for("binance", cfg.venues["binance"], SIM).url == "wss://t/ws-api/v3"
    with pytest.raises(ConfigError, match="route"):
        parse_config({"venues": {"binance": {"route": "fix"}}, "instruments": inst[:1]})


def test_replies_map_to_the_order_fates_the_docs_give() -> None:
    from openclaw.execution.fast import ReplyLost, VenueRejected

    b = BinanceFastRoute("ws://127.0.0.1:1/ws-api/v3", SIM)
    o = _order("binance")
    # the documentation's FULL reply (two fills, commission in BNB)
    full = {"id": "x", "status": 200, "result": {
        "symbol": "BTCUSDT", "orderId": 12569099453, "clientOrderId": "4d96324ff9d44481926157ec",
        "price": "23416.10000000", "origQty": "0.00847000", "executedQty": "0.00847000",
        "cummulativeQuoteQty": "198.33521500", "status": "FILLED", "timeInForce": "GTC",
        "type": "LIMIT", "side": "SELL", "fills": [
            {"price": "23416.10000000", "qty": "0.00635000", "commission": "0.000000",
             "commissionAsset": "BNB", "tradeId": 1650422481},
            {"price": "23416.50000000", "qty": "0.00212000", "commission": "0.000000",
             "commissionAsset": "BNB", "tradeId": 1650422482}]}}
    u = b._parse_place(o, full)
    assert u["id"] == "12569099453" and u["status"] == "closed"
    assert u["filled"] == "0.00847000"
    assert u["average"] == Decimal("198.33521500") / Decimal("0.00847000")
    assert u["fee"] == {"cost": Decimal("0"), "currency": "BNB"}
    err = {"id": "x", "status": 400, "error": {"code": -2010, "msg": "Account has insufficient "
                                                "balance for requested action."}}
    with pytest.raises(VenueRejected) as e:
        b._parse_place(o, err)
    assert e.value.code == "-2010" and not e.value.rate_limited
    with pytest.raises(VenueRejected) as e:
        b._parse_place(o, {"id": "x", "status": 429, "error": {"code": -1003, "msg": "m"}})
    assert e.value.rate_limited
    with pytest.raises(ReplyLost):       # 5xx: "does not necessarily mean ... failed"
        b._parse_place(o, {"id": "x", "status": 503, "error": {"code": -1001, "msg": "m"}})
    with pytest.raises(ReplyLost):
        b._parse_place(o, {"id": "x", "status": 200, "result": {"status": "NEW"}})

    k = OkxFastRoute("ws://127.0.0.1:1/ws/v5/private", SIM)
    ok = {"id": "1512", "op": "order", "code": "0", "msg": "", "data": [
        {"clOrdId": "", "ordId": "12345689", "tag": "", "ts": "1695190491421", "sCode": "0",
         "sMsg": ""}], "inTime": "1695190491421339", "outTime": "1695190491423240"}
    assert k._parse_place(o, ok)["id"] == "12345689"
    failed = {**ok, "code": "1", "data": [{"ordId": "", "sCode": "51008", "sMsg": "funds"}]}
    with pytest.raises(VenueRejected) as e:
        k._parse_place(o, failed)
    assert e.value.code == "51008"
    with pytest.raises(ReplyLost):
        k._parse_place(o, {**ok, "code": "50026", "msg": "System error", "data": []})

    y = BybitFastRoute("ws://127.0.0.1:1/v5/trade", SIM)
    ok_y = {"reqId": "r", "retCode": 0, "retMsg": "OK", "op": "order.create",
            "data": {"orderId": "1321003749386327552", "orderLinkId": "spot-test-postonly"}}
    assert y._parse_place(o, ok_y)["id"] == "1321003749386327552"
    with pytest.raises(VenueRejected) as e:
        y._parse_place(o, {"reqId": "r", "retCode": 10006, "retMsg": "Too many visits"})
    assert e.value.rate_limited
    with pytest.raises(ReplyLost):
        y._parse_place(o, {"reqId": "r", "retCode": 10016, "retMsg": "Server error"})
    with pytest.raises(ReplyLost):
        y._parse_place(o, {"reqId": "r", "retCode": 0, "data": {}})
