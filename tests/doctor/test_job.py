"""`sagewiz doctor --job NAME` / `--notebook NAME` against sandbox jobs that really ran (or failed),
and `vpc-no-s3-route` over moto's EC2: subnets, route tables, S3 gateway endpoints."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from services.sandbox import trainer
from services.training import build_request
from services.tuning.request import build_request as tuning_request
from tests.support import eventually, wait_connected
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config
from tests.tune.data import prepare
from tests.tune.test_sandbox_tuning import tuning_config
from tests.tune.test_sandbox_tuning import wait_done as tuning_done
from tests.ui_text import shown
from tui.cli import main
from tui.focus import is_text_field


@pytest.fixture(autouse=True)
def fast_pace() -> Iterator[None]:
    old = trainer.set_pace(0.0)
    yield
    trainer.set_pace(old)


@pytest.fixture
def doctor(world: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Runs `sagewiz doctor ARGS` against this test's world (the standard AWS variables, as a
    `sagewiz sandbox serve` user has them); returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    monkeypatch.setenv("AWS_REGION", world.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["doctor", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def failed_training(factory: Any, world: Any, name: str = "denied", **extra: Any) -> dict[str, Any]:
    """The seeded role may not read the bucket's objects: the job fails on its download."""
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**{**build_request(xgb_config(world, name=name)), **extra})
    d = wait_done(sm, name)
    assert d["TrainingJobStatus"] == "Failed", d
    return d


def test_a_failed_training_job_is_diagnosed_with_its_facts(world: Any, factory: Any, doctor: Any) -> None:
    failed_training(factory, world)
    code, out, _ = doctor("--job", "denied", "--json")
    assert code == 1
    data = json.loads(out)
    b = world.default_bucket
    assert data["verdict"] == "denied" and data["action"] == "s3:GetObject"
    assert data["resource"] == f"arn:aws:s3:::{b}/xgb/train/train.csv"
    assert data["findings"][0]["cause"] == "identity-wrong-resource"
    job = data["job"]
    assert job["kind"] == "training" and job["status"] == "Failed"
    assert "Data download failed" in job["failure_reason"]
    assert job["role"] == world.role_arn
    assert job["channels"] == [
        {"name": "train", "s3_uri": f"s3://{b}/xgb/train/"},
        {"name": "validation", "s3_uri": f"s3://{b}/xgb/validation/"},
    ]
    assert job["output_path"] == f"s3://{b}/xgb/output" and job["kms_keys"] == [] and job["vpc"] is None

    code, text, _ = doctor("--job", "denied")
    assert code == 1
    assert f"execution role: {world.role_arn}" in text and f"channel train: s3://{b}/xgb/train/" in text
    assert "What happened: The execution role was refused" in text
    assert "[BLOCKING] identity-wrong-resource" in text
    # The principal is the job's role, read from the job: no assumption about it.
    assert "the wizard's execution role" not in text


def test_a_job_that_did_not_fail_has_nothing_to_diagnose(world: Any, factory: Any, doctor: Any) -> None:
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**_with_kms(build_request(xgb_config(world, name="fine"))))
    assert wait_done(sm, "fine")["TrainingJobStatus"] == "Completed"
    code, out, _ = doctor("--job", "fine")
    assert code == 0
    assert "NOTHING TO DIAGNOSE" in out and "training job fine is Completed: it did not fail" in out
    assert "KMS key (output): alias/my-key" in out and "KMS key (volume): alias/my-volume-key" in out
    code, out, _ = doctor("--job", "fine", "--json")
    data = json.loads(out)
    assert code == 0 and data["verdict"] == "allowed" and data["findings"] == []
    assert data["job"]["kms_keys"] == [
        {"use": "output", "key_id": "alias/my-key"},
        {"use": "volume", "key_id": "alias/my-volume-key"},
    ]


