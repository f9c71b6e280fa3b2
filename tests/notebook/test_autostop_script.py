"""The idle auto-stop script is a real file shipped with the package, and the plan sends it as written."""

from __future__ import annotations

import base64
import fnmatch
import subprocess
import tomllib
from importlib import resources
from pathlib import Path

from services import notebooks as nb
from services.notebook_autostop import SCRIPT_FILE, autostop_script

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_is_package_data_read_through_importlib_resources() -> None:
    shipped = resources.files("services") / SCRIPT_FILE
    assert shipped.is_file()
    text = shipped.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n") and "IDLE_MINUTES=__IDLE_MINUTES__" in text
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert any(fnmatch.fnmatch(SCRIPT_FILE, p) for p in patterns), "the wheel would not ship the script"


def test_the_script_is_valid_shell_with_the_idle_minutes_filled_in() -> None:
    script = autostop_script(45)
    assert "IDLE_MINUTES=45\n" in script and "__IDLE_MINUTES__" not in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # parses as bash


def test_the_create_plan_sends_the_shipped_script() -> None:
    spec = nb.NotebookSpec(name="nb1", role_arn="arn:aws:iam::123456789012:role/r", idle_minutes=30)
    plan = nb.plan_create_notebook(spec, "eu-north-1")
    lifecycle = next(a for a in plan.actions if a.operation == "create_notebook_instance_lifecycle_config")
    sent = base64.b64decode(lifecycle.params["OnStart"][0]["Content"]).decode()
    assert sent == autostop_script(30)
