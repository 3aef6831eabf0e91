"""``openclaw-trading config check FILE`` validates exactly what ``openclaw-trading run FILE``
accepts: crypto and IBKR files, every error at once with its path, exit 2 on a bad file (as
``run``)."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest
from support.cli import cli
from support.paths import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


_cli = partial(cli, timeout=120)


def test_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"triarb.toml", "momentum.toml", "fx.toml"} <= names, names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_passes_config_check(path: Path) -> None:
    p = _cli("config", "check", str(path))
    assert p.returncode == 0, p.stderr
    assert f"{path}: ok" in p.stdout


BROKEN_IBKR = """
[ibkr]
port = 4002
client_id = -1
bogus = 1

[fx]
pairs = ["EUR/USD"]
entry_z = "x"
ignore_window = true

[momentum]
top_n = 0

[journal]
path = "{journal}"
"""


def test_broken_ibkr_file_lists_every_error_exit_2(tmp_path: Path) -> None:
    """Schema errors first (all of them), then -- on a schema-valid file -- every strategy
    section's errors at once, each with its path; ``run`` refuses the same file with exit 2
    and the same lines, before connecting to anything."""
    journal = tmp_path / "never.sqlite"
    bad = tmp_path / "ibkr.toml"
    bad.write_text(BROKEN_IBKR.format(journal=journal))
    p = _cli("config", "check", str(bad))
    assert p.returncode == 2, (p.stdout, p.stderr)
    for path in ("ibkr.client_id:", "ibkr.bogus: Extra inputs are not permitted"):
        assert path in p.stderr, p.stderr
    # schema fixed: the sections as the run's entry points check them, all listed at once
    bad.write_text(BROKEN_IBKR.format(journal=journal).replace("client_id = -1\nbogus = 1\n",
                                                               ""))
    p = _cli("config", "check", str(bad))
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = {line.strip().split(":")[0] for line in p.stderr.splitlines()[1:]}
    assert {"fx.entry_z", "fx.ignore_window", "momentum.top_n", "momentum.universe"} <= lines, \
        p.stderr
    assert "4 error(s)" in p.stderr.splitlines()[0], p.stderr
    run = _cli("run", str(bad), "--seconds", "1")
    assert run.returncode == 2, (run.stdout, run.stderr)
    for line in p.stderr.splitlines()[1:]:
        assert line in run.stderr, (line, run.stderr)
    assert not journal.exists()


def test_ibkr_journal_synchronous_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ibkr.toml"
    bad.write_text('[fx]\npairs = ["EUR/USD"]\n\n[journal]\nsynchronous = "NORMAL"\n')
    p = _cli("config", "check", str(bad))
    assert p.returncode == 2
    assert "journal: Value error, synchronous is not configurable for IBKR runs" in p.stderr


def test_crypto_run_checks_listed_at_once(tmp_path: Path) -> None:
    """Beyond the schema, what ``run`` checks before trading, in one list: credential
    variables of a live venue, instruments that the simulated market does not have."""
    cfg = tmp_path / "mixed.toml"
    cfg.write_text(
        '[venues.okx]\nmode = "live"\nws = "wss://ws.example/ws"\nrest = "https://r.example"\n'
        'api_key_env = "NO_SUCH_KEY_VAR_2"\nsecret_env = "NO_SUCH_SECRET_VAR_2"\n\n'
        '[venues.binance]\nmode = "sim"\n\n'
        '[[instruments]]\nvenue = "binance"\nsymbol = "BTCUSDT"\nbase = "BTC"\nquote = "USDT"\n'
        'tick_size = "0.5"\nlot_size = "0.00001"\n\n'
        '[[instruments]]\nvenue = "okx"\nsymbol = "BTC-USDT"\nbase = "BTC"\nquote = "USDT"\n'
        'tick_size = "0.1"\nlot_size = "0.00000001"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("NO_SUCH_")}
    p = _cli("config", "check", str(cfg), env=env)
    assert p.returncode == 2, (p.stdout, p.stderr)
    for path in ("venues.okx.api_key_env", "venues.okx.secret_env", "venues.okx.passphrase_env",
                 "instruments[0].tick_size"):
        assert path in p.stderr, p.stderr
    # --paper: no credentials needed (orders go to the simulators); the tick size still wrong
    p = _cli("config", "check", "--paper", str(cfg), env=env)
    assert p.returncode == 2
    assert "instruments[0].tick_size" in p.stderr and "api_key_env" not in p.stderr, p.stderr


def test_schema_errors_exit_2_with_paths(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[venues.binance]\ntaker_fee_bps = -1\n\n[journal]\nsynchronous = "fast"\n')
    p = _cli("config", "check", str(cfg))
    assert p.returncode == 2
    for path in ("venues.binance.taker_fee_bps", "instruments: Field required",
                 "journal.synchronous"):
        assert path in p.stderr, p.stderr


def test_ibkr_file_with_top_level_risk_is_refused_not_ignored(tmp_path: Path) -> None:
    """Nothing reads a top-level [risk] in an IBKR run, so it must be an error, not a no-op."""
    from openclaw.app.config import ConfigError, load_ibkr_config

    src = (ROOT / "examples" / "fx.toml").read_text(encoding="utf-8")
    bad = tmp_path / "fx_risk.toml"
    bad.write_text(src + "\n[risk]\nmax_order_notional = 1000\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_ibkr_config(bad)
    assert "[risk] is not read by IBKR runs" in str(e.value)
    load_ibkr_config(ROOT / "examples" / "fx.toml")  # the example itself stays valid
