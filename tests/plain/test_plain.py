"""`sagewiz --plain` driven by piped key presses (prompt_toolkit's pipe input in an app session,
the way questionary's own tests drive it), against the sandbox."""

from __future__ import annotations

import argparse
import io
from contextlib import contextmanager

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from services.config_file import load
from services.journal import Journal
from tests.cleanup.helpers import fast_notebooks, make_bucket, make_notebook
from tui.commands import plain

ENTER, DOWN, CTRL_C, CLEAR = "\r", "\x1b[B", "\x03", "\x15"


@pytest.fixture
def endpoint_env(world, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    return world


def plain_args(world, **kw) -> argparse.Namespace:
    base = dict(
        command=None, plain=True, yes=False, config=None, step=None, profile=None, region=world.region,
        endpoint_url=world.endpoint, sandbox=False,
    )  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


@contextmanager
def keys(*presses: str):
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("".join(presses))
        yield


def run_plain(args, journal, *presses: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with keys(*presses):
        code = plain.run(args, out, err, interactive=True, journal=journal)
    return code, out.getvalue() + err.getvalue()


def test_walk_the_whole_flow_then_export(endpoint_env, journal, tmp_path, factory):
    world = endpoint_env
    exported = tmp_path / "walked.toml"
    code, out = run_plain(
        plain_args(world),
        journal,
        ENTER, ENTER,  # Bucket: go; the expected name
        ENTER, ENTER,  # Execution role: go; the first usable role (the seeded SageMaker-tt)
        ENTER, "n",  # Notebook: go; no notebook instance
        ENTER, ENTER, ENTER, "y",  # Data: go; sample source; default prefix; apply the copy
        ENTER, "y", "y", "y",  # Permissions: go; the role policy fix, the bucket policy fix, the role's abilities
        ENTER, ENTER,  # Labels: go; skip (train on derived classes)
        ENTER, ENTER, ENTER, ENTER,  # Train: go; XGBoost on derived features; ml.m5.xlarge; 20% validation
        CLEAR + "plain-xgb-1" + ENTER, "n", "y",  # job name; keep the hyperparameters; start it
        ENTER, ENTER, CLEAR + "2" + ENTER, ENTER,  # Tune: go; Bayesian; 2 jobs; 2 at a time
        CLEAR + "plain-tune-1" + ENTER, "y",  # tuning job name; start it
        "y", CLEAR + str(exported) + ENTER,  # export to a file
        "n",  # no clean-up review
    )  # fmt: skip
    assert code == 0, out
    assert f"Connected: account {world.account}" in out
    assert "bucket sagemaker-eu-north-1-123456789012 exists" in out
    assert "50 files copied" in out
    assert "This changes account" in out and "--- " in out  # confirmations name the place; diffs printed
    assert "3 policy changes applied" in out
    objects = factory.client("s3").list_objects_v2(
        Bucket=world.default_bucket, Prefix="ground-truth-demo/images/"
    )
    assert objects["KeyCount"] == 50
    assert "training job plain-xgb-1 started" in out and "tuning job plain-tune-1 started" in out
    sm = factory.client("sagemaker")
    assert sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="plain-tune-1")
    cfg = load(exported)
    assert cfg.state["training_job"] == "plain-xgb-1" and cfg.state["tuning_job"] == "plain-tune-1"
    assert cfg.tables["training"]["algorithm"] == "xgboost" and cfg.tables["tuning"]["max_jobs"] == 2
    assert cfg.state["bucket"] == world.default_bucket
    assert cfg.state["data_prefix"].endswith("/ground-truth-demo/images/")
    assert cfg.state["role_arn"] == world.role_arn


def test_ctrl_c_at_a_prompt_leaves_cleanly_with_the_journal_intact(endpoint_env, journal):
    code, out = run_plain(plain_args(endpoint_env), journal, ENTER, CTRL_C)
    assert code == 130
    assert "Stopped." in out and "journal" in out
    assert "Traceback" not in out
    read = Journal(journal.path).read()
    assert read.warnings == () and [e.kind for e in read.entries] == ["session"]


def test_clean_up_everything_with_one_command(endpoint_env, journal, factory):
    world = endpoint_env
    fast_notebooks()
    journal.bind(world.account, world.region, False)
    make_notebook(factory, world, journal, name="plain-nb")
    make_bucket(factory, journal, "plain-bucket")
    code, out = run_plain(
        plain_args(world, step="cleanup"),
        journal,
        DOWN, DOWN, ENTER,  # Delete everything
        "delete" + ENTER,  # typed confirmation
        "plain-bucket" + ENTER,  # the bucket's own confirmation
    )  # fmt: skip
    assert code == 0, out
    assert "notebook instance plain-nb" in out and "S3 bucket plain-bucket" in out
    assert "Done. Nothing sagewiz started is running." in out
    names = {b["Name"] for b in factory.client("s3").list_buckets()["Buckets"]}
    assert "plain-bucket" not in names


def test_a_wrong_typed_confirmation_changes_nothing(endpoint_env, journal, factory):
    world = endpoint_env
    journal.bind(world.account, world.region, False)
    make_bucket(factory, journal, "plain-keep", objects=1)
    code, out = run_plain(plain_args(world, step="cleanup"), journal, DOWN, DOWN, ENTER, "yes" + ENTER)
    assert code == 0 and "Cancelled; nothing was changed." in out
    assert factory.client("s3").head_bucket(Bucket="plain-keep")


def test_without_a_terminal_it_refuses_unless_yes_and_config(endpoint_env, journal, tmp_path):
    world = endpoint_env
    out, err = io.StringIO(), io.StringIO()
    assert plain.run(plain_args(world), out, err, interactive=False, journal=journal) == 2
    assert "needs a terminal" in err.getvalue() and "--config" in err.getvalue()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'region = "{world.region}"\n[bucket]\nname = "{world.default_bucket}"\n')
    out = io.StringIO()
    code = plain.run(
        plain_args(world, yes=True, config=str(cfg)), out, err, interactive=False, journal=journal
    )
    assert code == 0
    assert "bucket sagemaker-eu-north-1-123456789012 exists" in out.getvalue()


