"""Stage clock and latency report: known timestamps give known statistics."""

import numpy as np
import pytest

from openclaw._core.stageclock import StageClock
from openclaw.latency import latency_report
from openclaw.model.errors import CapacityError


def test_ring_keeps_the_last_events() -> None:
    c = StageClock(["recv", "book"], capacity=3)
    for i in range(5):
        e = c.start(100 * (i + 1))
        c.mark(e, 1, 100 * (i + 1) + i)
    assert c.n_events == 5
    assert c.snapshot()[:, 0].tolist() == [300, 400, 500]
    c.mark(0, 1, 999_999)               # overwritten long ago: ignored
    assert 999_999 not in c.snapshot()


def test_report_per_stage_and_end_to_end() -> None:
    c = StageClock(["recv", "parsed", "book", "signal"], capacity=1000)
    for i in range(100):
        t = 1_000_000 * (i + 1)
        e = c.start(t)
        c.mark(e, 1, t + 1_000)           # 1 us
        c.mark(e, 2, t + 3_000)           # 2 us
        if i % 2 == 0:
            c.mark(e, 3, t + 3_000 + 1_000 * i)   # i us, half the events only
    r = latency_report(c, worst=2)
    assert r["stages"]["parsed"]["p50"] == pytest.approx(1.0)
    assert r["stages"]["book"]["max"] == pytest.approx(2.0)
    assert r["stages"]["signal"]["count"] == 50
    assert r["stages"]["signal"]["max"] == pytest.approx(98.0)
    assert r["end_to_end"]["count"] == 100
    assert r["end_to_end"]["max"] == pytest.approx(3.0 + 98.0)
    assert r["worst"][0]["total_us"] == pytest.approx(101.0)
    assert r["worst"][0]["stages_us"] == {"parsed": 1.0, "book": 2.0, "signal": 98.0}
    assert r["end_to_end"]["jitter"] == pytest.approx(
        np.percentile([3.0 if i % 2 else 3.0 + i for i in range(100)], 99)
        / np.percentile([3.0 if i % 2 else 3.0 + i for i in range(100)], 50))


def test_bad_construction() -> None:
    with pytest.raises(CapacityError):
        StageClock(["only"])
    with pytest.raises(ValueError):
        StageClock(["a", "a"])
