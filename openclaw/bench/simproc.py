"""A simulator in a child process, driven with asyncio (never a blocking call on the loop).

The benchmarks run the simulators (``python -m openclaw.sim``, ``python -m openclaw.sim.tws``)
in another process, like a real venue or gateway. Each simulator prints one JSON line with its
address(es) on stdout when it is ready; ``SimProcess`` starts it, waits for that line (with a
deadline), keeps reading stderr (a pipe nobody reads would stall the child once full) and stops
it with SIGTERM, then SIGKILL after a timeout.

    async with SimProcess(module_args("openclaw.sim.tws", "--port", "0")) as sim:
        url = sim.info["urls"]["tws"]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["SimProcess", "SimProcessError", "module_args"]


class SimProcessError(RuntimeError):
    """The simulator process did not start (exited early, or printed no JSON line in time)."""


def module_args(module: str, *args: str) -> list[str]:
    """``[python, "-m", module, *args]`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


class SimProcess:
    """A child process that prints one JSON line (``{...}``) on stdout when it is ready.

    ``start`` returns that line parsed (also ``info``); ``stderr_lines`` keeps the child's
    stderr (the last ``keep_stderr`` lines); ``stop`` returns the exit code.
    """

    def __init__(self, args: Sequence[str], *, start_timeout: float = 30.0,
                 keep_stderr: int = 10_000) -> None:
        if not args:
            raise ValueError("SimProcess needs a command line")
        if start_timeout <= 0:
            raise ValueError(f"start_timeout must be > 0, not {start_timeout}")
        self.args = list(args)
        self.start_timeout = start_timeout
        self.keep_stderr = keep_stderr
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, Any] = {}
        self.stderr_lines: list[str] = []
        self._stderr_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = "not started" if self.proc is None else f"pid {self.proc.pid}"
        return f"SimProcess({' '.join(self.args[1:])!r}, {state})"

    @property
    def pid(self) -> int:
        """Process id of the running child."""
        if self.proc is None:
            raise SimProcessError("the simulator process is not started")
        return self.proc.pid

    async def start(self) -> dict[str, Any]:
        """Spawn the child and wait for its JSON line (``SimProcessError`` if it exits first
        or prints none within ``start_timeout``); the child is killed on failure."""
        if self.proc is not None:
            raise SimProcessError("already started")
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self._stderr_task = asyncio.create_task(self._read_stderr())
        try:
            self.info = await asyncio.wait_for(self._ready_line(), self.start_timeout)
        except TimeoutError:
            await self.stop()
            raise SimProcessError(f"{' '.join(self.args)} printed no JSON line in "
                                  f"{self.start_timeout} s") from None
        except BaseException:
            await self.stop()
            raise
        return self.info

    async def _ready_line(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:  # exited: collect its last words for the error
                await self.proc.wait()
                if self._stderr_task is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self._stderr_task), 2.0)
                raise SimProcessError(
                    f"simulator exited (code {self.proc.returncode}) before it was ready: "
                    + " | ".join(self.stderr_lines[-5:]))
            text = line.decode(errors="replace").strip()
            if text.startswith("{"):
                try:
                    data = json.loads(text)
                except ValueError as e:
                    raise SimProcessError(f"simulator printed a bad JSON line: {e}") from None
                if not isinstance(data, dict):
                    raise SimProcessError(f"simulator printed {type(data).__name__}, not {{}}")
                return data

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr_lines.append(line.decode(errors="replace").rstrip())
            if len(self.stderr_lines) > self.keep_stderr:
                del self.stderr_lines[: len(self.stderr_lines) - self.keep_stderr]

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; returns the exit code (None if it
        was never started)."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(self._stderr_task, 2.0)
            except TimeoutError:  # a grandchild holds the pipe open: stop reading
                self._stderr_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._stderr_task
        return self.proc.returncode

    async def __aenter__(self) -> SimProcess:
        """``start`` (``async with SimProcess(...) as sim``)."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """``stop``."""
        await self.stop()
