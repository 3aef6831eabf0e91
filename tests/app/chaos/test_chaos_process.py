"""Process and disk rows: the engine in a child process, its verdict from the venues' records
and the journal after a restart (real simulators, real ccxt); and a row fails when its evidence
says so."""

from __future__ import annotations

import dataclasses

from support.aio import deadline

from openclaw.app.chaos import by_name, run_fault
from openclaw.app.chaos.process import ProcTrial, proc_run

run = deadline(60.0)


def test_kill9_in_flight_recovers_every_leg_once() -> None:
    row = run(lambda: run_fault(by_name()["proc-kill9-in-flight"]))
    assert row.ok, row.why
    assert (row.orders, row.fills, row.lost, row.duplicates) == (3, 3, 0, 0)
    assert row.books_ok is None and row.recovery_ms is not None


def test_disk_full_halts_with_nothing_unjournaled() -> None:
    row = run(lambda: run_fault(by_name()["proc-disk-full"]))
    assert row.ok, row.why
    assert row.orders >= 3 and row.lost == 0 and row.duplicates == 0


def test_second_engine_refused() -> None:
    row = run(lambda: run_fault(by_name()["proc-second-engine"]))
    assert row.ok, row.why
    assert row.orders == 0


def test_an_order_sent_behind_the_journal_is_lost() -> None:
    async def behind(t: ProcTrial) -> None:
        child = await t.spawn("hold")
        assert await t.ready(child)
        await child.kill9()
        # a leg of this engine's prefix at the venue that no journal ever held
        await t.control("okx", "POST", "/_sim/fault", {"kind": "order_reject"})
        from openclaw.execution.venues import Credentials, make_client

        client = make_client("okx", Credentials.simulator(), t.urls()["okx"])
        try:
            await client.create_order("BTC/USDT", "market", "buy", 0.01,
                                      params={"clOrdId": t.prefix + "00x"})
        except Exception:  # noqa: BLE001 - refused is fine: try once more unfaulted
            await client.create_order("BTC/USDT", "market", "buy", 0.01,
                                      params={"clOrdId": t.prefix + "00y"})
        finally:
            await client.close()
        await t.restart()

    fault = dataclasses.replace(by_name()["proc-kill9-answered"], name="behind-the-journal",
                                run=proc_run(behind))
    row = run(lambda: run_fault(fault))
    assert not row.ok and row.lost == 1, row.why
    assert any(w.startswith("lost at okx") for w in row.why), row.why