def test_a_bad_config_is_refused_before_connecting(tmp_path, journal):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[labels]\ncategories = ["Only"]\n')
    args = argparse.Namespace(
        command=None, plain=True, yes=False, config=str(cfg), step=None, profile=None, region="eu-north-1",
        endpoint_url="http://127.0.0.1:9", sandbox=False,
    )  # fmt: skip
    from services.config_file import ConfigError

    with keys(), pytest.raises(ConfigError) as info:
        plain.run(args, io.StringIO(), io.StringIO(), interactive=True, journal=journal)
    assert info.value.key == "labels.categories" and info.value.line == 2


def test_a_notebook_is_offered_with_its_types_and_prices(endpoint_env, journal, factory):
    world = endpoint_env
    fast_notebooks()
    code, out = run_plain(
        plain_args(world, step="role"),
        journal,
        ENTER, ENTER,  # Execution role: go; the first usable role
        ENTER, "y",  # Notebook: go; use one
        CLEAR + "plain-nb" + ENTER, ENTER,  # its name; the default type
        "n",  # do not create it
        DOWN, DOWN, ENTER,  # Data: finish here
        "n", "n",  # no export, no clean-up review
    )  # fmt: skip
    assert code == 0, out
    assert "Create notebook instance plain-nb (ml.t3.medium" in out and "cost ~$0.053/h" in out
    assert "not applied (declined)" in out
    names = [
        n["NotebookInstanceName"]
        for n in factory.client("sagemaker").list_notebook_instances()["NotebookInstances"]
    ]
    assert "plain-nb" not in names


def test_a_refusal_is_explained_in_plain_words_not_keys_or_flags(world, journal, monkeypatch):
    """Signed in as the execution role, which may not list roles: plain mode says what to run in a
    sentence (no TUI key, no CLI-only wording), and the run ends without a traceback."""
    creds = world.role_credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key)
    if creds.token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", creds.token)
    code, out = run_plain(plain_args(world, step="role"), journal, ENTER, "n", "n", "n")
    assert code == 0, out
    assert "not authorized to perform: iam:ListRoles" in out
    assert (
        "Run the permissions doctor (`sagewiz doctor --error-file FILE`, with the error saved in FILE)" in out
    )
    assert "(d)" not in out and "press r" not in out and "save the error in a file and run" not in out


def test_resume_counts_what_it_listed(endpoint_env, journal):
    """Plain mode's resume line counts exactly the choices it listed, and names what is gone apart
    (it once listed 3 choices, then said '2 restored')."""
    from services.journal_events import ChoiceMade, JobStarted, SessionStarted
    from services.resource_kinds import ResourceKind
    from services.state import WizardState

    world = endpoint_env
    earlier = Journal(journal.path)
    earlier.bind(world.account, world.region, False)
    earlier.append(SessionStarted(caller=world.admin_arn, sandbox=False))
    # labels equal to the defaults: restoring them changes nothing, yet they are listed and restored
    earlier.append(ChoiceMade({"bucket": world.default_bucket, "labels": list(WizardState().labels),
                               "data_prefix": f"s3://{world.default_bucket}/nothing/here/"}))  # fmt: skip
    earlier.append(JobStarted(ResourceKind.TRAINING_JOB, "plain-gone-job"))
    code, out = run_plain(plain_args(world), journal, "y", CTRL_C)
    assert code == 130, out
    listed = [line for line in out.splitlines() if line.startswith("  ") and ": " in line
              and line.strip().split(":")[0] in {"bucket", "labels", "data prefix", "training job"}]  # fmt: skip
    assert [line.strip().split(":")[0] for line in listed] == ["bucket", "labels"]
    gone = [line for line in out.splitlines() if "no longer there (not restored)" in line]
    assert len(gone) == 2  # the data under the prefix, the training job
    assert "Resumed: 2 choices restored; 2 gone, not restored: " in out
