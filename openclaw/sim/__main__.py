"""``python -m openclaw.sim [binance|okx|bybit|tws|telegram|all ...]``: run simulators until
interrupted.

Prints one line per server, then a JSON line with every URL (for scripts that start the
simulators as a subprocess and parse the ports). The crypto venues share one market and clock;
the TWS gateway and the Telegram Bot API fake run beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from openclaw.sim import CRYPTO_VENUES, start_venues, venue_urls
from openclaw.sim.engine.base import dumps

SERVERS = (*CRYPTO_VENUES, "tws", "telegram")
DEFAULT_TELEGRAM_TOKEN = "123456789:openclaw-test-token"
TELEGRAM_TOKEN_ENV = "OPENCLAW_TELEGRAM_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (shared with ``openclaw-trading sim``)."""
    p = argparse.ArgumentParser(prog="python -m openclaw.sim", description=__doc__)
    p.add_argument(
        "servers", nargs="*", default=["all"], metavar="SERVER",
        help=f"any of {', '.join(SERVERS)}, or all (default)",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None,
                   help="port of the one selected server (default: ephemeral)")
    p.add_argument("--binance-port", type=int, default=0)
    p.add_argument("--okx-port", type=int, default=0)
    p.add_argument("--bybit-port", type=int, default=0)
    p.add_argument("--tws-port", type=int, default=0)
    p.add_argument("--telegram-port", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, default=10.0, help="market steps per second")
    p.add_argument("--depth", type=int, default=250, help="levels per side")
    p.add_argument("--paused", action="store_true", help="start with the market clock paused")
    p.add_argument("--okx-checksum", choices=("zero", "real"), default="zero")
    p.add_argument(
        "--okx-no-snapshot", action="store_true", help="no initial WS snapshot (REST-seeded flow)"
    )
    p.add_argument("--api-key", "--key", dest="api_key",
                   help="trading API key (default openclaw-test-key)")
    p.add_argument("--api-secret", "--secret", dest="api_secret",
                   help="trading API secret (default openclaw-test-secret)")
    p.add_argument("--api-passphrase", "--passphrase", dest="api_passphrase",
                   help="OKX passphrase (default openclaw-test-pass)")
    p.add_argument("--no-trading", action="store_true", help="serve market data only")
    p.add_argument("--universe", type=int, default=500, help="TWS: number of synthetic stocks")
    p.add_argument("--hist-limit", type=int, default=60,
                   help="TWS: historical requests per 10 minutes before error 162 (IB: 60)")
    p.add_argument("--telegram-token-env", default=TELEGRAM_TOKEN_ENV,
                   help="Telegram fake: environment variable holding the bot token "
                        f"(unset: the test token {DEFAULT_TELEGRAM_TOKEN.split(':')[0]}:...)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def selected_servers(args: argparse.Namespace) -> list[str]:
    """The servers named on the command line, in canonical order; ValueError on a bad name or a
    ``--port`` that does not name exactly one server."""
    names = set(args.servers)
    bad = sorted(names - {*SERVERS, "all"})
    if bad:
        choices = ", ".join((*SERVERS, "all"))
        raise ValueError(f"unknown simulator {', '.join(bad)}; choose from {choices}")
    chosen = list(SERVERS) if "all" in names else [s for s in SERVERS if s in names]
    if args.port is not None and len(chosen) != 1:
        raise ValueError("--port needs exactly one simulator; use --<name>-port with several")
    if args.universe < 1:
        raise ValueError("--universe must be >= 1")
    if args.hist_limit < 1:
        raise ValueError("--hist-limit must be >= 1")
    return chosen


def _port(args: argparse.Namespace, name: str) -> int:
    port = args.port if args.port is not None else getattr(args, f"{name}_port")
    return int(port)


async def run(args: argparse.Namespace) -> None:
    """Start the selected simulators, print their URLs, wait for SIGINT/SIGTERM, stop."""
    chosen = selected_servers(args)
    urls: dict[str, dict[str, Any]] = {}
    stops: list[Any] = []
    try:
        crypto = [v for v in chosen if v in CRYPTO_VENUES]
        if crypto:
            creds = {"api_key": args.api_key, "secret": args.api_secret,
                     "passphrase": args.api_passphrase}
            trading = False if args.no_trading else {k: v for k, v in creds.items() if v}
            _, clock, servers = await start_venues(
                crypto, host=args.host, ports={v: _port(args, v) for v in crypto},
                seed=args.seed, rate=args.rate, depth=args.depth, paused=args.paused,
                okx_checksum=args.okx_checksum, okx_initial_snapshot=not args.okx_no_snapshot,
                trading=trading,
            )
            stops.append(clock.stop)
            stops.extend(server.stop for server in servers.values())
            urls.update({name: venue_urls(server) for name, server in servers.items()})
        if "tws" in chosen:
            from openclaw.sim.tws.server import start_tws

            tws = await start_tws(seed=args.seed, host=args.host, port=_port(args, "tws"),
                                  universe_size=args.universe,
                                  hist_pacing_limit=args.hist_limit)
            stops.append(tws.aclose)
            urls["tws"] = {"host": tws.host, "port": tws.port}
        if "telegram" in chosen:
            from openclaw.sim.telegram import TelegramSim

            token = os.environ.get(args.telegram_token_env) or DEFAULT_TELEGRAM_TOKEN
            tg = await TelegramSim(token, host=args.host, port=_port(args, "telegram")).start()
            stops.append(tg.stop)
            urls["telegram"] = {"api": tg.url, "control": tg.url}
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        for name, server_urls in urls.items():
            print(f"{name:8s} " + "  ".join(f"{k}={v}" for k, v in server_urls.items()),
                  flush=True)
        print(dumps({"urls": urls}), flush=True)
        await stop.wait()
    finally:
        for close in stops:
            await close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 after a clean stop, 2 on bad arguments, 1 if a port cannot be bound."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        selected_servers(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        asyncio.run(run(args))
    except OSError as e:
        print(f"error: cannot serve on {args.host}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
