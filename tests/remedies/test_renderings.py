"""Each remedy in each face's words: the key on the screen, a command or a sentence elsewhere, and
never a single-letter key hint outside the TUI."""

from __future__ import annotations

import re

import pytest

from services.errors import AccessDeniedError, ErrorInfo
from services.notebook_errors import explain_failure
from services.plan import Action
from services.remedy import Advice, Face, Remedy, RemedyKind, advice

KEY_HINT = re.compile(r"\([a-z]\)|\bpress [a-z]\b")

# kind -> (what the TUI shows, a command or phrase the CLI shows)
EXPECTED = {
    RemedyKind.OPEN_DOCTOR: (
        "open the permissions doctor (d) to see which policy denies it and how to fix it",
        "sagewiz doctor --error-file FILE",
    ),
    RemedyKind.RETRY: ("press r to retry", "run the same command again"),
    RemedyKind.REFRESH_NOTEBOOKS: ("refresh the list (r)", "aws sagemaker list-notebook-instances"),
    RemedyKind.STOP_NOTEBOOK_FIRST: (
        "stop it (s), wait until the status is Stopped, then delete it",
        "aws sagemaker stop-notebook-instance --notebook-instance-name nb-1",
    ),
    RemedyKind.START_NOTEBOOK: (
        "start it (t) and wait until it is InService",
        "aws sagemaker start-notebook-instance --notebook-instance-name nb-1",
    ),
    RemedyKind.RESTART_OR_DELETE_NOTEBOOK: (
        "read the reason above; fix it, then start the instance again (t) or delete it",
        "aws sagemaker start-notebook-instance --notebook-instance-name nb-1",
    ),
    RemedyKind.STOP_TUNING_JOB: (
        "stop it from the dashboard (s); finished child jobs stay, as in AWS",
        "aws sagemaker stop-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name nb-1",
    ),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_face_names_the_way_out_its_own_way(kind: RemedyKind) -> None:
    remedy = Remedy(kind, "nb-1")
    tui, cli = EXPECTED[kind]
    assert remedy.render(Face.TUI) == tui
    assert cli in remedy.render(Face.CLI)
    for face in (Face.CLI, Face.PLAIN):
        assert not KEY_HINT.search(remedy.render(face)), remedy.render(face)
        assert remedy.render(face)


def test_every_kind_renders_in_every_face() -> None:
    for kind in RemedyKind:
        for face in Face:
            assert Remedy(kind, "x").render(face)


def test_advice_joins_a_lead_and_a_remedy_into_one_sentence() -> None:
    retry = Remedy(RemedyKind.RETRY)
    assert advice("Refresh them and", retry, Face.TUI) == "Refresh them and press r to retry."
    assert advice("Refresh them and", retry, Face.CLI) == "Refresh them and run the same command again."
    assert advice("", retry, Face.TUI) == "Press r to retry."
    assert advice("Just wait.", None, Face.CLI) == "Just wait."
    assert Advice("Just wait.").render(Face.TUI) == "Just wait."


def test_an_error_and_its_snapshot_carry_the_remedy() -> None:
    err = AccessDeniedError("Access denied", "no", remedy=Remedy(RemedyKind.OPEN_DOCTOR))
    want = "Open the permissions doctor (d) to see which policy denies it and how to fix it."
    assert err.advice(Face.TUI) == want  # the words the screens showed before remedies were values
    assert ErrorInfo.of(err).advice(Face.TUI) == want
    assert "(d)" not in err.advice(Face.CLI) and "sagewiz doctor" in err.advice(Face.CLI)


def test_a_failed_notebook_without_a_known_cause_gets_the_general_way_out() -> None:
    general = explain_failure("something odd", "nb-1")
    assert general.render(Face.TUI) == (
        "Read the reason above; fix it, then start the instance again (t) or delete it."
    )
    assert "start-notebook-instance --notebook-instance-name nb-1" in general.render(Face.CLI)
    assert "CloudWatch" in explain_failure("lifecycle config failed").render(Face.CLI)


def test_a_plan_undo_is_rendered_per_face_and_the_dry_run_text_is_for_the_command_line() -> None:
    from services.plan import Plan

    action = Action("sagemaker", "create_hyper_parameter_tuning_job", {}, "Start tuning job t",
                    undo_remedy=Remedy(RemedyKind.STOP_TUNING_JOB, "t"))  # fmt: skip
    assert "dashboard (s)" in action.undo_text(Face.TUI)
    text = Plan("Create t", (action,)).render_text()
    assert "undo: stop it with `aws sagemaker stop-hyper-parameter-tuning-job" in text
    assert not KEY_HINT.search(text)