def _with_kms(req: dict[str, Any]) -> dict[str, Any]:
    req["OutputDataConfig"]["KmsKeyId"] = "alias/my-key"
    req["ResourceConfig"]["VolumeKmsKeyId"] = "alias/my-volume-key"
    return req


def test_no_such_job_bad_names_and_flag_mixes_are_one_line_exit_2(world: Any, doctor: Any) -> None:
    code, out, err = doctor("--job", "nobody-by-this-name")
    assert (code, out) == (2, "")
    assert err.startswith(
        "sagewiz doctor: There is no training, tuning or labeling job by that name in eu-north-1"
    )
    assert len(err.strip().splitlines()) == 1
    code, _, err = doctor("--job", "bad name!\x1b[31m")
    assert code == 2 and "is not a SageMaker job name" in err and "\x1b" not in err
    code, _, err = doctor("--job", "x" * 100_000)
    assert code == 2 and len(err) < 400 and "is not a SageMaker job name" in err
    code, _, err = doctor("--job", "")
    assert code == 2 and "is not a SageMaker job name" in err
    code, _, err = doctor("--job", "a", "--error", "Access Denied")
    assert code == 2 and "leave out --error" in err
    code, _, err = doctor("--job", "a", "--notebook", "b")
    assert code == 2 and "not both" in err
    code, _, err = doctor("--notebook", "nobody-here")
    assert code == 2 and "no notebook instance by that name" in err


def test_a_failed_tuning_job_and_a_name_two_kinds_hold(world: Any, factory: Any, doctor: Any) -> None:
    base = prepare(world, factory, num_round=4)
    # Without the data grant the children cannot read their channels: every one fails.
    factory.client("iam").delete_role_policy(RoleName=world.role_name, PolicyName="tune-test-data")
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**tuning_request(tuning_config(base, name="tfail", max_jobs=2)))
    assert tuning_done(sm, "tfail")["HyperParameterTuningJobStatus"] == "Failed"
    code, out, _ = doctor("--job", "tfail", "--json")
    data = json.loads(out)
    assert code == 1 and data["job"]["kind"] == "tuning"
    assert "Data download failed" in data["job"]["failure_reason"]
    assert [c["s3_uri"] for c in data["job"]["channels"]] == [
        f"s3://{world.default_bucket}/tune-data/train/",
        f"s3://{world.default_bucket}/tune-data/validation/",
    ]
    assert data["verdict"] == "denied" and data["action"] == "s3:GetObject"
    assert data["findings"][0]["blocking"]

    # A training job of the same name: which one is meant cannot be guessed.
    upload_csv(factory, world)
    sm.create_training_job(**build_request(xgb_config(world, name="tfail")))
    code, out, err = doctor("--job", "tfail")
    assert (code, out) == (2, "")
    assert "names a training job and a tuning job" in err and "ambiguous" in err


