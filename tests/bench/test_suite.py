"""``openclaw-trading bench all|compare|pipeline|risk`` (quick settings; speed itself is not
asserted)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cli import cli

from openclaw.bench.suite import SECTIONS, CompareError, compare, load_document, run_section


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return cli("bench", *args, timeout=timeout)


def test_bench_all_json_and_compare(tmp_path: Path) -> None:
    """Quick runs: one JSON document each, compared case by case. The first run includes the
    IBKR section (against the TWS simulator: it must be there and pass); the second, cheaper,
    leaves it out with ``--only``."""
    docs = []
    for k, only in enumerate(("risk,pipeline,ibkr", "risk,pipeline")):
        p = _cli("all", "--quick", "--json", "--only", only)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
        doc = json.loads(p.stdout)
        assert set(doc["sections"]) == set(only.split(","))
        assert doc["ok"] is True and doc["problems"] == []
        for name in ("risk", "pipeline"):
            s = doc["sections"][name]
            assert s["available"] and s["ok"], s
            assert all(c["median_ns"] > 0 and c["key"] == f"{c['case']}/{c['impl']}"
                       for c in s["cases"])
        assert {c["impl"] for c in doc["sections"]["pipeline"]["cases"]} == {
            "recorder", "no_recorder", "orjson_loads"}
        if k == 0:
            ibkr = doc["sections"]["ibkr"]
            assert ibkr["available"] is True and ibkr["ok"] is True, ibkr
            res = ibkr["result"]
            assert res["rebalance"]["all_filled_and_verified"] and res["fx_normal"]["orders"] > 0
        path = tmp_path / f"run{k}.json"
        path.write_text(p.stdout)
        docs.append(path)
    rows = compare(docs[0], docs[1])
    keys = {(r["section"], r["case"]) for r in rows}
    assert ("pipeline", "pipeline/recorder") in keys and ("risk", "risk_list3/openclaw") in keys
    assert all(r["ratio"] is not None and r["ratio"] > 0 for r in rows), rows
    p = _cli("compare", str(docs[0]), str(docs[1]), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert len(out["cases"]) == len(rows) and set(out["geomean"]) == {"risk", "pipeline"}


def test_compare_lists_cases_in_one_file_only(tmp_path: Path) -> None:
    a = {"bench": "x", "cases": [{"case": "c", "impl": "openclaw", "median_ns": 100.0},
                                 {"case": "d", "impl": "openclaw", "median_ns": 50.0}]}
    b = {"bench": "x", "cases": [{"case": "c", "impl": "openclaw", "median_ns": 150.0}]}
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    rows = {r["case"]: r for r in compare(tmp_path / "a.json", tmp_path / "b.json")}
    assert rows["c/openclaw"]["ratio"] == 1.5
    assert rows["d/openclaw"]["ratio"] is None and rows["d/openclaw"]["only_in"] == "a"
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(CompareError):
        load_document(tmp_path / "bad.json")
    p = _cli("compare", str(tmp_path / "a.json"), str(tmp_path / "bad.json"))
    assert p.returncode == 2 and "bad.json" in p.stderr


def test_missing_entry_point_is_reported_not_skipped() -> None:
    from dataclasses import replace

    sec = replace(SECTIONS[0], name="x", function="no_such_function")
    out = run_section(sec)
    assert out["available"] is False and "no_such_function" in out["reason"]
    sec = replace(SECTIONS[0], name="y", module="openclaw.bench.no_such_module")
    out = run_section(sec)
    assert out["available"] is False and "no_such_module" in out["reason"]


def test_unknown_section_is_an_error() -> None:
    p = _cli("all", "--only", "book,nope")
    assert p.returncode == 2 and "nope" in p.stderr


def test_bench_pipeline_and_risk_commands() -> None:
    p = _cli("pipeline", "--quick", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout)
    assert r["ok"] and r["order_lists_per_rep"] > 0 and r["tick_to_order_p50_us"] > 0
    assert r["recorder_cost_ns_per_frame"] > 0 and "recorder_overhead_pct" in r
    p = _cli("risk", "--quick", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout)
    impls = {(c["case"], c["impl"]) for c in r["cases"]}
    assert impls == {("risk_order", "openclaw"), ("risk_order", "python"),
                     ("risk_list3", "openclaw"), ("risk_list3", "python")}


NO_OK = """
def harness(quick=False, json_out=False):
    return {"cases": [{"case": "c", "impl": "openclaw", "median_ns": 10.0}]}

