"""The benchmarks' simulator child process (``openclaw.bench.simproc``): asyncio, never blocking."""

from __future__ import annotations

import asyncio

import pytest
from support.twsclient import run

from openclaw.bench.ibkr import start_sim_process
from openclaw.bench.simproc import SimProcess, SimProcessError, module_args


def test_tws_simulator_child_starts_without_blocking_the_loop_and_stops() -> None:
    async def body() -> None:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:  # runs only while the loop is free
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        bg = asyncio.create_task(ticker())
        sim = await start_sim_process(seed=1, universe=10)
        stop.set()
        await bg
        try:
            # the child needs well over one 5 ms step to import and bind: the loop ran meanwhile
            assert ticks > 1
            reader, writer = await asyncio.open_connection(sim.host, sim.port)
            writer.close()
            await writer.wait_closed()
        finally:
            code = await sim.stop()
        assert code == 0 and sim.proc is not None and sim.proc.returncode == 0

    run(body)


def test_a_child_that_exits_early_is_a_typed_error_with_its_stderr() -> None:
    async def body() -> None:
        sim = SimProcess(module_args("openclaw.no_such_simulator"))
        with pytest.raises(SimProcessError, match="no_such_simulator"):
            await sim.start()
        assert sim.proc is not None and sim.proc.returncode not in (None, 0)

    run(body)
