"""The README holds the contracts the code points to (there is no other design document in the repository)."""

from __future__ import annotations

import re
from pathlib import Path

from services.doctor.model import CAUSES

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_lists_every_doctor_cause_id_in_order() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("### The `--json` contract")
    section = readme[start : readme.index("\n## ", start)]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE)
    assert listed == list(CAUSES)


def test_no_comment_points_to_a_design_document_outside_the_repository() -> None:
    sources = [p for d in ("services", "screens", "tui") for p in (ROOT / d).rglob("*.py")]
    assert [str(p.relative_to(ROOT)) for p in sources if "DESIGN" in p.read_text()] == []
