"""`sagewiz apply` and `sagewiz export` against the sandbox: a real run, a round trip through the
exported file, a second run that changes nothing, a dry run, and bad files."""

from __future__ import annotations

import argparse
import io

import pytest

from services.config_file import load
from services.journal import Journal
from tui.commands.export_apply import run_apply, run_export

CONFIG = """
region = "eu-north-1"
[bucket]
name = "sagemaker-eu-north-1-123456789012"
[role]
arn = "arn:aws:iam::123456789012:role/service-role/SageMaker-tt"
[data]
prefix = "s3://sagemaker-eu-north-1-123456789012/ground-truth-demo/images/"
[training]
job = "apply-xgb-1"
algorithm = "xgboost"
instance_type = "ml.m5.large"
[training.hyperparameters]
num_round = 5
[tuning]
job = "apply-tune-1"
strategy = "Random"
max_jobs = 2
max_parallel_jobs = 2
"""


@pytest.fixture
def endpoint_env(world, monkeypatch):
    """Point the command at this test's sandbox world (not --sandbox, which would boot a fresh one)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    return world


def args_for(world, file, **kw) -> argparse.Namespace:
    base = dict(
        command="apply", file=str(file), dry_run=False, yes=True, profile=None, region=world.region,
        endpoint_url=world.endpoint, sandbox=False,
    )  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


def apply(world, file, journal, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_apply(args_for(world, file, **kw), out, err, journal=journal)
    return code, out.getvalue(), err.getvalue()


def test_apply_export_round_trip_and_second_apply_is_a_no_op(endpoint_env, tmp_path, journal, factory):
    world = endpoint_env
    cfg = tmp_path / "wiz.toml"
    cfg.write_text(CONFIG)
    code, out, err = apply(world, cfg, journal)
    assert code == 0, out + err
    assert "data" in out and "files copied" in out
    assert "training job apply-xgb-1 started" in out and "tuning job apply-tune-1 started" in out
    # how to undo the tuning job is a command here, not the dashboard's key
    assert "stop-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name apply-tune-1" in out
    assert "dashboard (s)" not in out
    sm = factory.client("sagemaker")
    assert sm.describe_training_job(TrainingJobName="apply-xgb-1")["TrainingJobName"] == "apply-xgb-1"
    assert sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="apply-tune-1")

    # Export what that session chose, and compare with what went in.
    exported = tmp_path / "exported.toml"
    ecode = run_export(
        argparse.Namespace(file=str(exported), sandbox=False),
        io.StringIO(),
        io.StringIO(),
        Journal(journal.path),
    )
    assert ecode == 0
    back = load(exported)
    first = load(cfg)
    for key in ("bucket", "role_arn", "data_prefix", "training_job", "tuning_job"):
        assert back.state[key] == first.state[key], key
    assert back.tables["training"]["algorithm"] == "xgboost"
    assert back.tables["training"]["hyperparameters"]["num_round"] == "5"
    assert back.tables["tuning"]["strategy"] == "Random"

    # Replaying the exported file changes nothing, and says so.
    code, out, err = apply(world, exported, Journal(journal.path))
    assert code == 0, out + err
    assert "Nothing to change: AWS already matches the configuration." in out
    assert "changed" not in {line.split()[0] for line in out.splitlines() if line.startswith("->")}


def test_dry_run_prints_plans_and_changes_nothing(endpoint_env, tmp_path, journal, factory):
    world = endpoint_env
    cfg = tmp_path / "dry.toml"
    cfg.write_text('region = "eu-north-1"\n[bucket]\nname = "sagewiz-dry-run-bucket"\n')
    code, out, _ = apply(world, cfg, journal, dry_run=True, yes=False)
    assert code == 0
    assert "Create the S3 bucket sagewiz-dry-run-bucket" in out and "s3:CreateBucket" in out
    assert "Dry run:" in out
    names = {b["Name"] for b in factory.client("s3").list_buckets()["Buckets"]}
    assert "sagewiz-dry-run-bucket" not in names
    assert journal.read().entries == ()


def test_a_bad_file_stops_before_any_aws_call(tmp_path, capsys):
    from tui.cli import main

    cfg = tmp_path / "bad.toml"
    cfg.write_text('region = "eu-north-1"\n\n[bucket]\nname = "Not_A_Bucket"\n')
    # No credentials and an unreachable endpoint: a connection attempt would fail differently.
    code = main(["apply", str(cfg), "--yes", "--endpoint-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bucket.name" in err and "line 4" in err and "lower case" in err


def test_apply_without_yes_or_a_terminal_refuses(tmp_path, world):
    cfg = tmp_path / "wiz.toml"
    cfg.write_text('region = "eu-north-1"\n')
    out, err = io.StringIO(), io.StringIO()
    code = run_apply(args_for(world, cfg, yes=False), out, err)
    assert code == 2 and "--yes" in err.getvalue()


def test_export_with_an_empty_journal_says_so(tmp_path):
    err = io.StringIO()
    code = run_export(
        argparse.Namespace(file=str(tmp_path / "x.toml"), sandbox=False),
        io.StringIO(),
        err,
        Journal(tmp_path / "j.jsonl"),
    )
    assert code == 2 and "no session" in err.getvalue()


def test_another_accounts_role_is_used_as_given_and_a_path_is_kept(endpoint_env, tmp_path, journal, factory):
    world = endpoint_env
    cfg = tmp_path / "roles.toml"
    other = "arn:aws:iam::999999999999:role/service-role/Other"
    cfg.write_text(
        f'region = "eu-north-1"\n[bucket]\nname = "sagewiz-role-bucket"\n[role]\narn = "{other}"\n'
    )
    code, out, err = apply(world, cfg, journal, dry_run=True, yes=False)
    assert code == 0, out + err
    assert f"using role {other} of account 999999999999" in out
    assert "Create role" not in out

    mine = f"arn:aws:iam::{world.account}:role/custom/path/Mine"
    cfg.write_text(f'region = "eu-north-1"\n[bucket]\nname = "sagewiz-role-bucket"\n[role]\narn = "{mine}"\n')
    code, out, err = apply(world, cfg, journal, dry_run=True, yes=False)
    assert code == 0, out + err
    assert "Create role Mine" in out and '"Path": "/custom/path/"' in out.replace("'", '"')


def test_dry_run_of_an_invalid_file_exits_2_before_any_call(endpoint_env, tmp_path, factory, capsys):
    world = endpoint_env
    cfg = tmp_path / "huge.toml"
    cfg.write_text(
        'region = "eu-north-1"\n[bucket]\nname = "sagewiz-huge-bucket"\n'
        '[training]\njob = "huge-1"\ninstance_count = 9223372036854775808\n'
    )
    from tui.cli import main

    code = main(["apply", str(cfg), "--dry-run", "--endpoint-url", world.endpoint, "--region", world.region])
    assert code == 2
    assert "training.instance_count must be from 1 to 100" in capsys.readouterr().err
    names = {b["Name"] for b in factory.client("s3").list_buckets()["Buckets"]}
    assert "sagewiz-huge-bucket" not in names