def says_ok(quick=False, json_out=False):
    return {"ok": True, "cases": []}

def bare_list(quick=False, json_out=False):
    return [{"case": "c", "impl": "openclaw", "median_ns": 10.0}]
"""


@pytest.fixture
def fake_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A suite of three sections: one passing, one that reports no ``ok``, one missing."""
    from dataclasses import replace

    from openclaw.bench import suite

    (tmp_path / "fake_bench_mod.py").write_text(NO_OK)
    monkeypatch.syspath_prepend(str(tmp_path))
    base = replace(SECTIONS[0], module="fake_bench_mod", quick={}, full={})
    secs = (replace(base, name="good", function="says_ok"),
            replace(base, name="silent", function="harness"),
            replace(base, name="gone", module="openclaw.bench.no_such_section"))
    monkeypatch.setattr(suite, "SECTIONS", secs)
    monkeypatch.setattr(suite, "SECTION_NAMES", tuple(s.name for s in secs))


def test_section_without_ok_is_a_failure(fake_sections: None) -> None:
    from openclaw.bench import suite

    silent = run_section(suite.SECTIONS[1])
    assert silent["available"] and silent["ok"] is False
    assert "reported no 'ok'" in silent["error"] and silent["cases"]
    from dataclasses import replace

    bare = run_section(replace(suite.SECTIONS[1], function="bare_list"))
    assert bare["ok"] is False and "returned a list" in bare["error"]
    assert run_section(suite.SECTIONS[0])["ok"] is True


def test_bench_all_is_not_ok_when_a_section_is_unavailable(
        fake_sections: None, capsys: pytest.CaptureFixture[str]) -> None:
    """``bench all`` names the missing section and exits 1; ``--only`` can leave it out."""
    from typer.testing import CliRunner

    from openclaw.bench import suite
    from openclaw.cli import app

    doc = suite.run_all(("good", "gone"), json_out=True, progress=False)
    assert doc["ok"] is False
    assert [p.split(":")[0] for p in doc["problems"]] == ["gone"]
    assert "gone: not available: module openclaw.bench.no_such_section" in capsys.readouterr().err
    runner = CliRunner()
    res = runner.invoke(app, ["bench", "all", "--json"])
    assert res.exit_code == 1, res.output
    assert "gone: not available" in res.output and "silent: FAILED" in res.output
    res = runner.invoke(app, ["bench", "all", "--json", "--only", "good"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("argv", [["bench", "ibkr"], ["ibkr", "bench"]])
def test_bench_ibkr_is_the_ibkr_bench_and_fails_on_failure(
        argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``openclaw-trading bench ibkr`` runs the same harness as ``openclaw-trading ibkr bench`` and
    both exit 1 when it reports a failed check (the harness itself runs in the suite test above)."""
    from typer.testing import CliRunner

    import openclaw.bench.ibkr as ibkr_bench
    from openclaw.cli import app

    calls: list[dict[str, bool]] = []

    def harness(quick: bool = False, json_out: bool = False) -> dict[str, object]:
        calls.append({"quick": quick, "json_out": json_out})
        return {"ok": len(calls) > 1}

    monkeypatch.setattr(ibkr_bench, "run_ibkr_bench", harness)
    runner = CliRunner()
    assert runner.invoke(app, [*argv, "--quick", "--json"]).exit_code == 1
    assert runner.invoke(app, argv).exit_code == 0
    assert calls == [{"quick": True, "json_out": True}, {"quick": False, "json_out": False}]
