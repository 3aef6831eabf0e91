"""``openclaw-trading run FILE``: a configured system until stopped."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.render import ConsoleStream, console, json_text, print_run_summary
from openclaw.cli.root import app


@app.command("run")
def run_cmd(
    path: Path = typer.Argument(..., help="a TOML configuration file"),  # noqa: B008
    paper: bool = typer.Option(
        False, "--paper", help="Orders to the local simulators; feeds as configured."
    ),
    log_format: str = typer.Option("human", "--log-format", help="json or human (stderr)."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after S seconds."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market (sim venues)."),
    drain: float = typer.Option(
        10.0, "--drain", help="Seconds in-flight order lists get at shutdown."
    ),
    role: list[str] | None = typer.Option(  # noqa: B008
        None, "--role", help="feed, strategy, execution or observer (repeatable); needs the bus "
        "section of the file (docs/bus.md). Without it: the single process."
    ),
) -> None:
    """Start what the config names (feeds, strategies, execution, alerts) until SIGINT/SIGTERM."""
    if log_format not in ("json", "human"):
        typer.echo(f"error: --log-format must be json or human, not {log_format!r}", err=True)
        raise typer.Exit(code=2)
    code = run_file(str(path), paper=paper, log_format=log_format, seconds=seconds, seed=seed,
                    drain_timeout=drain, roles=role or None)
    if code:
        raise typer.Exit(code=code)


def run_file(path: str, *, paper: bool = False, log_format: str = "human",
             seconds: float | None = None, seed: int = 7, drain_timeout: float = 10.0,
             roles: list[str] | None = None) -> int:
    """``openclaw-trading run``: returns the exit code (0 ok, 1 run problems, 2 bad
    configuration). A terminal gets a live status line above the log; the summary is JSON with
    ``--log-format json``, tables otherwise."""
    import asyncio
    import logging
    import sys
    import tomllib

    from rich.live import Live

    from openclaw.app.config import ConfigError, load_config
    from openclaw.app.runner import install_event_loop_policy, is_ibkr_file, run_config, run_ibkr
    from openclaw.logs import setup_logging

    log = logging.getLogger("openclaw.runner")
    setup_logging("json" if log_format == "json" else "human")
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}                      # load_config reports the file or syntax error
    if is_ibkr_file(data):
        install_event_loop_policy()
        try:
            summary = asyncio.run(run_ibkr(path, paper=paper, seconds=seconds, seed=seed,
                                           drain_timeout=drain_timeout))
        except ConfigError as e:
            print(str(e), file=sys.stderr)
            return 2
        print(json_text(summary))
        return 0 if summary["ok"] else 1
    try:
        cfg = load_config(path)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    loop_name = install_event_loop_policy()
    log.info("starting", extra={"config": str(path), "loop": loop_name})
    if roles:                          # roles across processes on the bus (docs/bus.md)
        from openclaw.app.roles import run_roles

        try:
            summary = asyncio.run(run_roles(cfg, roles, paper=paper, seconds=seconds,
                                            source=str(path), seed=seed,
                                            drain_timeout=drain_timeout))
        except ConfigError as e:
            print(str(e), file=sys.stderr)
            return 2
        print(json_text(summary))
        return 0 if summary["ok"] else 1
    live = None
    status = None
    if log_format == "human" and sys.stderr.isatty():
        err = console(stderr=True)
        live = Live("", console=err, refresh_per_second=2, transient=True)
        live.start()
        status = live.update
        # log lines go above the status line instead of through it
        setup_logging("human", stream=ConsoleStream(err))  # type: ignore[arg-type]
    try:
        summary = asyncio.run(run_config(cfg, paper=paper, seconds=seconds, source=str(path),
                                         seed=seed, drain_timeout=drain_timeout, status=status))
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - e.g. feeds never LIVE: everything started was closed
        log.exception("run failed")
        return 1
    finally:
        if live is not None:
            live.stop()
    if log_format == "json":
        print(json_text(summary))
    else:
        print_run_summary(summary)
    return 0 if summary["ok"] else 1