# -- vpc-no-s3-route ------------------------------------------------------------------------------
def make_vpc(
    factory: Any, *, endpoint: bool = False, own_table: bool = True, nat: bool = False
) -> dict[str, str]:
    ec2 = factory.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    if own_table:
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    else:  # the subnet falls back to the VPC's main route table
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        rtb = tables[0]["RouteTableId"]
    if endpoint:
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName="com.amazonaws.eu-north-1.s3",
            VpcEndpointType="Gateway",
            RouteTableIds=[rtb],
        )
    if nat:
        public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        gw = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=gw)
    sg = ec2.create_security_group(GroupName="training", Description="training", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnet": subnet, "rtb": rtb, "sg": sg}


@pytest.mark.parametrize("own_table", [True, False], ids=["subnet-table", "main-table"])
def test_a_job_in_a_vpc_without_an_s3_route(world: Any, factory: Any, doctor: Any, own_table: bool) -> None:
    net = make_vpc(factory, own_table=own_table)
    failed_training(factory, world, VpcConfig={"Subnets": [net["subnet"]], "SecurityGroupIds": [net["sg"]]})
    code, out, _ = doctor("--job", "denied", "--json")
    data = json.loads(out)
    assert code == 1 and data["job"]["vpc"] == {"subnets": [net["subnet"]], "security_groups": [net["sg"]]}
    route = [f for f in data["findings"] if f["cause"] == "vpc-no-s3-route"]
    assert len(route) == 1 and route[0]["blocking"]
    assert net["vpc"] in route[0]["summary"] and net["subnet"] in route[0]["summary"]
    assert any(net["rtb"] in e for e in route[0]["evidence"])
    change = route[0]["fix"]["changes"][0]
    assert change["call"] == "ec2:CreateVpcEndpoint"
    assert shlex.split(change["command"]) == [
        "aws", "ec2", "create-vpc-endpoint", "--region", "eu-north-1", "--vpc-id", net["vpc"],
        "--vpc-endpoint-type", "Gateway", "--service-name", "com.amazonaws.eu-north-1.s3",
        "--route-table-ids", net["rtb"],
    ]  # fmt: skip
    assert change["command"] in route[0]["fix"]["description"]


def test_with_the_data_readable_the_route_is_the_one_cause(world: Any, factory: Any, doctor: Any) -> None:
    """The sandbox's job in a subnet with no S3 route fails as a real one does (a download that
    cannot connect), and the doctor names the route, not a policy."""
    grant_bucket(factory, world)
    net = make_vpc(factory)
    d = failed_training(
        factory, world, VpcConfig={"Subnets": [net["subnet"]], "SecurityGroupIds": [net["sg"]]}
    )
    assert d["FailureReason"].startswith("ClientError: Data download failed:")
    assert "route to an S3 VPC endpoint or a NAT device" in d["FailureReason"]
    code, out, _ = doctor("--job", "denied")
    assert code == 1
    assert "What happened: The job runs in a VPC whose subnets could not reach S3" in out
    assert "sagewiz doctor: DENIED" in out
    findings = [line for line in out.splitlines() if "[BLOCKING]" in line]
    assert len(findings) == 1 and "vpc-no-s3-route" in findings[0], findings
    assert f"--route-table-ids {net['rtb']}" in out
    # With the endpoint the fix adds, the same job trains.
    factory.client("ec2").create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName="com.amazonaws.eu-north-1.s3", VpcEndpointType="Gateway",
        RouteTableIds=[net["rtb"]],
    )  # fmt: skip
    sm = factory.client("sagemaker")
    again = {**build_request(xgb_config(world, name="again")), "VpcConfig": d["VpcConfig"]}
    sm.create_training_job(**again)
    assert wait_done(sm, "again")["TrainingJobStatus"] == "Completed"


@pytest.mark.parametrize("path", ["endpoint", "nat"])
def test_a_job_in_a_vpc_with_an_s3_route_has_no_route_finding(
    world: Any, factory: Any, doctor: Any, path: str
) -> None:
    net = make_vpc(factory, endpoint=path == "endpoint", nat=path == "nat")
    failed_training(factory, world, VpcConfig={"Subnets": [net["subnet"]], "SecurityGroupIds": [net["sg"]]})
    code, out, _ = doctor("--job", "denied", "--json")
    data = json.loads(out)
    assert code == 1 and data["job"]["vpc"]["subnets"] == [net["subnet"]]
    assert "vpc-no-s3-route" not in [f["cause"] for f in data["findings"]]
    assert data["findings"][0]["cause"] == "identity-wrong-resource"


def test_an_endpoint_on_another_route_table_is_attached_not_created(
    world: Any, factory: Any, doctor: Any
) -> None:
    net = make_vpc(factory)
    ec2 = factory.client("ec2")
    other = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    vpce = ec2.create_vpc_endpoint(
        VpcId=net["vpc"],
        ServiceName="com.amazonaws.eu-north-1.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[other],
    )["VpcEndpoint"]["VpcEndpointId"]
    failed_training(factory, world, VpcConfig={"Subnets": [net["subnet"]], "SecurityGroupIds": [net["sg"]]})
    code, out, _ = doctor("--job", "denied")
    assert code == 1
    assert "[BLOCKING] vpc-no-s3-route" in out
    command = f"aws ec2 modify-vpc-endpoint --region eu-north-1 --vpc-endpoint-id {vpce} --add-route-table-ids {net['rtb']}"
    assert command in out


