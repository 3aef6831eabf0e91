"""``openclaw-trading backtest`` / ``record`` / ``bench record``: options listed, a missing
recording refused with exit 2 and a message naming it (in-process, no recording made)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from openclaw.cli import app


def test_backtest_record_and_bench_record_help_list_their_options(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, options in ((["backtest"], ("--config", "--json", "--seed", "--latency-us")),
                          (["record"], ("--dir", "--seconds", "--seed")),
                          (["bench", "record"], ("--json", "--quick", "--reps", "--recording",
                                                 "--profile"))):
        res = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        for opt in options:
            assert opt in res.output, (args, opt)
    missing = tmp_path / "no-such-recording"
    res = runner.invoke(app, ["backtest", str(missing)], env={"COLUMNS": "200"})
    assert res.exit_code == 2
    assert "no such file or directory" in res.output and "no-such-recording" in res.output
