"""The control API of a run on the simulators, over real HTTP (aiohttp client):

* the token: refused without it or with a wrong one (401, counted in ``/metrics``), the token
  file is 0600, and neither the token nor any approval code appears in a log record, an alert
  or an answer;
* ``status``, ``orders``/``fills``/``alerts`` with cursors, ``/metrics`` parsed by
  prometheus_client's parser, ``/health``, ``/ready``;
* ``halt`` (journaled, alerted, the risk engine refuses), ``resume`` refused without a code
  and with a wrong one, accepted once with the out-of-band code; ``flatten`` and
  ``reload-risk`` refuse honestly what they cannot do.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.aio import deadline
from support.control_engine import Engine, in_process

from openclaw._core.risk import HALTED
from openclaw.control.errors import TokenFileError
from openclaw.control.secrets import Approvals, ensure_token_file, read_token_file
from openclaw.journal import Journal

run = deadline(150.0)


async def _get(http: aiohttp.ClientSession, e: Engine, path: str,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with http.get(e.url + path, headers=e.headers if headers is None else headers) as r:
        body = await r.read()
        ctype = r.headers.get("Content-Type", "")
        return r.status, orjson.loads(body) if "json" in ctype else body.decode()


async def _post(http: aiohttp.ClientSession, e: Engine, path: str,
                body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with http.post(e.url + path, json=body, headers=e.headers) as r:
        return r.status, orjson.loads(await r.read())


def _metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_token_halt_resume_and_reads(tmp_path: Path) -> None:
    """One engine: auth, reads, metrics, halt, the approval flow, and no secret anywhere."""

    async def body() -> None:
        async with in_process(tmp_path) as e, aiohttp.ClientSession() as http:
            tok = tmp_path / "control.token"
            assert stat.S_IMODE(os.stat(tok).st_mode) == 0o600
            # no token, a wrong one, a malformed header: 401; /health needs none
            assert (await _get(http, e, "/v1/status", headers={}))[0] == 401
            assert (await _get(http, e, "/v1/status",
                               headers={"Authorization": "Bearer " + "x" * 43}))[0] == 401
            assert (await _get(http, e, "/metrics", headers={"Authorization": e.token}))[0] \
                == 401
            assert (await _get(http, e, "/health", headers={}))[0] == 200

            st, status = await _get(http, e, "/v1/status")
            assert st == 200 and status["ok"] and status["halted"] is False
            assert len(status["books"]) == 9 and {b["venue"] for b in status["books"]} == {
                "binance", "okx", "bybit"}
            assert [s["name"] for s in status["strategies"]] == ["triarb"]
            assert status["strategies"][0]["state"] == "running"
            assert status["balances"]["binance"]["USDT"]["total"]
            for _ in range(400):                # the books sync after the API starts
                st, ready = await _get(http, e, "/ready")
                if st == 200:
                    break
                await asyncio.sleep(0.1)
            assert (st, ready["ready"], ready["halted"]) == (200, True, False), ready

            st, text = await _get(http, e, "/metrics")
            m = _metrics(text)
            assert st == 200
            assert m[("openclaw_halted", ())] == 0.0
            assert m[("openclaw_books", (("state", "LIVE"),))] == 9.0
            assert m[("openclaw_control_refusals_total", (("reason", "unauthorized"),))] == 3.0
            assert ("openclaw_orders_total", ()) in m

            # halt: always allowed, a reason is required
            st, bad = await _post(http, e, "/v1/halt", {"reason": " "})
            assert (st, bad["error"]) == (400, "bad_request") and "reason" in bad["message"]
            st, h = await _post(http, e, "/v1/halt", {"reason": "test: operator stop"})
            assert st == 200 and h["halted"] and "test: operator stop" in h["halt_reason"]
            _, status = await _get(http, e, "/v1/status")
            assert status["halted"] and status["strategies"][0]["state"] == "halted"
            assert (await _get(http, e, "/ready"))[0] == 503
            _, alerts = await _get(http, e, "/v1/alerts?cursor=0")
            assert any(a["kind"] == "halt" and "test: operator stop" in a["text"]
                       for a in alerts["alerts"])
            _, later = await _get(http, e, f"/v1/alerts?cursor={alerts['cursor']}")
            assert later["cursor"] >= alerts["cursor"]
            assert all(a["cursor"] > alerts["cursor"] for a in later["alerts"])

            # resume: refused without a code (one goes out of band), with a wrong one (which
            # burns it), accepted once with the out-of-band code
            st, need = await _post(http, e, "/v1/resume", {})
            assert (st, need["error"]) == (403, "approval_required")
            assert "approval file" in need["channel"]
            codes = e.approval_codes()
            assert len(codes) == 1 and codes[0] not in orjson.dumps(need).decode()
            st, again = await _post(http, e, "/v1/resume", {})    # no flood: the code holds
            assert (st, again["error"]) == (403, "approval_required")
            assert e.approval_codes() == codes
            wrong = "0" * 8 if codes[0] != "0" * 8 else "1" * 8
            st, no = await _post(http, e, "/v1/resume", {"code": wrong})
            assert (st, no["error"]) == (403, "approval_refused")
            st, no = await _post(http, e, "/v1/resume", {"code": codes[0]})   # burnt
            assert (st, no["error"]) == (403, "approval_refused")
            await _post(http, e, "/v1/resume", {})
            codes = e.approval_codes()
            st, ok = await _post(http, e, "/v1/resume", {"code": codes[-1]})
            assert st == 200 and ok["ok"] and ok["halted"] is False, ok
            _, status = await _get(http, e, "/v1/status")
            assert status["halted"] is False and status["strategies"][0]["state"] == "running"
            await _post(http, e, "/v1/halt", {"reason": "again"})
            st, used = await _post(http, e, "/v1/resume", {"code": codes[-1]})   # single use
            assert (st, used["error"]) == (403, "approval_refused")

            # flatten: approved, then honest (done, or refused naming what is left)
            await _post(http, e, "/v1/flatten", {})
            st, fl = await _post(http, e, "/v1/flatten", {"code": e.approval_codes()[-1]})
            assert (st == 200 and fl["ok"]) or (st == 409 and fl["error"] == "not_available"
                                                and fl["done"]["halted"]), fl
            # reload-risk: the example runs on default limits; refused, naming why
            st, rr = await _post(http, e, "/v1/reload-risk", {})
            assert (st, rr["error"]) == (409, "not_available") and "[risk]" in rr["message"]

            st, orders = await _get(http, e, "/v1/orders?cursor=0&limit=5")
            assert st == 200 and orders["ok"] and len(orders["orders"]) <= 5
            st, fills = await _get(http, e, "/v1/fills?cursor=0")
            assert st == 200 and fills["ok"]
            assert all(f["cursor"] > 0 for f in fills["fills"])
            assert (await _get(http, e, "/v1/fills?cursor=-1"))[0] == 400

            secrets = [e.token, *e.approval_codes()]
            _, alerts = await _get(http, e, "/v1/alerts?limit=1000")
            _, status = await _get(http, e, "/v1/status")
            _, text = await _get(http, e, "/metrics")
            seen = orjson.dumps([alerts, status, need, text]).decode() + "\n".join(e.logs.lines)
            assert e.logs.lines
            for s in secrets:
                assert s not in seen
            assert any("without a valid token refused" in line for line in e.logs.lines)
        summary = e.task.result()
        assert summary["halted"] is True
        journal = await Journal.open(tmp_path / "j.sqlite")
        try:
            actions = await journal.control_actions()
        finally:
            await journal.close()
        got = [(a.action, a.outcome) for a in actions]
        assert ("halt", "done") in got and ("resume", "approval_refused") in got
        assert ("resume", "done") in got and ("reload-risk", "approval_requested") not in got
        assert all(s not in repr(actions) for s in secrets)

    run(body)


def test_halt_refuses_orders_in_the_risk_engine(tmp_path: Path) -> None:
    """A halt reaches the risk engine (HALTED: every new order refused) and the pipeline."""

    async def body() -> None:
        async with in_process(tmp_path) as e, aiohttp.ClientSession() as http:
            await _post(http, e, "/v1/halt", {"reason": "engine check"})
            _, status = await _get(http, e, "/v1/status")
            assert status["halt_reason"].endswith("engine check")
            _, text = await _get(http, e, "/metrics")
            assert _metrics(text)[("openclaw_halted", ())] == 1.0
        assert e.task.result()["halt_reason"].endswith("engine check")

    run(body)
    assert HALTED == 2


def test_token_file_rules(tmp_path: Path) -> None:
    """Created 0600 and reused; group/other bits, another file type or a short token refused
    (the error names the path, never the content)."""
    p = tmp_path / "t"
    tok = ensure_token_file(p)
    assert len(tok) >= 40 and stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert ensure_token_file(p) == tok == read_token_file(p)
    os.chmod(p, 0o640)
    with pytest.raises(TokenFileError, match="0640") as err:
        ensure_token_file(p)
    assert tok not in str(err.value) and str(p) in str(err.value)
    os.chmod(p, 0o600)
    p.write_text("short")
    with pytest.raises(TokenFileError, match="too short"):
        read_token_file(p)
    with pytest.raises(TokenFileError, match="does not exist"):
        read_token_file(tmp_path / "missing")
    (tmp_path / "link").symlink_to(p)
    with pytest.raises(TokenFileError, match="cannot open"):
        read_token_file(tmp_path / "link")


def test_approval_codes_are_single_use_and_bound() -> None:
    """A code works once, for its action and subject only, and not after it expires."""
    a = Approvals(ttl_s=60)
    code = a.issue("resume")
    a.consume("resume", code)
    with pytest.raises(Exception, match="already used"):
        a.consume("resume", code)
    code = a.issue("reload-risk", "digest-1")
    with pytest.raises(Exception, match="wrong"):
        a.consume("reload-risk", code, "digest-2")
    code = a.issue("flatten")
    with pytest.raises(Exception, match="wrong"):
        a.consume("resume", code)
    expired = Approvals(ttl_s=1e-9)
    code = expired.issue("resume")
    with pytest.raises(Exception, match="expired"):
        expired.consume("resume", code)
    assert (a.issued, a.accepted, a.refused) == (3, 1, 3)
    a.issue("resume")
    assert a.recently_sent("resume") and not a.recently_sent("resume", "other")
    assert a.recently_sent("flatten") and not a.recently_sent("reload-risk", "digest-1")


def test_token_file_creation_races_agree(tmp_path: Path) -> None:
    """Engines starting together on one token file all read the same, whole token."""
    from concurrent.futures import ThreadPoolExecutor

    p = tmp_path / "shared.token"
    with ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(lambda _: ensure_token_file(p), range(32)))
    assert len(tokens) == 1 and len(tokens.pop()) >= 40
    assert [x.name for x in tmp_path.iterdir()] == ["shared.token"]    # no temporary left
