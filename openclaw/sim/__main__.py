"""``python -m openclaw.sim``: run the three venue simulators until interrupted.

Prints one line per venue, then a JSON line with every URL (for scripts that start the
simulators as a subprocess and parse the ports).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from openclaw.sim import start_simulators
from openclaw.sim._base import dumps


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (shared with the future ``openclaw sim`` command)."""
    p = argparse.ArgumentParser(prog="python -m openclaw.sim", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--binance-port", type=int, default=0)
    p.add_argument("--okx-port", type=int, default=0)
    p.add_argument("--bybit-port", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, default=10.0, help="market steps per second")
    p.add_argument("--depth", type=int, default=250, help="levels per side")
    p.add_argument("--paused", action="store_true", help="start with the market clock paused")
    p.add_argument("--okx-checksum", choices=("zero", "real"), default="zero")
    p.add_argument(
        "--okx-no-snapshot", action="store_true", help="no initial WS snapshot (REST-seeded flow)"
    )
    p.add_argument("--api-key", help="trading API key (default openclaw-test-key)")
    p.add_argument("--api-secret", help="trading API secret (default openclaw-test-secret)")
    p.add_argument("--api-passphrase", help="OKX passphrase (default openclaw-test-pass)")
    p.add_argument("--no-trading", action="store_true", help="serve market data only")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


async def run(args: argparse.Namespace) -> None:
    """Start the simulators, print their URLs, wait for SIGINT/SIGTERM, stop."""
    creds = {"api_key": args.api_key, "secret": args.api_secret, "passphrase": args.api_passphrase}
    trading = False if args.no_trading else {k: v for k, v in creds.items() if v is not None}
    sims = await start_simulators(
        host=args.host,
        ports={"binance": args.binance_port, "okx": args.okx_port, "bybit": args.bybit_port},
        seed=args.seed,
        rate=args.rate,
        depth=args.depth,
        paused=args.paused,
        okx_checksum=args.okx_checksum,
        okx_initial_snapshot=not args.okx_no_snapshot,
        trading=trading,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        for venue, urls in sims.urls.items():
            print(f"{venue:8s} " + "  ".join(f"{k}={v}" for k, v in urls.items()), flush=True)
        print(dumps({"urls": sims.urls}), flush=True)
        await stop.wait()
    finally:
        await sims.aclose()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
