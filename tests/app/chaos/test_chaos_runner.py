"""The chaos runner cannot pass vacuously: a catalogue entry whose check is violated fails its
row with the reason, and an order the journal never saw is counted lost from the venue's own
record (real simulators, real ccxt, one fresh system per fault)."""

from __future__ import annotations

import dataclasses

from support.aio import deadline

from openclaw.app.chaos import ROW_KEYS, Trial, by_name, run_catalogue, run_fault
from openclaw.app.chaos.catalogue import filled_once, one_list

run = deadline(90.0)


def test_a_row_fails_when_its_check_is_violated() -> None:
    # test-only entry: a rejected leg checked as if the venue had executed it
    wrong = dataclasses.replace(by_name()["order-reject-okx"], name="reject-checked-as-filled",
                                act=one_list("order_reject", filled_once))
    got = run(lambda: run_catalogue([by_name()["order-reject-okx"], wrong]))
    right, broken = got["faults"]
    assert right.ok and right.why == []
    assert not broken.ok and not got["ok"]
    assert any("0 orders at the venue" in w for w in broken.why), broken.why
    assert any("faulted leg is rejected" in w for w in broken.why), broken.why
    assert list(broken.as_json()) == list(ROW_KEYS)


def test_an_order_the_journal_never_saw_is_lost() -> None:
    async def behind_the_journals_back(t: Trial) -> None:
        t.recovered()
        ids = t.r.manager.ids
        cid = ids.make(ids.next_opportunity(), 0)
        await t.r.routes["okx"].client.create_order("BTC/USDT", "market", "buy", 0.01,
                                                    params={"clOrdId": cid})

    fault = dataclasses.replace(by_name()["order-reject-okx"], name="order-outside-the-journal",
                                act=behind_the_journals_back, alert_match="", min_alerts=0)
    row = run(lambda: run_fault(fault))
    assert not row.ok
    assert row.lost == 1 and row.duplicates == 0
    assert any(w.startswith("lost at okx") for w in row.why), row.why


def test_a_fault_without_recovery_is_not_ok() -> None:
    async def nothing(t: Trial) -> None:
        return None

    fault = dataclasses.replace(by_name()["md-tcp-drop-okx"], name="nothing-observed",
                                act=nothing)
    row = run(lambda: run_fault(fault))
    assert not row.ok and row.recovery_ms is None
    assert row.why == ["no recovery was observed"]
