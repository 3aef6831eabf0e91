"""``openclaw-trading chaos``: the quick catalogue as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import time

from support.cli import cli

from openclaw.app.chaos import ROW_KEYS, quick


def test_chaos_quick_json_every_row_ok() -> None:
    t0 = time.monotonic()
    p = cli("chaos", "--quick", "--json", timeout=90)
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads(p.stdout)
    assert set(got) == {"faults", "ok"} and got["ok"] is True
    rows = got["faults"]
    assert [r["name"] for r in rows] == [f.name for f in quick()]
    for r in rows:
        assert list(r) == list(ROW_KEYS)
        # books_ok null: the fault's run holds no book (process rows)
        assert r["ok"] is True and r["books_ok"] is (None if r["layer"] == "process" else True), r
        assert r["lost"] == 0 and r["duplicates"] == 0 and r["recovery_ms"] is not None, r
    assert {r["layer"] for r in rows} == {"market data", "trading", "process"}
    assert any(r["orders"] > 0 and r["fills"] > 0 and r["alerts"] > 0 for r in rows)
    # progress: one line per fault on stderr as each finishes
    assert sum(line.startswith("pass ") for line in p.stderr.splitlines()) == len(rows)
    assert took < 60, f"chaos --quick took {took:.1f}s"


def test_chaos_unknown_fault_name_exits_2() -> None:
    p = cli("chaos", "--only", "no-such-fault", timeout=60)
    assert p.returncode == 2
    assert "unknown fault no-such-fault" in p.stderr and "md-tcp-drop-binance" in p.stderr
