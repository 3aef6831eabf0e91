"""Roles on the bus (``run FILE --role ...``): an execution+feed process and a strategy+observer
process over a real nats-server, against the simulators: the strategy's books equal the feed's,
an intent runs once on the one order path, the observer sees its fills in the stream."""

from decimal import Decimal
from pathlib import Path

import pytest
from support.aio import deadline, until
from support.paths import ROOT

from openclaw.app.config import ConfigError, parse_config
from openclaw.app.roles import check_roles, start_roles, stop_roles
from openclaw.bus.server import NatsServer
from openclaw.feeds.state import BookState
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order

run = deadline(60.0)


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory):
    with NatsServer(tmp_path_factory.mktemp("nats")) as server:
        yield server


def _config(tmp: Path, url: str) -> object:
    import tomllib

    data = tomllib.loads((ROOT / "examples" / "triarb.toml").read_text())
    data["journal"] = {"path": str(tmp / "journal.sqlite")}
    data["control"] = {"enabled": False}
    data["bus"] = {"url": url, "prefix": "r1", "stream": "R1", "heartbeat_ms": 100}
    data.setdefault("strategy", {}).setdefault("triarb", {})["enabled"] = False
    return parse_config(data)


def test_roles_need_a_bus_and_known_names(tmp_path):
    cfg = _config(tmp_path, "nats://127.0.0.1:1")
    with pytest.raises(ConfigError, match="unknown role"):
        check_roles(cfg, ["feed", "router"])
    assert check_roles(cfg, ["feed", "strategy", "feed"]) == ("feed", "strategy")
    with pytest.raises(ConfigError, match="needs a \\[bus\\]"):
        check_roles(cfg.model_copy(update={"bus": None}), ["feed"])


def test_execution_feed_and_strategy_observer_processes_share_books_and_orders(nats_server,
                                                                               tmp_path):
    cfg = _config(tmp_path, nats_server.url)

    async def body():
        exe = await start_roles(cfg, ("execution", "feed"), seed=3)
        strat = None
        try:
            strat = await start_roles(cfg, ("strategy", "observer"))
            sub, agg = strat.subscriber, exe.running.aggregator
            assert all(sub.state(b) == BookState.LIVE for b in sub.instrument_of)

            ids = ClientIdFactory()
            opp = ids.next_opportunity()
            legs = [Order(ids.make(opp, 0), "binance", "BTC/USDT", "buy", "market",
                          Decimal("0.001"), None, opp, 0)]
            reply = await strat.intents.send(legs)
            assert reply.accepted, reply.reason
            again = await strat.intents.send(legs)
            assert again.accepted and again.duplicate
            await until(lambda: any(e["event"] == "fill" for e in strat.events), 20,
                        "the fill in the observer's stream")

            def equal() -> bool:
                return all(sub.bookset.book(sub.book_ids[(i.venue, i.key)]).top_ticks(50)[0]
                           .tolist() == agg.bookset.book(b).top_ticks(50)[0].tolist()
                           for b, i in agg.instrument_of.items())
            await until(equal, 10, "the strategy's books equal the feed's", step=0.001)
        finally:
            s_out = await stop_roles(strat) if strat is not None else {}
            e_out = await stop_roles(exe)
        assert e_out["ok"], e_out
        assert e_out["intents"]["accepted"] == 1 and e_out["intents"]["duplicates"] == 1
        assert s_out["observer"]["events"]["accepted"] == 1
        assert s_out["observer"]["events"]["final"] == 1
        assert s_out["strategy"]["hop"]["p50_us"] > 0

    run(body)
