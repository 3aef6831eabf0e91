"""``openclaw-trading sim``: the local venue simulators, until stopped."""

from __future__ import annotations

import typer

from openclaw.cli.root import app


class JsonLinesOnly:
    """A stdout stand-in that lets through only lines starting with ``{`` (``sim --json``)."""

    def __init__(self, out: object) -> None:
        self._out = out
        self._buf = ""

    def write(self, text: str) -> int:
        self._buf += text
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            if line.startswith("{"):
                self._out.write(line + "\n")  # type: ignore[attr-defined]
        return len(text)

    def flush(self) -> None:
        self._out.flush()  # type: ignore[attr-defined]


@app.command("sim")
def sim_cmd(
    servers: list[str] = typer.Argument(  # noqa: B008
        None, help="binance, okx, bybit, tws, telegram or all (default: all)."
    ),
    port: int | None = typer.Option(None, "--port", help="Port of the one selected server."),
    seed: int = typer.Option(1, "--seed", help="Market seed."),
    rate: float = typer.Option(10.0, "--rate", help="Market steps per second."),
    paused: bool = typer.Option(False, "--paused", help="Start with the market clock paused."),
    okx_checksum: str = typer.Option(
        "zero", "--okx-checksum", help="OKX books checksum: zero (live since 2026-06) or real."
    ),
    okx_no_snapshot: bool = typer.Option(
        False, "--okx-no-snapshot", help="OKX sends no initial WS snapshot (REST-seeded flow)."
    ),
    depth: int = typer.Option(250, "--depth", help="Levels per side."),
    key: str | None = typer.Option(None, "--key", help="API key (default openclaw-test-key)."),
    secret: str | None = typer.Option(
        None, "--secret", help="API secret (default openclaw-test-secret)."
    ),
    passphrase: str | None = typer.Option(
        None, "--passphrase", help="OKX passphrase (default openclaw-test-pass)."
    ),
    universe: int = typer.Option(500, "--universe", help="TWS: number of synthetic stocks."),
    hist_limit: int = typer.Option(
        60, "--hist-limit", help="TWS: historical requests per 10 minutes (IB: 60)."),
    json_out: bool = typer.Option(
        False, "--json", help="Print only the JSON line of URLs on stdout."
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log at INFO level."),
) -> None:
    """Run local simulators on 127.0.0.1 until SIGINT/SIGTERM and print their URLs.

    Crypto venues speak Binance/OKX/Bybit WebSocket + REST (trading balances in
    openclaw/sim/README.md), tws the TWS socket API, telegram the Bot API (token from
    OPENCLAW_TELEGRAM_TOKEN or a test token).
    """
    import contextlib
    import sys

    from openclaw.sim.__main__ import build_parser, selected_servers
    from openclaw.sim.__main__ import main as sim_main

    argv = [*(servers or ["all"]), "--seed", str(seed), "--rate", str(rate), "--depth",
            str(depth), "--okx-checksum", okx_checksum, "--universe", str(universe),
            "--hist-limit", str(hist_limit)]
    argv += ["--paused"] * paused + ["--okx-no-snapshot"] * okx_no_snapshot
    argv += ["--verbose"] * verbose
    if port is not None:
        argv += ["--port", str(port)]
    for flag, value in (("--key", key), ("--secret", secret), ("--passphrase", passphrase)):
        if value is not None:
            argv += [flag, value]
    try:
        selected_servers(build_parser().parse_args(argv))  # same validation as python -m
    except SystemExit as e:
        raise typer.Exit(code=2) from e
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    out = JsonLinesOnly(sys.stdout) if json_out else sys.stdout
    with contextlib.redirect_stdout(out):  # type: ignore[type-var]
        code = sim_main(argv)
    if code:
        raise typer.Exit(code=code)