def test_a_notebook_in_a_subnet_without_internet(world: Any, factory: Any, doctor: Any) -> None:
    net = make_vpc(factory)
    sm = factory.client("sagemaker")
    sm.create_notebook_instance(
        NotebookInstanceName="nb-vpc", InstanceType="ml.t3.medium", RoleArn=world.role_arn,
        SubnetId=net["subnet"], SecurityGroupIds=[net["sg"]], DirectInternetAccess="Disabled",
    )  # fmt: skip
    code, out, _ = doctor("--notebook", "nb-vpc", "--json")
    data = json.loads(out)
    # Not failed (Pending or InService): the facts, and nothing to diagnose.
    assert code == 0 and data["findings"] == [] and data["job"]["kind"] == "notebook"
    assert data["job"]["vpc"]["subnets"] == [net["subnet"]] and data["job"]["direct_internet_access"] is False


# -- the TUI: a failed job's panel, `d`, the doctor with the job filled in --------------------------
async def test_d_on_a_failed_jobs_panel_opens_the_doctor_with_the_job_diagnosed(
    world: Any, factory: Any, make_app: Any
) -> None:
    from screens.doctor import DoctorStep
    from screens.job_panel import JobPanelScreen

    net = make_vpc(factory)
    failed_training(factory, world, VpcConfig={"Subnets": [net["subnet"]], "SecurityGroupIds": [net["sg"]]})
    app = make_app(start_step="connect")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.push_screen(JobPanelScreen("denied", poll_seconds=0.2))
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None and panel.snapshot.status == "Failed")
        await pilot.press("d")
        await eventually(pilot, lambda: isinstance(app.screen, DoctorStep))
        doctor = app.screen
        await eventually(pilot, lambda: doctor.diagnosis is not None and not doctor.busy, 20.0)
        facts = shown(doctor.query_one("#doctor-job"))
        assert "training job denied: Failed" in facts and f"execution role: {world.role_arn}" in facts
        assert f"channel train: s3://{world.default_bucket}/xgb/train/" in facts
        assert f"VPC subnets: {net['subnet']}" in facts
        causes = [f.cause for f in doctor.diagnosis.findings if f.blocking]
        assert causes[0] == "identity-wrong-resource" and "vpc-no-s3-route" in causes
        verdict = shown(doctor.query_one("#doctor-verdict"))
        assert "vpc-no-s3-route" in verdict and "identity-wrong-resource" in verdict
        # Handed a job, the doctor opens on its results, not in the (empty) paste box.
        assert doctor.focused is not None and not is_text_field(doctor.focused), doctor.focused


async def test_d_on_a_job_that_did_not_fail_stays_on_the_panel(
    world: Any, factory: Any, make_app: Any
) -> None:
    from screens.job_panel import JobPanelScreen

    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="fine")))
    wait_done(sm, "fine")
    app = make_app(start_step="connect")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.push_screen(JobPanelScreen("fine", poll_seconds=0.2))
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None and panel.snapshot.status == "Completed")
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is panel


@pytest.fixture
def fast_notebooks() -> Iterator[None]:
    from services.sandbox.extensions import notebook as nb_ext

    saved = (nb_ext.TIMINGS.pending, nb_ext.TIMINGS.stopping, nb_ext.TIMINGS.deleting)
    nb_ext.set_timings(0.3)
    yield
    nb_ext.set_timings(*saved)


