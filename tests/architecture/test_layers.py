"""The layering rules hold for openclaw/, and the checker catches each kind of violation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from layers import LAYERS, violations

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "openclaw"


def test_openclaw_keeps_the_layering_rules() -> None:
    assert violations(PACKAGE) == []


def test_every_group_of_the_package_has_a_layer() -> None:
    groups = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
              if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert groups - set(LAYERS) - {"sim"} == set()


def _tree(tmp: Path, files: dict[str, str]) -> Path:
    root = tmp / "openclaw"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for d in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        (d / "__init__.py").touch()
    return root


def test_checker_reports_an_upward_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"model/orders.py": "from openclaw.feeds.okx import OkxFeed\n",
                            "feeds/okx.py": "OkxFeed = 1\n"})
    got = violations(root)
    assert any("layer model (1) may not import feeds (2)" in v for v in got), got


def test_checker_reports_a_cycle_a_private_import_and_a_sim_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "execution/router.py": "from openclaw.journal import _row\n",
        "journal.py": "def f():\n    from openclaw.execution.router import x\n",
        "sim/okx.py": "from openclaw.model.orders import Order\n",
        "feeds/okx.py": "import openclaw.sim.okx\n",
        "model/orders.py": "Order = 1\n"})
    got = "\n".join(violations(root))
    assert "private name _row" in got
    assert "import cycle between packages: execution -> journal -> execution" in got
    assert "the simulators import nothing of the client code" in got
    assert "may start simulators" in got


def test_cython_imports_count(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"_core/book.pyx": "from openclaw.model.errors cimport X\n",
                            "model/errors.py": "X = 1\n"})
    assert any("layer _core (0) may not import model (1)" in v for v in violations(root))


def test_venue_cython_may_cimport_core_and_core_may_not_cimport_a_venue(tmp_path: Path) -> None:
    """A venue's decoder (``venues/<v>/depth.pyx``) builds on ``_core/wire.pxd``; the reverse,
    in a .pyx or a .pxd, is reported."""
    root = _tree(tmp_path, {
        "venues/okx/depth.pyx": "from openclaw._core.wire cimport (\n    DepthDecoder,\n)\n",
        "_core/wire.pxd": "from openclaw.venues.okx.depth cimport OkxDepthDecoder\n",
        "_core/wire.pyx": "cimport openclaw.venues.okx.depth\n"})
    got = violations(root)
    assert sum("layer _core (0) may not import venues (3)" in v for v in got) == 2, got
    assert not any(v.startswith("openclaw.venues") for v in got), got


def test_core_names_no_venue() -> None:
    """Every venue's code is in its folder: no file of ``_core`` names a crypto venue, so a new
    venue (docs/architecture.md, "A fourth crypto venue") touches nothing there."""
    from openclaw.model.venues import CRYPTO_VENUES

    found = [f"{p.name}:{n}: {name}"
             for p in sorted((PACKAGE / "_core").iterdir())
             if p.suffix in (".pyx", ".pxd", ".pyi", ".py")
             for n, line in enumerate(p.read_text().splitlines(), 1)
             for name in CRYPTO_VENUES if name in line.lower()]
    assert found == []


def test_ruff_is_clean() -> None:
    p = subprocess.run([sys.executable, "-m", "ruff", "check", "openclaw", "tests", "bench",
                        "examples"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
