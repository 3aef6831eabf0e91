"""``reload-risk`` on a run whose file has a ``[risk]`` section: the code is bound to the exact
limits it will load (a file changed after the code was sent refuses the code), a valid change
is applied to the running risk engine in one step and journaled, an invalid one is refused
naming the field, and a change of what is traded (the engine's shape) is refused."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import aiohttp
from support.aio import deadline
from support.control_engine import in_process, run_file

from openclaw.app.config import load_config
from openclaw.app.runner import default_limits
from openclaw.control.engine import ControlOps
from openclaw.journal import Journal

run = deadline(120.0)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _risk_toml(tmp: Path) -> str:
    """The engine's default limits for the example file, written as a ``[risk]`` section."""
    probe = tmp / "probe"
    probe.mkdir()
    limits = default_limits(load_config(run_file(probe))).model_dump(mode="json",
                                                                       exclude_none=True)
    out = ["", "[risk]"]
    out += [f"{k} = {_value(v)}" for k, v in limits.items() if not isinstance(v, list)]
    for table in ("venues", "assets", "instruments"):
        for item in limits.get(table, []):
            out.append(f"[[risk.{table}]]")
            out += [f"{k} = {_value(v)}" for k, v in item.items()]
    return "\n".join(out) + "\n"


def test_reload_risk_is_bound_validated_applied_and_journaled(tmp_path: Path) -> None:
    risk = _risk_toml(tmp_path)
    assert risk.count('collar_bps = "100"') == 9

    async def body() -> None:
        async with in_process(tmp_path, extra=risk) as e, aiohttp.ClientSession() as http:
            cfg = tmp_path / "run.toml"
            ops = next(o for o in gc.get_objects()
                       if type(o) is ControlOps and o.source == str(cfg))
            engine = ops.r.gate.engine
            assert engine.instrument_limits(0)["collar_e8"] == 100 * 10_000

            async def post(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
                async with http.post(e.url + "/v1/reload-risk", json=body,
                                     headers=e.headers) as r:
                    return r.status, await r.json()

            st, need = await post({})
            assert (st, need["error"]) == (403, "approval_required")
            stale = e.approval_codes()[-1]
            cfg.write_text(cfg.read_text().replace('collar_bps = "100"', 'collar_bps = "150"'))
            st, no = await post({"code": stale})          # the limits changed since
            assert (st, no["error"]) == (403, "approval_refused")
            assert engine.instrument_limits(0)["collar_e8"] == 100 * 10_000
            await post({})
            st, ok = await post({"code": e.approval_codes()[-1]})
            assert st == 200 and ok["ok"] and ok["instruments"] == 9, ok
            assert engine.instrument_limits(0)["collar_e8"] == 150 * 10_000
            assert ops.r.gate.index is engine.index

            text = cfg.read_text()
            cfg.write_text(text.replace('collar_bps = "150"', 'collar_bps = "-1"', 1))
            st, bad = await post({})
            assert (st, bad["error"]) == (400, "bad_request")
            assert "risk.instruments.0.collar_bps" in bad["message"], bad
            cut = text.index("[[risk.instruments]]", text.index("[[risk.instruments]]") + 1)
            cfg.write_text(text[:cut])                     # one instrument left: another shape
            st, shape = await post({})
            assert (st, shape["error"]) == (409, "not_available")
            assert "instruments" in shape["message"] and "restart" in shape["message"]
            assert engine.instrument_limits(0)["collar_e8"] == 150 * 10_000
        journal = await Journal.open(tmp_path / "j.sqlite")
        try:
            got = [(a.action, a.outcome) for a in await journal.control_actions()]
        finally:
            await journal.close()
        assert got == [("reload-risk", "approval_requested"),
                       ("reload-risk", "approval_refused"),
                       ("reload-risk", "approval_requested"), ("reload-risk", "done")]

    run(body)
