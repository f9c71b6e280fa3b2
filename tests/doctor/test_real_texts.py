"""Issue 19's corpus: error texts people met with SageMaker (public issue threads, cited per
scenario), rewritten onto the sandbox's names (account 123456789012, role service-role/SageMaker-tt,
the default bucket). Each builds its world in the emulator and runs through the scenario harness:
the first blocking cause, the fix (or what an administrator would do), the verdict turning to
allowed, and a live probe signed as the role where the emulator enforces it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from services.doctor.engine import diagnose
from services.doctor.model import Diagnosis, DoctorRequest
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory
from tests.doctor.harness import Scenario, factory_for, fresh_world, run
from tests.doctor.test_scenarios import allow, b_arn, deny, doc, good_role, role_policy

ACCT = "123456789012"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/SageMaker-tt/SageMaker"
ROLE = f"arn:aws:iam::{ACCT}:role/service-role/SageMaker-tt"
SM = "sagemaker.amazonaws.com"


def trust(f: SessionFactory, *stmts: dict[str, Any]) -> None:
    f.client("iam").update_assume_role_policy(RoleName="SageMaker-tt", PolicyDocument=json.dumps(doc(*stmts)))


def svc(service: str, **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", **kw}


def apply_trust_fix(w: SandboxWorld, f: SessionFactory, d: Diagnosis, r: DoctorRequest) -> DoctorRequest:
    """What the role's owner does with the role-trust fix: the exact document it proposes."""
    assert d.first_blocking and d.first_blocking.fix
    change = d.first_blocking.fix.changes[0]
    assert change["call"] == "iam:UpdateAssumeRolePolicy"
    f.client("iam").update_assume_role_policy(
        RoleName="SageMaker-tt", PolicyDocument=json.dumps(change["document"])
    )
    return d.request or r  # the same FailureReason, checked again


def rerun_with(text: str) -> Any:
    """The user re-runs the job as the fix says; its new text (or none) is checked."""

    def admin(w: SandboxWorld, f: SessionFactory, d: Diagnosis, r: DoctorRequest) -> DoctorRequest:
        return DoctorRequest(error_text=text, principal=(d.request.principal if d.request else None))

    return admin


def upload_input(prefix: str) -> Any:
    def admin(w: SandboxWorld, f: SessionFactory, d: Diagnosis, r: DoctorRequest) -> DoctorRequest:
        f.client("s3").put_object(Bucket=w.default_bucket, Key=prefix + "train.csv", Body=b"1,2\n")
        return d.request or r

    return admin


def grant_good_role(w: SandboxWorld, f: SessionFactory, d: Diagnosis, r: DoctorRequest) -> DoctorRequest:
    """An administrator lifts the stated limit; the request is checked again by its fields."""
    role_policy(f, good_role(w))
    return DoctorRequest(principal=w.role_arn, bucket=w.default_bucket, key="ground-truth-demo/a.jpg",
                         action=d.action or "s3:GetObject")  # fmt: skip


def grant_and_put(w: SandboxWorld, f: SessionFactory, statement: dict[str, Any]) -> None:
    """The role holds only `statement`; the job's input exists."""
    role_policy(f, doc(statement))
    f.client("s3").put_object(Bucket=w.default_bucket, Key="train/a.csv", Body=b"1")


def denied_text(action: str, reason: str, principal: str = SESSION, resource: str | None = None) -> str:
    op = action.split(":", 1)[1]
    on = f" on resource: {resource}" if resource else ""
    return (
        f"botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the {op} operation: "
        f"User: {principal} is not authorized to perform: {action}{on} {reason}"
    )


def no_objects(w: SandboxWorld, prefix: str) -> str:
    # aws/sagemaker-python-sdk issue threads quote this FailureReason verbatim (training, tuning).
    return (
        f'ClientError: No S3 objects found under S3 URL "s3://{w.default_bucket}/{prefix}" given in input data '
        f"source. Please ensure that the bucket exists in the selected region ({w.region}), that objects exist "
        f'under that S3 prefix, and that the role "{w.role_arn}" has "s3:ListBucket" permissions on bucket '
        f'"{w.default_bucket}".'
    )


