"""Shared test fixtures: where the recorded venue data lives."""

import os
from pathlib import Path

import pytest

VENUE_DATA = Path(
    os.environ.get(
        "OPENCLAW_VENUE_DATA",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "venues",
    )
)


@pytest.fixture(scope="session")
def venue_data() -> Path:
    """../shared/data/venues (read-only recordings; never copied into the project)."""
    if not VENUE_DATA.is_dir():
        pytest.skip(f"recorded venue data not found at {VENUE_DATA} (set OPENCLAW_VENUE_DATA)")
    return VENUE_DATA