def test_a_failed_notebook_in_a_subnet_without_internet(
    world: Any, factory: Any, doctor: Any, fast_notebooks: None
) -> None:
    import base64

    from tests.support import eventually_blocking

    net = make_vpc(factory)
    sm = factory.client("sagemaker")
    sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="broken",
        OnStart=[{"Content": base64.b64encode(b"#!/bin/bash\nexit 1\n").decode()}],
    )
    for name, internet in (("nb-closed", "Disabled"), ("nb-open", "Enabled")):
        sm.create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=world.role_arn,
            SubnetId=net["subnet"], SecurityGroupIds=[net["sg"]], DirectInternetAccess=internet,
            LifecycleConfigName="broken",
        )  # fmt: skip

    def failed(name: str) -> bool:
        return sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == "Failed"

    eventually_blocking(lambda: failed("nb-closed") and failed("nb-open"), 20.0, what="the notebooks to fail")
    code, out, _ = doctor("--notebook", "nb-closed")
    assert code == 1
    assert "notebook instance nb-closed: Failed" in out and "Lifecycle Config" in out
    assert "What happened: The notebook instance failed to start." in out
    assert "[BLOCKING] vpc-no-s3-route" in out and f"--route-table-ids {net['rtb']}" in out
    # With SageMaker's direct internet access the subnet's routes are not its way to S3.
    code, out, _ = doctor("--notebook", "nb-open", "--json")
    data = json.loads(out)
    assert data["job"]["direct_internet_access"] is True
    assert "vpc-no-s3-route" not in [f["cause"] for f in data["findings"]]


def test_a_failed_labeling_job(world: Any, factory: Any, doctor: Any) -> None:
    from services.labeling.setup import build_setup_plan
    from services.plan import apply_plan
    from services.sandbox.extensions import labeling as ext
    from tests.labels.helpers import copy_samples, fix_role, wait_job_done
    from tests.labels.test_sandbox_jobs import make_spec

    saved = (ext.SETTINGS.seconds_per_object, ext.SETTINGS.accuracy, ext.SETTINGS.start_delay)
    ext.configure(seconds_per_object=0.0, accuracy=1.0, start_delay=0.0)
    try:
        prefix = copy_samples(factory, world, 3)
        fix_role(factory, world)
        setup = build_setup_plan(factory, make_spec(world), prefix, create_job=False)
        apply_plan(setup.plan, factory, None)
        # Mechanical Turk without the declaration the API asks for: the job fails once it starts.
        req = {
            **setup.request,
            "InputConfig": {k: v for k, v in setup.request["InputConfig"].items() if k != "DataAttributes"},
        }
        factory.client("sagemaker").create_labeling_job(**req)
        assert wait_job_done(factory, req["LabelingJobName"]).status == "Failed"
    finally:
        ext.configure(seconds_per_object=saved[0], accuracy=saved[1], start_delay=saved[2])
    code, out, _ = doctor("--job", req["LabelingJobName"], "--json")
    data = json.loads(out)
    assert code == 1 and data["job"]["kind"] == "labeling" and data["job"]["status"] == "Failed"
    assert "personally identifiable information" in data["job"]["failure_reason"]
    manifest = req["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"]
    assert data["job"]["channels"] == [{"name": "manifest", "s3_uri": manifest}]
    assert data["job"]["output_path"] == req["OutputConfig"]["S3OutputPath"]
    # No refused request in that reason: nothing for the permissions engine to decide.
    assert data["verdict"] == "unknown" and data["findings"] == []


