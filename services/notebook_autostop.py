"""Idle auto-stop of a notebook instance: a lifecycle configuration whose OnStart script
(`notebook_autostop.sh`, shipped as package data) installs a cron job that stops the instance
after so many idle minutes, and the check that the execution role may do so."""

from __future__ import annotations

from importlib import resources
from typing import Any

from services.notebook_errors import notebook_error
from services.sagemaker_model import NameShape, name_rule

SCRIPT_FILE = "notebook_autostop.sh"
IDLE_MIN_MINUTES, IDLE_MAX_MINUTES = 5, 24 * 60


def autostop_script(idle_minutes: int) -> str:
    """The lifecycle configuration's OnStart script, for `idle_minutes`."""
    script = (resources.files("services") / SCRIPT_FILE).read_text(encoding="utf-8")
    return script.replace("__IDLE_MINUTES__", str(int(idle_minutes)))


def autostop_config_name(notebook: str) -> str:
    limit = name_rule(NameShape.LIFECYCLE_CONFIG).max_length
    return f"{notebook[: limit - len('-autostop')]}-autostop"


def idle_minutes_problem(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    if not IDLE_MIN_MINUTES <= minutes <= IDLE_MAX_MINUTES:
        return f"Idle minutes must be between {IDLE_MIN_MINUTES} and {IDLE_MAX_MINUTES} (got {minutes})."
    return None


def list_lifecycle_configs(factory: Any) -> list[str]:
    """Names of the lifecycle configurations in the region."""
    names: list[str] = []
    try:
        for page in (
            factory.client("sagemaker").get_paginator("list_notebook_instance_lifecycle_configs").paginate()
        ):
            names += [
                c["NotebookInstanceLifecycleConfigName"]
                for c in page.get("NotebookInstanceLifecycleConfigs", [])
            ]
    except Exception as exc:
        raise notebook_error(exc, "sagemaker:ListNotebookInstanceLifecycleConfigs") from exc
    return sorted(names)


def autostop_note(factory: Any, role_arn: str, notebook: str) -> list[str]:
    """Idle auto-stop runs as the execution role: say so when that role may not stop the notebook
    (users report auto-stop scripts that never fire; this is the usual reason)."""
    from services.regions import arn as regional_arn
    from services.roles.pass_role import role_allows

    account = role_arn.split(":")[4]
    arn = regional_arn("sagemaker", factory.region, account, f"notebook-instance/{notebook.lower()}")
    allowed = role_allows(factory, role_arn, "sagemaker:StopNotebookInstance", arn)
    role = role_arn.rsplit("/", 1)[-1]
    if allowed is False:
        return [
            f"Idle auto-stop will NOT fire: the role {role} may not call sagemaker:StopNotebookInstance on "
            f"{notebook}. Add that permission to the role, or create a new role here (it gets it)."
        ]
    if allowed is None:
        return [f"Could not check that the role {role} may stop the notebook (needed by idle auto-stop)."]
    return []