NOISE = "2024-05-01 10:00:00 INFO sagemaker.image_uris: Same images used for training and inference.\n"

CORPUS = [
    # aws/sagemaker-python-sdk#35: "Failed Reason: ClientError: SageMaker was unable to assume the role"
    Scenario("fr-unable-to-assume-no-service", lambda w: DoctorRequest(
        error_text=f"ValueError: Error training job-1: Failed Reason: ClientError: SageMaker was unable to assume the role '{w.role_arn}'"),
        "role-trust", setup=lambda w, f: trust(f, svc("ec2.amazonaws.com")), admin=apply_trust_fix),
    # astronomer/docs#1695: TrainingHostAgent ... "SageMaker is unable to perform: sts:AssumeRole on the role"
    Scenario("fr-host-agent-source-account", lambda w: DoctorRequest(
        error_text="ClientError: TrainingHostAgent Initialization failed:InvalidInputException: SageMaker is unable "
        "to perform: sts:AssumeRole on the role. Check if you have a trust relationship for 'sagemaker.amazonaws.com' "
        "to assume the role.", principal=w.role_arn),
        "role-trust", setup=lambda w, f: trust(f, svc(SM, Condition={"StringEquals": {"aws:SourceAccount": "111111111111"}})),
        admin=apply_trust_fix),
    # the confused-deputy guard pointing at another account's SageMaker ARN
    Scenario("fr-assume-source-arn", lambda w: DoctorRequest(
        error_text=f"ClientError: SageMaker was unable to assume the role '{w.role_arn}'"),
        "role-trust", setup=lambda w, f: trust(f, svc(SM, Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:eu-north-1:111111111111:*"}})),
        admin=apply_trust_fix),
    Scenario("fr-assume-explicit-deny", lambda w: DoctorRequest(
        error_text=f"ClientError: SageMaker was unable to assume the role '{w.role_arn}'"),
        "role-trust", setup=lambda w, f: trust(f, svc(SM), {"Effect": "Deny", "Principal": {"Service": SM}, "Action": "sts:AssumeRole"}),
        admin=apply_trust_fix),
    # aws/sagemaker-python-sdk#43: the role's ARN without its service-role/ path
    Scenario("fr-arn-without-path", lambda w: DoctorRequest(
        error_text=f"ClientError: SageMaker was unable to assume the role 'arn:aws:iam::{ACCT}:role/SageMaker-tt'"),
        "role-missing", admin=rerun_with(f"ClientError: SageMaker was unable to assume the role '{ROLE}'")),
    # awslabs/predictive-maintenance-using-machine-learning#3: ValidationException, role does not exist
    Scenario("sdk-could-not-assume-missing-role", lambda w: DoctorRequest(
        error_text="[ERROR] ClientError: An error occurred (ValidationException) when calling the CreateTransformJob "
        f"operation: Could not assume role arn:aws:iam::{ACCT}:role/PredMaint-NotebookInstanceExecutionRole. "
        "Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."),
        "role-missing", admin=rerun_with(f"ClientError: SageMaker was unable to assume the role '{ROLE}'")),
    # No S3 objects found, the prefix really empty (role may list): input-missing
    Scenario("fr-no-objects-empty-prefix", lambda w: DoctorRequest(error_text=no_objects(w, "train/")),
        "input-missing", setup=lambda w, f: role_policy(f, good_role(w)), admin=upload_input("train/"), probe_after=True),
    # the same text, the role lacking s3:ListBucket: the permission, not the data
    Scenario("fr-no-objects-no-listbucket", lambda w: DoctorRequest(error_text=no_objects(w, "train/")),
        "identity-no-allow",
        setup=lambda w, f: grant_and_put(w, f, allow("s3:GetObject", b_arn(w) + "/*")),
        probe_before=True, probe_after=True),
    # the text names a prefix in which both hold: no ListBucket and nothing there; fixed one after the other
    Scenario("fr-no-objects-both", lambda w: DoctorRequest(error_text=no_objects(w, "validation/")),
        "identity-no-allow", setup=lambda w, f: role_policy(f, doc(allow("s3:GetObject", b_arn(w) + "/*"))),
        admin=upload_input("validation/")),
    # elife-sciences/elife-xpub#791: `aws s3 cp` upload failed line (the seed's wrong-resource grant)
    Scenario("cli-upload-failed", lambda w: DoctorRequest(
        error_text=f"upload failed: ./test-file to s3://{w.default_bucket}/ground-truth-demo/images/a.jpg An error "
        "occurred (AccessDenied) when calling the PutObject operation: Access Denied", default_principal=w.role_arn),
        "identity-wrong-resource", probe_before=True, probe_after=True),
    # aws/aws-cli#813: the CLI's older wording "A client error (AccessDenied) occurred"
    Scenario("cli-old-client-error", lambda w: DoctorRequest(
        error_text=f"upload failed: ./baz to s3://{w.default_bucket}/ground-truth-demo/baz A client error "
        "(AccessDenied) occurred when calling the PutObject operation: Access Denied", default_principal=w.role_arn),
        "identity-wrong-resource", probe_after=True),
    # open-data-registry#1913: `aws s3 ls` refused
    Scenario("cli-ls-refused", lambda w: DoctorRequest(
        error_text=f"$ aws s3 ls s3://{w.default_bucket}/\n\nAn error occurred (AccessDenied) when calling the "
        "ListObjectsV2 operation: Access Denied", default_principal=w.role_arn),
        "identity-no-allow", setup=lambda w, f: role_policy(f, doc(allow("s3:GetObject", b_arn(w) + "/*"))),
        probe_before=True, probe_after=True),
    # MetOffice/aws-earth-examples#2: `aws s3 cp` HEAD 403 on a key that is not there, no ListBucket
    Scenario("cli-head-forbidden-missing-key", lambda w: DoctorRequest(
        error_text=f"aws s3 cp s3://{w.default_bucket}/ground-truth-demo/missing.nc sample.nc\nfatal error: An error "
        "occurred (403) when calling the HeadObject operation: Forbidden", default_principal=w.role_arn,
        bucket=w.default_bucket, key="ground-truth-demo/missing.nc"),
        "object-missing-no-list", setup=lambda w, f: role_policy(f, doc(allow("s3:GetObject", b_arn(w) + "/*")))),
    # lucyparsons/OpenOversight#191: boto3 S3UploadFailedError inside a longer traceback
    Scenario("sdk-s3uploadfailed-traceback", lambda w: DoctorRequest(
        error_text="Traceback (most recent call last):\n  File \"utils.py\", line 36, in upload_file\n"
        "boto3.exceptions.S3UploadFailedError: Failed to upload /tmp/x.png to "
        f"{w.default_bucket}/ground-truth-demo/x.png: An error occurred (AccessDenied) when calling the PutObject "
        "operation: Access Denied", default_principal=w.role_arn, default_bucket=w.default_bucket,
        key="ground-truth-demo/x.png"),
        "identity-wrong-resource", probe_after=True),
    # a traceback holding two errors: the last one decided (NoSuchKey first, then the refusal)
    Scenario("sdk-traceback-last-error", lambda w: DoctorRequest(
        error_text="botocore.exceptions.ClientError: An error occurred (NoSuchKey) when calling the GetObject "
        "operation: The specified key does not exist.\n\nDuring handling of the above exception, another exception "
        "occurred:\n\n" + denied_text("s3:PutObject", "because no identity-based policy allows the s3:PutObject action",
                                      resource=f"arn:aws:s3:::{w.default_bucket}/ground-truth-demo/images/a.jpg")),
        "identity-wrong-resource", probe_after=True),
    # a 2 MB training log whose last line is the refusal
    Scenario("log-2mb-last-line", lambda w: DoctorRequest(
        error_text=NOISE * 25_000 + f"upload failed: ./m.tar.gz to s3://{w.default_bucket}/ground-truth-demo/m.tar.gz "
        "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied\n",
        default_principal=w.role_arn),
        "identity-wrong-resource", probe_after=True),
    # S3 console banner (bucket typed by the user in the form)
    Scenario("console-list-banner", lambda w: DoctorRequest(
        error_text="Insufficient permissions to list objects\nAfter you or your AWS administrator has updated your "
        "permissions to allow the s3:ListBucket action, refresh the page. Learn more about Identity and access "
        "management in Amazon S3", principal=w.role_arn, bucket=w.default_bucket),
        "identity-no-allow", setup=lambda w, f: role_policy(f, doc(allow("s3:GetObject", b_arn(w) + "/*"))),
        probe_before=True, probe_after=True),
    # training FailureReason: Data download failed wrapping a 403
    Scenario("fr-data-download-failed", lambda w: DoctorRequest(
        error_text=f"ClientError: Data download failed:Could not download s3://{w.default_bucket}/train/a.csv: "
        "insufficient disk space or AccessDenied (403)", principal=w.role_arn),
        "bucket-policy-wrong-resource",
        causes=("identity-no-allow",),  # same account: either grant is enough
        setup=lambda w, f: grant_and_put(w, f, allow("s3:ListBucket", b_arn(w))),
        probe_before=True, probe_after=True),
    # messages naming the deciding policy type but no resource: the stated cause, at once
    Scenario("no-resource-session-policy", lambda w: DoctorRequest(
        error_text=denied_text("s3:GetObject", "because no session policy allows the s3:GetObject action")),
        "session-policy", admin=grant_good_role),
    Scenario("no-resource-identity", lambda w: DoctorRequest(
        error_text=denied_text("s3:GetObject", "because no identity-based policy allows the s3:GetObject action")),
        "identity-no-allow", admin=grant_good_role),
    Scenario("no-resource-boundary", lambda w: DoctorRequest(
        error_text=denied_text("s3:PutObject", "because no permissions boundary allows the s3:PutObject action")),
        "permissions-boundary", admin=grant_good_role),
    Scenario("no-resource-scp", lambda w: DoctorRequest(
        error_text=denied_text("s3:GetObject", "with an explicit deny in a service control policy")),
        "organizations-policy", admin=grant_good_role),
    Scenario("no-resource-vpce", lambda w: DoctorRequest(
        error_text=denied_text("s3:GetObject", "because no VPC endpoint policy allows the s3:GetObject action")),
        "vpc-endpoint-policy", admin=grant_good_role),
    Scenario("no-resource-identity-explicit", lambda w: DoctorRequest(
        error_text=denied_text("s3:PutObject", "with an explicit deny in an identity-based policy")),
        "identity-explicit-deny", admin=grant_good_role),
    # aws/amazon-sagemaker-feedback#61: iam:PassRole refused (identity), from a Studio traceback
    Scenario("sdk-passrole-identity", lambda w: DoctorRequest(
        error_text=denied_text("iam:PassRole", "because no identity-based policy allows the iam:PassRole action",
                               resource=w.role_arn).replace("AccessDenied)", "AccessDeniedException)")
        .replace("PassRole operation", "CreateTrainingJob operation")),
        "identity-no-allow",
        setup=lambda w, f: role_policy(f, doc(allow("s3:*", "*"))), probe_after=False),
    # wpilibsuite/DetectCoral#20: sagemaker:CreateTrainingJob with an explicit deny
    Scenario("sdk-create-training-job-explicit-deny", lambda w: DoctorRequest(
        error_text=denied_text("sagemaker:CreateTrainingJob", "with an explicit deny",
                               resource=f"arn:aws:sagemaker:{w.region}:{ACCT}:training-job/wpi-cpu-1")
        .replace("AccessDenied)", "AccessDeniedException)").replace("GetObject", "CreateTrainingJob")),
        "identity-explicit-deny",
        setup=lambda w, f: role_policy(f, doc(allow("sagemaker:*", "*"), deny("sagemaker:CreateTrainingJob", "*")), "guard"),
        admin=lambda w, f, d, r: (role_policy(f, doc(allow("sagemaker:*", "*")), "guard"), r)[1]),
]  # fmt: skip


@pytest.fixture
def rworld(sandbox: Sandbox) -> Iterator[SandboxWorld]:
    w = fresh_world(sandbox)
    iam = factory_for(w.target()).client("iam")
    seed_trust = iam.get_role(RoleName="SageMaker-tt")["Role"]["AssumeRolePolicyDocument"]
    yield w
    # The scenario harness restores policies, not trust policies: put the seed's back.
    doc_ = seed_trust if isinstance(seed_trust, str) else json.dumps(seed_trust)
    iam.update_assume_role_policy(RoleName="SageMaker-tt", PolicyDocument=doc_)


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(CORPUS) >= 25
    assert {"role-trust", "role-missing", "input-missing"} <= {s.first for s in CORPUS}
    assert len({s.id for s in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("sc", CORPUS, ids=[s.id for s in CORPUS])
def test_real_text(sc: Scenario, rworld: SandboxWorld, journal: Any) -> None:
    run(sc, rworld, journal)


def test_the_seed_trust_is_allowed_as_read(rworld: SandboxWorld) -> None:
    f = factory_for(rworld.target())
    d = diagnose(DoctorRequest(error_text=f"ClientError: SageMaker was unable to assume the role '{rworld.role_arn}'"),
                 f, caller_account=rworld.account, region=rworld.region)  # fmt: skip
    assert d.verdict == "allowed" and d.calls == 1 and not d.assumptions


def test_the_trust_fix_keeps_other_statements_and_pins_the_account() -> None:
    from services.doctor.job_causes import trust_problem, trusted_policy

    broken = doc(
        svc("ec2.amazonaws.com"), svc(SM, Condition={"StringEquals": {"aws:SourceAccount": "111111111111"}})
    )
    assert trust_problem(broken, ACCT) is not None
    fixed = trusted_policy(broken, ACCT)
    assert trust_problem(fixed, ACCT) is None
    assert svc("ec2.amazonaws.com") in fixed["Statement"]
    assert trust_problem(fixed, "999999999999") is not None  # the guard stays: another account is refused


def test_a_passrole_fix_carries_passed_to_service(rworld: SandboxWorld) -> None:
    sc = next(s for s in CORPUS if s.id == "sdk-passrole-identity")
    f = factory_for(rworld.target())
    assert sc.setup is not None
    sc.setup(rworld, f)
    d = diagnose(sc.request(rworld), f, caller_account=rworld.account, region=rworld.region, sandbox=True)
    assert d.first_blocking and d.first_blocking.fix
    shown = json.dumps(d.first_blocking.fix.to_json())
    assert '"iam:PassedToService": "sagemaker.amazonaws.com"' in shown and rworld.role_arn in shown


def test_a_sagemaker_refusal_without_resource_asks_for_the_resource_not_a_bucket() -> None:
    from services.doctor.engine import precheck

    text = (
        f"User: {SESSION} is not authorized to perform: sagemaker:CreateTrainingJob "
        "because no identity-based policy allows the sagemaker:CreateTrainingJob action"
    )
    d = precheck(DoctorRequest(error_text=text), principal_from_caller=False)
    assert (
        d is not None
        and d.verdict == "denied"
        and d.first_blocking
        and d.first_blocking.cause == "identity-no-allow"
    )
    assert [m for m in d.missing if "bucket" in m] == [] and any("resource" in m for m in d.missing)
