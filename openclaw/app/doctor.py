"""Preflight (``openclaw-trading doctor [FILE]``, and the first thing ``run`` does): per venue,
is it reachable, how far is its clock, how far away is it (REST and WebSocket round trips),
what may the API key do, what do we hold, and does every configured market trade with the
metadata the run will use.

Refusals (each a line in the venue's ``problems``, which makes ``ok`` false):
  * the venue does not answer;
  * its clock is more than ``clock_limit_ms`` away from ours: the venues refuse a signed
    request stamped more than ``recvWindow`` in the past or 1 s in the future, so the limit is
    a fifth of the receive window (5000 ms -> 1000 ms), room left for the round trip and drift;
  * the key cannot trade, or **can withdraw** (a trading key must never be able to move funds
    out: Binance ``apiRestrictions``, OKX ``account/config`` ``perm``, Bybit ``query-api``);
  * an instrument the venue does not list, does not trade (halted), or whose hand-written tick,
    lot or limits disagree with the venue's metadata;
  * a configured order size (``[risk]`` ``max_order_notional``, checked in quote units) below
    the venue's minimum notional.
The probes that are one venue's own (the key endpoint, the public WebSocket's path) are in
``venues/<venue>/probe.py``; this module runs them and builds the report (JSON keys:
``venues.{name}.{reachable, clock_offset_ms, rtt_ms{p50,p99}, ws_rtt_ms{p50,p99},
permissions{trade,withdraw}, instruments_ok, problems[]}``, ``ok``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

from openclaw.app.config import Config, ConfigError, load_config, venue_urls
from openclaw.execution.metadata import MetadataCache, VenueMetadata, from_cache, venue_metadata

__all__ = ["RECV_WINDOW_MS", "clock_limit_ms", "loopback", "doctor_file", "load_venue_metadata",
           "probe_venue"]

log = logging.getLogger("openclaw.app.doctor")

#: the receive window our signed requests use (execution/fast FastConfig.recv_window_ms)
RECV_WINDOW_MS = 5000


def loopback(url: str) -> bool:
    """A venue on this machine (a simulator, whatever the mode says): never cached (its port
    changes each run, and asking it costs nothing)."""
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def clock_limit_ms(recv_window_ms: int = RECV_WINDOW_MS) -> float:
    """The largest clock offset the preflight accepts: a fifth of the receive window."""
    return recv_window_ms / 5


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q * len(s)))], 3)


async def rest_probe(client: Any, samples: int) -> tuple[float | None, list[float], str]:
    """(clock offset ms, round trips ms, error): ``samples`` server-time requests; the offset
    is the venue's time minus our clock at the middle of the fastest round trip."""
    rtts: list[float] = []
    best: tuple[float, float] | None = None
    for _ in range(max(1, samples)):
        t0 = time.time() * 1000
        m0 = time.perf_counter()
        try:
            server = await client.fetch_time()
        except Exception as e:  # noqa: BLE001 - the venue's answer (or none) is the finding
            return None, rtts, f"{type(e).__name__}: {str(e)[:160]}"
        rtt = (time.perf_counter() - m0) * 1000
        rtts.append(rtt)
        if server is not None and (best is None or rtt < best[0]):
            best = (rtt, float(server) - (t0 + rtt / 2))
    return (None if best is None else round(best[1], 1)), rtts, ""


async def ws_probe(url: str, samples: int, timeout: float = 5.0) -> tuple[list[float], str]:
    """Round trips of WebSocket ping frames on the venue's public socket."""
    import websockets

    rtts: list[float] = []
    try:
        async with websockets.connect(url, open_timeout=timeout, close_timeout=1,
                                      compression=None) as ws:
            for _ in range(max(1, samples)):
                m0 = time.perf_counter()
                pong = await ws.ping()
                await asyncio.wait_for(pong, timeout)
                rtts.append((time.perf_counter() - m0) * 1000)
    except Exception as e:  # noqa: BLE001 - reported as a problem
        return rtts, f"{type(e).__name__}: {str(e)[:160]}"
    return rtts, ""


async def load_venue_metadata(name: str, client: Any, cfg: Config, *, remote: bool,
                              endpoint: str) -> VenueMetadata:
    """The venue's metadata: from the ``[metadata]`` disk cache when a remote venue's entry is
    fresh (the client is primed: nothing asked), else from the venue (then cached); the
    simulators are always asked (cheap, and their port changes each run)."""
    mc = cfg.metadata
    cache = MetadataCache(mc.cache_dir, mc.max_age_s) if remote and not loopback(endpoint) \
        else None
    if cache is not None:
        entry = await cache.aload(name, endpoint)
        if entry is not None:
            return from_cache(name, client, entry)
    symbols = [i.unified for i in cfg.instruments if i.venue == name]
    meta = await venue_metadata(client, name, fees=mc.fees, fee_symbols=symbols)
    if cache is not None:
        try:
            await cache.asave(name, endpoint, meta, client.markets)
        except OSError as e:
            log.warning("metadata cache not written", extra={"venue": name, "error": str(e)})
    return meta