async def test_d_on_a_failed_tuning_job_opens_the_doctor_with_it(
    world: Any, factory: Any, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import screens.tune as tune_screen
    from screens.doctor import DoctorStep

    monkeypatch.setattr(tune_screen, "POLL_SECONDS", 0.3)
    base = prepare(world, factory, num_round=4)
    factory.client("iam").delete_role_policy(RoleName=world.role_name, PolicyName="tune-test-data")
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**tuning_request(tuning_config(base, name="tfail", max_jobs=2)))
    tuning_done(sm, "tfail")
    app = make_app(start_step="tune")
    app.state.tuning_job = "tfail"
    async with app.run_test(size=(130, 45)) as pilot:
        await eventually(pilot, lambda: app.identity is not None, 20.0, what="connected")
        screen = app.screen
        await eventually(
            pilot, lambda: screen.snapshot is not None and screen.snapshot.status == "Failed", 20.0
        )
        await pilot.press("d")
        await eventually(pilot, lambda: isinstance(app.screen, DoctorStep))
        doctor = app.screen
        await eventually(pilot, lambda: doctor.diagnosis is not None and not doctor.busy, 20.0)
        facts = shown(doctor.query_one("#doctor-job"))
        assert "tuning job tfail: Failed" in facts and "Data download failed" in facts
        assert f"channel train: s3://{world.default_bucket}/tune-data/train/" in facts
        assert doctor.diagnosis.verdict == "denied" and doctor.diagnosis.action == "s3:GetObject"


def test_a_job_whose_role_was_deleted_under_it(world: Any, factory: Any, doctor: Any) -> None:
    """The role existed when the job was created and was gone when SageMaker assumed it."""
    upload_csv(factory, world)
    old = trainer.set_pace(0.5)  # the job waits in Starting long enough for the role to go
    try:
        sm = factory.client("sagemaker")
        sm.create_training_job(**build_request(xgb_config(world, name="orphan")))
        iam = factory.client("iam")
        for p in iam.list_role_policies(RoleName=world.role_name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=world.role_name, PolicyName=p)
        for p in iam.list_attached_role_policies(RoleName=world.role_name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=world.role_name, PolicyArn=p["PolicyArn"])
        iam.delete_role(RoleName=world.role_name)
        reason = wait_done(sm, "orphan")["FailureReason"]
    finally:
        trainer.set_pace(old)
    assert "unable to assume the role" in reason
    code, out, _ = doctor("--job", "orphan", "--json")
    data = json.loads(out)
    assert code == 1 and data["job"]["role"] == world.role_arn
    assert data["findings"][0]["cause"] == "role-missing" and data["resource"] == world.role_arn


def test_fix_from_a_failed_job_applies_the_fix_and_the_rerun_gets_further(
    world: Any, factory: Any, doctor: Any
) -> None:
    """`--job NAME --fix --yes`: the refused download is fixed through the same plan as an error
    text's (least privilege: the refused request's prefix only), so a rerun of the same job gets
    past it and fails on the next refused request, which is fixed the same way. `--dry-run` first
    changes nothing."""
    failed_training(factory, world)
    code, out, err = doctor("--job", "denied", "--fix", "--dry-run")
    assert code == 1 and "dry run: nothing was changed" in out + err
    assert '"Resource": "arn:aws:s3:::' in out  # the plan's diff
    sm = factory.client("sagemaker")
    b = world.default_bucket
    job, fixed = "denied", []
    for attempt in range(2):
        code, out, _ = doctor("--job", job, "--fix", "--yes", "--json")
        data = json.loads(out)
        assert (code, data["result"]) == (0, "allowed"), data
        fixed.append(data["before"]["resource"])
        job = f"denied-{attempt}"
        sm.create_training_job(**build_request(xgb_config(world, name=job)))
        assert wait_done(sm, job)["TrainingJobStatus"] == "Failed"
    assert fixed == [
        f"arn:aws:s3:::{b}/xgb/train/train.csv",
        f"arn:aws:s3:::{b}/xgb/validation/validation.csv",
    ]
    code, out, _ = doctor("--job", job, "--json")  # now past both downloads: its model's upload
    assert json.loads(out)["resource"] == f"arn:aws:s3:::{b}/xgb/output/{job}/output/model.tar.gz"


def test_fix_flags_need_fix(doctor: Any) -> None:
    code, _, err = doctor("--job", "anything", "--yes")
    assert code == 2 and "--yes and --dry-run go with --fix" in err
