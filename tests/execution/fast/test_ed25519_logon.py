"""Binance fast route with an Ed25519 key: one ``session.logon`` per connection, then orders
without key or signature, against the simulator's WebSocket API on loopback (the simulator
verifies the logon signature with ``cryptography`` against the configured public key)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt")
pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key  # noqa: E402
from support.aio import deadline, until
from support.rigs import trading_rig

from openclaw.execution.fast import FastConfig, LoginError  # noqa: E402
from openclaw.execution.venues import Credentials  # noqa: E402
from openclaw.model.orders import Order, OrderStatus  # noqa: E402
from openclaw.sim import start_simulators  # noqa: E402
from openclaw.venues.registry import Ed25519Key, make_fast_route  # noqa: E402

ED_API_KEY = "openclaw-ed25519-test-key"


run = deadline(60.0)


def _pem_pair() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _sim_options(public_pem: bytes) -> dict[str, Any]:
    """The simulated Binance's WebSocket API knows this public key."""
    return {"wsapi": {"ed25519_api_key": ED_API_KEY, "ed25519_public_key": public_pem}}


def test_logon_then_unsigned_orders_fill_and_session_expiry_logs_on_again(
        tmp_path: Path) -> None:
    private_pem, public_pem = _pem_pair()
    key_file = tmp_path / "binance-ed25519.pem"
    key_file.write_bytes(private_pem)
    key = Ed25519Key.from_file(ED_API_KEY, key_file)
    assert "PRIVATE" not in repr(key) and ED_API_KEY not in repr(key)

    async def body() -> None:
        async with trading_rig(tmp_path, venues=("binance",), ed25519=key,
                               fast_config=FastConfig(timeout_s=5.0, backoff_initial=0.05),
                               visibility_window_s=None, binance_options=_sim_options(public_pem)
                               ) as rig:
            sims, journal, router, ids = rig.sims, rig.journal, rig.router, rig.ids
            fast = rig.fast("binance")
            assert fast.up and fast.stats.logins == 1     # session.logon answered 200
            status = sims.binance.wsapi.status()
            assert status["logged_in"] == 1

            def leg() -> Order:
                opp = ids.next_opportunity()
                return Order(ids.make(opp, 0), "binance", "BTC/USDT", "buy", "market",
                             Decimal("0.001"), None, opp, 0)

            first = leg()
            await router.send_list([first])
            assert first.status is OrderStatus.FILLED, (first.status, first.reason)
            assert fast.stats.acked == 1 and fast.stats.fallbacks == 0
            rows = await rig.venue_orders("binance", first.client_id)
            assert len(rows) == 1 and rows[0]["via"] == "ws" and rows[0]["status"] == "filled"

            # the venue ends the session: the next order is refused (not executed), the route
            # logs on again by itself, and the order after that fills
            sims.binance.inject_fault("expire_session")
            refused = leg()
            await router.send_list([refused])
            assert refused.status is OrderStatus.REJECTED, refused.status
            assert "-1102" in (refused.reason or "")
            assert await rig.venue_orders("binance", refused.client_id) == []
            await until(lambda: fast.up and fast.stats.logins == 2, 15.0)
            assert fast.stats.relogins == 1
            again = leg()
            await router.send_list([again])
            assert again.status is OrderStatus.FILLED, (again.status, again.reason)
            rows = await rig.venue_orders("binance", again.client_id)
            assert len(rows) == 1 and rows[0]["via"] == "ws"
            # status by client id on the logged-on session (no signature either)
            assert (await fast.status(again))["status"] == "closed"
            assert not await journal.consistency_check()

    run(body)


def test_logon_with_a_key_the_venue_does_not_know_is_refused(tmp_path: Path) -> None:
    _, public_pem = _pem_pair()
    other_private, _ = _pem_pair()           # signs with a different key than configured
    key_file = tmp_path / "other.pem"
    key_file.write_bytes(other_private)
    key = Ed25519Key.from_file(ED_API_KEY, key_file)

    async def body() -> None:
        sims = await start_simulators(seed=5, rate=20, binance_options=_sim_options(public_pem))
        fast = make_fast_route("binance", sims.urls["binance"]["ws_api"],
                               Credentials.simulator(), FastConfig(open_timeout=5.0),
                               ed25519=key)
        try:
            with pytest.raises(LoginError) as err:
                await fast.start()
            assert err.value.code == "-1022", err.value
            assert not fast.up and fast.stats.login_failures == 1
        finally:
            await fast.close()
            await sims.aclose()

    run(body)


def test_key_file_errors_name_the_file_never_the_key(tmp_path: Path) -> None:
    rsa = generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    (tmp_path / "rsa.pem").write_bytes(rsa)
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ValueError, match="not an Ed25519 key") as e1:
        Ed25519Key.from_file(ED_API_KEY, tmp_path / "rsa.pem")
    with pytest.raises(ValueError, match="not a readable PEM") as e2:
        Ed25519Key.from_file(ED_API_KEY, tmp_path / "junk.pem")
    with pytest.raises(ValueError, match="cannot read"):
        Ed25519Key.from_file(ED_API_KEY, tmp_path / "missing.pem")
    for e in (e1, e2):
        assert "BEGIN" not in str(e.value) and ED_API_KEY not in str(e.value)
    with pytest.raises(ValueError, match="offered by binance only"):
        make_fast_route("okx", "ws://127.0.0.1:1/ws/v5/private", Credentials.simulator(),
                        ed25519=Ed25519Key.from_file(ED_API_KEY, _write(tmp_path)))


def _write(tmp: Path) -> Path:
    p = tmp / "ok.pem"
    p.write_bytes(_pem_pair()[0])
    return p
