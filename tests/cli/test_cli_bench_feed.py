"""``openclaw-trading bench feed`` (micro-benchmark and ``--load``): output shape and failure paths.

Figures are never asserted here (they are benchmark results, not test outcomes); what is tested
is that the tool runs the live code path end to end, checks its books and reports honestly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial

import pytest
from support.cli import cli
from typer.testing import CliRunner

import openclaw.bench.feed as feed
from openclaw.cli import app

_cli = partial(cli, timeout=60)


def test_bench_feed_json_shape() -> None:
    proc = _cli("bench", "feed", "--json", "--messages", "300", "--reps", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)          # exactly one JSON object on stdout
    assert result["ok"] and result["python"]
    rows = {(r["case"], r["impl"]): r for r in result["cases"]}
    assert set(rows) == {(c, i) for c in feed.CASES for i in feed.IMPLS}
    for (_case, impl), row in rows.items():
        assert row["median_ns"] > 0
        if impl == "openclaw":
            assert row["ratio"] == 1.0 and isinstance(row["meets_target"], bool)
    assert result["frames"]["okx"]["book_levels"] == [400, 400]
    assert result["frames"]["bybit"]["book_levels"] == [50, 50]
    assert "generating 300 frames" in proc.stderr       # progress goes to stderr


def test_bench_feed_exits_1_when_a_book_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    real = feed.generate_cases

    def tampered(*args: object, **kw: object) -> dict[str, feed.FeedCase]:
        cases = real(*args, **kw)  # type: ignore[arg-type]
        okx = cases["okx"]
        cases["okx"] = replace(okx, truth_asks=okx.truth_asks[:-1])   # truth one level short
        return cases

    monkeypatch.setattr(feed, "generate_cases", tampered)
    res = CliRunner().invoke(app, ["bench", "feed", "--json", "--messages", "100", "--reps", "1"])
    assert res.exit_code == 1
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert last["ok"] is False and "okx" in last["error"]


def test_load_options_need_load() -> None:
    res = CliRunner().invoke(app, ["bench", "feed", "--seconds", "5"])
    assert res.exit_code == 2


def test_load_test_runs_end_to_end() -> None:
    """Three seconds at a low rate: a simulator subprocess, the Aggregator, the checks."""
    proc = _cli("bench", "feed", "--load", "--seconds", "3", "--rate", "1500", "--json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(proc.stdout)
    assert r["ok"] and r["problems"] == []
    assert r["messages"] > 0 and r["resyncs"] == 0 and r["reconnects"] == 0
    assert sum(f["received"] for f in r["by_feed"].values()) == r["messages"]
    for name in ("bybit:spot", "bybit:linear"):
        assert r["by_feed"][name]["sent"] == r["by_feed"][name]["received"]
    assert len(r["books"]) == 11 and all(b["equal"] for b in r["books"].values())
    assert all(b["seq"] == b["sim_seq"] for b in r["books"].values())
    assert r["latency"]["samples"] >= r["messages"] * 0.9
    assert r["rss_kb"]["start"] > 0 and r["rss_kb"]["end"] > 0
    assert isinstance(r["targets_met"], bool) and set(r["targets"]) == {
        "rate", "p99", "no_drop", "flat_memory"}