def _size_problems(cfg: Config, name: str, meta: VenueMetadata) -> list[str]:
    """Configured order sizes ([risk] max_order_notional) below the venue's minimum."""
    out = []
    for inst in (cfg.risk or {}).get("instruments", []) or []:
        if inst.get("venue") != name:
            continue
        m = meta.find(str(inst.get("symbol", "")))
        cap = inst.get("max_order_notional")
        if m is None or cap is None or m.min_notional is None:
            continue
        if Decimal(str(cap)) < m.min_notional:
            out.append(f"{m.unified}: max_order_notional {cap} is below the venue's minimum "
                       f"notional {format(m.min_notional.normalize(), 'f')}")
    return out


async def probe_venue(name: str, cfg: Config, client: Any, ws_url: str, *, remote: bool,
                      endpoint: str, samples: int = 10, ws_samples: int = 5,
                      balances: bool = True, keep: dict[str, VenueMetadata] | None = None
                      ) -> dict[str, Any]:
    """One venue's report (see the module docstring for what refuses); the metadata read is
    left in ``keep[name]`` when given."""
    from openclaw.app.instruments import check_instrument
    from openclaw.venues.registry import PROBES

    probe = PROBES[name]
    rep: dict[str, Any] = {"reachable": False, "clock_offset_ms": None,
                           "rtt_ms": {"p50": None, "p99": None},
                           "ws_rtt_ms": {"p50": None, "p99": None},
                           "permissions": {"trade": None, "withdraw": None},
                           "instruments_ok": False, "problems": []}
    problems: list[str] = rep["problems"]
    offset, rtts, err = await rest_probe(client, samples)
    rep["rtt_ms"] = {"p50": _pct(rtts, 0.5), "p99": _pct(rtts, 0.99)}
    if err:
        problems.append(f"unreachable: {err}")
        return rep
    rep["reachable"] = True
    rep["clock_offset_ms"] = offset
    limit = clock_limit_ms()
    if offset is not None and abs(offset) > limit:
        problems.append(f"clock offset {offset:+.0f} ms is beyond {limit:.0f} ms (a fifth of "
                        f"recvWindow {RECV_WINDOW_MS} ms): signed requests would be refused; "
                        "sync this machine's clock (chrony/NTP)")
    wrtts, werr = await ws_probe(ws_url, ws_samples)
    rep["ws_rtt_ms"] = {"p50": _pct(wrtts, 0.5), "p99": _pct(wrtts, 0.99)}
    if werr:
        problems.append(f"public WebSocket {ws_url}: {werr}")
    try:
        perms = await probe.key_permissions(client)
        rep["permissions"] = {"trade": perms.trade, "withdraw": perms.withdraw,
                              "ip_restricted": perms.ip_restricted}
        if not perms.trade:
            problems.append("the API key cannot trade spot")
        if perms.withdraw:
            problems.append("the API key can withdraw funds: refused (make a key without "
                            "withdrawal permission)")
    except Exception as e:  # noqa: BLE001 - reported
        problems.append(f"key permissions unreadable: {type(e).__name__}: {str(e)[:160]}")
    try:
        meta = await load_venue_metadata(name, client, cfg, remote=remote, endpoint=endpoint)
    except Exception as e:  # noqa: BLE001 - reported
        problems.append(f"metadata unreadable: {type(e).__name__}: {str(e)[:160]}")
        return rep
    if keep is not None:
        keep[name] = meta
    rep["metadata_source"] = meta.source
    rep["metadata_age_s"] = round(meta.age_s, 1)
    inst_problems: list[str] = []
    listed: list[dict[str, Any]] = []
    for i, inst in enumerate(cfg.instruments):
        if inst.venue != name:
            continue
        m = meta.find(inst.unified) or meta.find(inst.symbol)
        inst_problems += [f"{path}: {msg}" for path, msg in check_instrument(i, inst, m)]
        if m is not None:
            listed.append(m.as_dict())
    inst_problems += _size_problems(cfg, name, meta)
    rep["instruments"] = listed
    rep["instruments_ok"] = not inst_problems
    problems += inst_problems
    if balances:
        traded = sorted({a for i in cfg.instruments if i.venue == name
                         for a in (i.base or i.unified.split("/")[0],
                                   i.quote or i.unified.split("/")[1])})
        try:
            bal = await client.fetch_balance()
            total = bal.get("total") or {}
            rep["balances"] = {a: total.get(a, 0) for a in traded}
        except Exception as e:  # noqa: BLE001 - reported
            problems.append(f"balances unreadable: {type(e).__name__}: {str(e)[:160]}")
    return rep


