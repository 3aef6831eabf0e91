"""The tests mirror the source tree: the tests of ``openclaw/X/Y`` are in ``tests/X/Y/`` (or, for a
module ``openclaw/X/y.py``, in ``tests/X/`` or ``tests/X/y/``), so "where are the tests of this"
and "where does this new test go" have one answer. Not mirrored: the shared harness
(``support/``), the plain-Python references (``reference/``), recorded data (``data/``),
these rules (``architecture/``), the agent skills of the repository's ``skills/`` and the
deployment files of its ``deploy/`` (``skills/``, ``deploy/``: they mirror those folders, not the
package).
"""

from __future__ import annotations

from pathlib import Path

from support.paths import ROOT, TESTS

PACKAGE = ROOT / "openclaw"

#: tests/<name>: the shared harness, the plain-Python references, recorded data, these rules
NOT_MIRRORED = {"support", "reference", "data", "architecture", "skills", "deploy"}
SKIPPED = {"__pycache__", ".hypothesis", ".pytest_cache", ".benchmarks"}


def _is_source(path: Path) -> bool:
    """A package (folder with ``__init__.py``) or a module (``.py``/``.pyx``) of the source."""
    if path.is_dir():
        return (path / "__init__.py").is_file()
    return any(path.with_suffix(s).is_file() for s in (".py", ".pyx"))


def stray_test_paths(tests: Path, package: Path) -> list[str]:
    """Test folders that mirror no package or module of ``package``, and test modules outside
    a mirrored folder."""
    out = []
    for d in sorted(p for p in tests.rglob("*") if p.is_dir()):
        rel = d.relative_to(tests)
        if rel.parts[0] in NOT_MIRRORED or SKIPPED & set(rel.parts):
            continue
        if not _is_source(package.joinpath(*rel.parts)):
            out.append(f"tests/{rel.as_posix()}/ mirrors nothing in {package.name}/")
    for f in sorted(tests.glob("test_*.py")):
        out.append(f"tests/{f.name} is outside the mirrored folders")
    return out


def test_the_test_tree_mirrors_the_source_tree() -> None:
    assert stray_test_paths(TESTS, PACKAGE) == []


def test_every_mirrored_test_folder_has_tests() -> None:
    empty = [d.relative_to(TESTS).as_posix() for d in TESTS.iterdir()
             if d.is_dir() and d.name not in NOT_MIRRORED | SKIPPED
             and not any(d.rglob("test_*.py"))]
    assert empty == []


def _tree(root: Path, files: list[str]) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return root


def test_checker_reports_a_folder_that_mirrors_nothing(tmp_path: Path) -> None:
    package = _tree(tmp_path / "openclaw", ["__init__.py", "feeds/__init__.py", "alerts.py",
                                            "_core/__init__.py", "_core/book.pyx",
                                            "sim/__init__.py", "sim/okx/__init__.py"])
    tests = _tree(tmp_path / "tests", ["feeds/test_a.py", "alerts/test_b.py", "_core/test_c.py",
                                       "_core/book/test_d.py", "sim/okx/test_e.py",
                                       "support/aio.py", "reference/refbook.py"])
    assert stray_test_paths(tests, package) == []
    _tree(tests, ["sim_rest/test_f.py", "sim/kraken/test_g.py", "test_loose.py"])
    assert stray_test_paths(tests, package) == [
        "tests/sim/kraken/ mirrors nothing in openclaw/",
        "tests/sim_rest/ mirrors nothing in openclaw/",
        "tests/test_loose.py is outside the mirrored folders",
    ]
