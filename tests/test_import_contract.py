"""services/ must never import the UI: checked by import-linter and by a clean interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contract_holds() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "services never import the UI" in out.stdout


def test_services_load_without_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, services\n"
        "for m in pkgutil.walk_packages(services.__path__, 'services.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'textual', 'tui', 'screens'}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _lint_copy_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    import shutil

    for pkg in ("services", "screens", "tui"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    lint = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(lint)], cwd=tmp_path, capture_output=True, text=True)


def test_a_screen_importing_the_app_breaks_the_layers(tmp_path: Path) -> None:
    out = _lint_copy_with(tmp_path, "screens/base.py", "from tui.app import SagewizApp  # noqa")
    assert out.returncode != 0
    assert "screens.base -> tui.app" in out.stdout


def test_an_import_cycle_between_sibling_modules_is_refused(tmp_path: Path) -> None:
    # services.resume imports services.state; the reverse import closes a cycle.
    resume = (ROOT / "services" / "resume.py").read_text(encoding="utf-8")
    assert "from services.state import" in resume
    out = _lint_copy_with(tmp_path, "services/state.py", "from services import resume  # noqa")
    assert out.returncode != 0 and "No cycles are allowed in services" in out.stdout
