"""The control API of an IBKR run (``openclaw-trading run`` on an IBKR file, the FX scalper on
the built-in TWS simulator): status lists the strategy, ``/ready`` holds (no books to wait
for), ``resume``/``flatten`` refuse (typed, naming why) instead of pretending, and ``halt``
stops the run, which then ends cleanly and removes its state file."""

from __future__ import annotations

import asyncio
import sys
import tomllib
from pathlib import Path

import aiohttp
import orjson
import pytest
from support.aio import deadline, until

pytest.importorskip("ib_async")

ROOT = Path(__file__).resolve().parents[2]
run = deadline(120.0)


def _fx_file(tmp: Path) -> Path:
    data = tomllib.loads((ROOT / "examples" / "fx.toml").read_text())
    data["ibkr"].pop("port")
    data["fx"]["ignore_window"] = True
    data["journal"]["path"] = str(tmp / "fx.sqlite")
    lines = []
    for table, values in data.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {orjson.dumps(v).decode()}" for k, v in values.items()]
    text = "\n".join(lines)
    text += (f'\n[control]\ntoken_file = "{tmp / "t.token"}"\nstate_file = "{tmp / "s.json"}"\n'
             f'approval_file = "{tmp / "a.txt"}"\n')
    path = tmp / "fx.toml"
    path.write_text(text)
    return path


def test_ibkr_run_status_refusals_and_halt(tmp_path: Path) -> None:
    cfg = _fx_file(tmp_path)

    async def body() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "openclaw", "run", str(cfg), "--seconds", "60",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path)
        state = tmp_path / "s.json"
        try:
            await until(lambda: state.exists() or proc.returncode is not None, 60, "state")
            st = orjson.loads(state.read_bytes())
            h = {"Authorization": "Bearer " + (tmp_path / "t.token").read_text().strip()}
            async with aiohttp.ClientSession() as http:
                async with http.get(st["url"] + "/v1/status", headers=h) as r:
                    status = await r.json()
                assert [s["name"] for s in status["strategies"]] == ["fx"]
                assert status["strategies"][0]["state"] == "running" and not status["halted"]
                async with http.get(st["url"] + "/ready", headers=h) as r:
                    assert r.status == 200
                async with http.post(st["url"] + "/v1/flatten", headers=h, json={}) as r:
                    fl = await r.json()
                assert (r.status, fl["error"]) == (409, "not_available"), fl
                async with http.post(st["url"] + "/v1/halt", headers=h,
                                     json={"reason": "ibkr test"}) as r:
                    halted = await r.json()
                assert halted["halted"] and "ibkr test" in halted["halt_reason"]
                async with http.post(st["url"] + "/v1/resume", headers=h, json={}) as r:
                    res = await r.json()
                if r.status != 503:           # the run may already be closing its server
                    assert res["error"] == "not_available" and "restart" in res["message"]
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            summary = orjson.loads(out.decode().strip().splitlines()[-1])
            assert proc.returncode == 0, err.decode()[-2000:]
            assert summary["strategies"]["fx"]["ok"]
            assert not state.exists()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    run(body)