class _Clients:
    """The ccxt clients (and the simulators, when a venue is ``sim`` or ``--paper``) of a
    config's venues, as the run makes them; ``async with``: all closed at the end."""

    def __init__(self, cfg: Config, paper: bool, seed: int) -> None:
        self.cfg, self.paper, self.seed = cfg, paper, seed
        self.sims: Any = None
        self.clients: list[Any] = []

    async def __aenter__(self) -> _Clients:
        if self.paper or any(not v.remote for v in self.cfg.venues.values()):
            from openclaw.app.runner import start_run_simulators

            self.sims = await start_run_simulators(self.seed)
        return self

    def venue(self, name: str) -> dict[str, Any]:
        """client, ws, endpoint, remote, mode of one venue (KeyError: credentials unset)."""
        from openclaw.execution.venues import Credentials, make_client
        from openclaw.model.venues import crypto_venue

        v = self.cfg.venues[name]
        if not v.remote or self.paper:
            s = self.sims.servers[name]
            client = make_client(name, Credentials.simulator(), s.url)
            out = {"ws": getattr(s, crypto_venue(name).sim_ws_attr), "endpoint": s.url,
                   "remote": False, "mode": "sim"}
        else:
            urls = venue_urls(name, v)
            creds = Credentials.from_env(v.api_key_env, v.secret_env, v.passphrase_env)
            client = make_client(name, creds, urls.rest, headers=urls.headers)
            out = {"ws": urls.ws, "endpoint": urls.rest, "remote": True, "mode": v.mode}
        self.clients.append(client)
        return {"client": client, **out}

    async def __aexit__(self, *exc: object) -> None:
        for c in self.clients:
            try:
                await c.close()
            except Exception:  # noqa: BLE001 - closing: nothing left to report
                log.debug("client close failed", exc_info=True)
        if self.sims is not None:
            await self.sims.aclose()


async def doctor_config(cfg: Config, *, paper: bool = False, seed: int = 7, samples: int = 10,
                        ws_samples: int = 5) -> dict[str, Any]:
    """Probe every venue of ``cfg`` (starting the simulators for ``sim`` venues or
    ``--paper``, as the run would); the report with ``ok``."""
    from openclaw.venues.registry import PROBES

    out: dict[str, Any] = {"venues": {}, "ok": False}
    async with _Clients(cfg, paper, seed) as cs:
        for name in cfg.venues:
            try:
                c = cs.venue(name)
            except KeyError as e:
                out["venues"][name] = {
                    "reachable": False, "clock_offset_ms": None,
                    "rtt_ms": {"p50": None, "p99": None},
                    "ws_rtt_ms": {"p50": None, "p99": None},
                    "permissions": {"trade": None, "withdraw": None},
                    "instruments_ok": False, "problems": [str(e.args[0])]}
                continue
            rep = await probe_venue(name, cfg, c["client"], PROBES[name].public_ws_url(c["ws"]),
                                    remote=c["remote"], endpoint=c["endpoint"],
                                    samples=samples, ws_samples=ws_samples)
            rep["mode"] = c["mode"]
            rep["endpoints"] = {"rest": c["endpoint"], "ws": c["ws"]}
            out["venues"][name] = rep
    out["ok"] = bool(out["venues"]) and all(not r["problems"] for r in out["venues"].values())
    return out


async def config_metadata(cfg: Config, source: str, *, paper: bool = False, seed: int = 7
                          ) -> dict[str, Any]:
    """What ``config check`` shows: per venue, the metadata of each configured market as the
    run will use it (from the venue or the cache) and the taker fee; ConfigError listing every
    venue that cannot be read and every hand-written value the venue contradicts."""
    from openclaw.app.instruments import apply_metadata, taker_fees

    metas: dict[str, VenueMetadata] = {}
    errors: list[tuple[str, str]] = []
    async with _Clients(cfg, paper, seed) as cs:
        for name in cfg.venues:
            try:
                c = cs.venue(name)
                metas[name] = await load_venue_metadata(name, c["client"], cfg,
                                                        remote=c["remote"],
                                                        endpoint=c["endpoint"])
            except Exception as e:  # noqa: BLE001 - listed
                msg = str(e.args[0]) if isinstance(e, KeyError) else \
                    f"metadata unreadable: {type(e).__name__}: {str(e)[:160]}"
                errors.append((f"venues.{name}", msg))
    try:
        resolved = apply_metadata(cfg, metas, source)
    except ConfigError as e:
        errors += e.errors
        resolved = cfg
    if errors:
        raise ConfigError(source, errors)
    fees = taker_fees(resolved, metas)
    out: dict[str, Any] = {}
    for name, vm in metas.items():
        insts = []
        for inst in resolved.instruments:
            if inst.venue == name and (m := vm.find(inst.symbol)) is not None:
                insts.append(m.as_dict())
        out[name] = {"source": vm.source, "age_s": round(vm.age_s, 1), "instruments": insts,
                     "taker_fee_bps": fees[name]["bps"], "fee_source": fees[name]["source"]}
    return out


async def doctor_file(path: str, *, paper: bool = False, seed: int = 7, samples: int = 10,
                      ws_samples: int = 5) -> dict[str, Any]:
    """``openclaw-trading doctor FILE``: the file (ConfigError when unusable), then every
    venue probed."""
    cfg = await asyncio.to_thread(load_config, path)
    if not isinstance(cfg, Config):     # pragma: no cover - load_config returns Config
        raise ConfigError(path, [("(file)", "not a crypto run file")])
    return await doctor_config(cfg, paper=paper, seed=seed, samples=samples,
                               ws_samples=ws_samples)
