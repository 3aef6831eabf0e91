"""The repository is self-contained: no file reads or cites a document outside it.

Protocol, library and benchmark facts live in ``docs/`` (``docs/venues/*.md``,
``docs/benchmarks.md``) and the recorded venue data in ``tests/data/venues/``. A reference to the
old out-of-tree locations, or a bare citation of one of their document names without a ``docs/``
path, fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENUE_DATA = ROOT / "tests" / "data" / "venues"

# Directories never scanned: VCS, virtualenvs, build output, caches, and the recorded data.
SKIP_DIRS = {".git", "build", "dist", ".eggs", "__pycache__", ".mypy_cache", ".pytest_cache",
             ".ruff_cache", ".hypothesis", ".benchmarks"}
SKIP_PATHS = {VENUE_DATA.parent}  # tests/data
# Generated or binary files (as in .gitignore): Cython output, extensions, databases.
SKIP_SUFFIXES = {".so", ".pyc", ".pyo", ".c", ".cpp", ".html", ".sqlite", ".db"}

# the old out-of-tree folder (a sibling of the checkout), spelled in parts so that this file does
# not itself contain the reference it forbids
_SIBLING = "/".join(("..", "sha" + "red"))
_ABSOLUTE = "/".join(("", "work", "sha" + "red"))
OUTSIDE = re.compile(f"{re.escape(_SIBLING)}|{re.escape(_ABSOLUTE)}")
# A path-like token ending in one of the out-of-tree document names; it is allowed only when the
# token itself names a docs/ directory (e.g. docs/venues/ccxt.md).
CITED = re.compile(r"[\w.\-/]*\b(?:protocols|PERFORMANCE|tws|ccxt|anchors)\.md\b", re.IGNORECASE)
IN_DOCS = re.compile(r"(?:^|/)docs/")


def violations(text: str) -> list[str]:
    """Every outside reference in ``text``, as the matched strings."""
    found = [m.group(0) for m in OUTSIDE.finditer(text)]
    found += [m.group(0) for m in CITED.finditer(text) if not IN_DOCS.search(m.group(0))]
    return found


def _skipped_dir(path: Path) -> bool:
    name = path.name
    return (
        name in SKIP_DIRS
        or name.startswith(".venv")
        or name.endswith(".egg-info")
        or path in SKIP_PATHS
    )


def _text_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.is_symlink():
            continue
        if path.is_dir():
            if not _skipped_dir(path):
                yield from _text_files(path)
        elif path.is_file() and path.suffix not in SKIP_SUFFIXES:
            yield path


def _read_text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_the_matcher_separates_outside_and_in_repo_references() -> None:
    bad = [
        f"see {_SIBLING}/tws.md §1",
        f"{_ABSOLUTE}/data/venues/okx/x.ws",
        "Procedure (protocols.md 1.5)",
        "ccxt.md §1.2 says",
        "Method (PERFORMANCE.md section 3)",
        "anchors.md",
    ]
    good = [
        "docs/venues/ccxt.md §1",
        "(see ``docs/venues/ibkr.md`` §4/§6)",
        "`docs/venues/binance.md`, docs/benchmarks.md section 2",
        "tests/data/venues/README.md",
        "shared by the venue feeds",
    ]
    assert all(violations(t) for t in bad), [t for t in bad if not violations(t)]
    assert not any(violations(t) for t in good), [t for t in good if violations(t)]


def test_no_file_reads_or_cites_a_path_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    problems: list[str] = []
    scanned = 0
    for path in _text_files(ROOT):
        if path.resolve() == me:
            continue  # this file spells the patterns out
        text = _read_text(path)
        if text is None:
            continue
        scanned += 1
        for lineno, line in enumerate(text.splitlines(), 1):
            for hit in violations(line):
                problems.append(f"{path.relative_to(ROOT)}:{lineno}: {hit!r}")
    assert scanned > 50, f"only {scanned} text files found under {ROOT}"
    assert not problems, "references outside the repository:\n" + "\n".join(problems)


def test_recorded_venue_data_is_in_the_repository() -> None:
    assert VENUE_DATA.is_dir(), f"missing {VENUE_DATA}"
    assert (VENUE_DATA / "README.md").is_file()
    for rel in (
        "binance/binance_spot_depth_2021.ws",
        "binance/binance_spot_depth_2021.http",
        "okx/okx_books_BTC-USDT_2022.ws",
        "bybit/bybit_orderbook200_2026.jsonl",
    ):
        f = VENUE_DATA / rel
        assert f.is_file() and f.stat().st_size > 0, f"missing or empty: {f}"
