"""The sandbox's labeling jobs: validation like the real API, a workforce that labels, real layout."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.errors import AccessDeniedError, ConflictError, SagewizError, translate
from services.labeling import jobs, rules
from services.labeling.manifest import output_manifest_uri
from services.labeling.request import PRIVATE, PUBLIC, JobSpec, Workforce
from services.labeling.setup import build_setup_plan, list_images
from services.plan import apply_plan
from services.sandbox.extensions import labeling as ext
from services.sandbox.images import true_class
from tests.support import eventually_blocking

from .helpers import copy_samples, fix_role, wait_job_done

LAMBDAS = rules.TaskLambdas("arn:aws:lambda:eu-north-1:123456789012:function:PRE-ImageMultiClass",
                            "arn:aws:lambda:eu-north-1:123456789012:function:ACS-ImageMultiClass", False)  # fmt: skip


def make_spec(world, **kw) -> JobSpec:
    wf = Workforce(PUBLIC, 12, free_of_pii=True, free_of_adult_content=True, acknowledged=True)
    return replace(JobSpec(region=world.region, role_arn=world.role_arn, workforce=wf, lambdas=LAMBDAS), **kw)


def test_seeded_role_cannot_read_the_manifest_so_create_fails_like_aws(world, factory, journal) -> None:
    prefix = copy_samples(factory, world, 5)
    setup = build_setup_plan(factory, make_spec(world), prefix)
    with pytest.raises(SagewizError) as err:
        apply_plan(setup.plan, factory, journal)
    assert err.value.code == "ValidationException"
    assert "cannot read the input manifest" in err.value.message and "s3:GetObject" in err.value.message
    # the uploads before the failed call are journaled; the job is not
    kinds = [e.kind for e in journal.entries()]
    assert "resource-created" in kinds and "job-started" not in kinds


def test_job_runs_to_completion_and_writes_the_real_layout(world, factory, journal) -> None:
    prefix = copy_samples(factory, world)
    fix_role(factory, world)
    setup = build_setup_plan(factory, make_spec(world, workers_per_object=3), prefix)
    ops = [a.operation for a in setup.plan.actions]
    assert ops == ["put_object", "put_object", "put_object", "put_bucket_cors", "create_labeling_job"]
    apply_plan(setup.plan, factory, journal)
    assert journal.entries("job-started")[0].data["id"] == "vehicle-labels"
    st = wait_job_done(factory, "vehicle-labels")
    assert st.status == "Completed", st.failure_reason
    assert (st.labeled, st.failed, st.unlabeled) == (50, 0, 0)
    assert st.output_manifest == output_manifest_uri(setup.locations.output_path, "vehicle-labels")
    assert st.cost_so_far == pytest.approx(50 * 3 * 0.012)
    parsed = jobs.read_output(factory, st.output_manifest, st.categories_uri)
    assert parsed.problems == () and len(parsed.objects) == 50
    assert parsed.label_attribute == "vehicle-labels"
    # accuracy 1.0: every label is the class the pixels show
    for obj in parsed.objects[:10]:
        assert obj.label == true_class(jobs.read_bytes(factory, obj.source_ref))
        assert 0.9 <= obj.confidence < 1.0 and obj.job_name == "vehicle-labels"  # unanimous, as written
    # per-object confidences as the consolidation writes them: never 0, not all the same
    confidences = {o.confidence for o in parsed.objects}
    assert min(confidences) > 0 and len(confidences) > 1
    listed = factory.client("sagemaker").list_labeling_jobs(StatusEquals="Completed")[
        "LabelingJobSummaryList"
    ]
    assert [j["LabelingJobName"] for j in listed] == ["vehicle-labels"]
    keys = factory.client("s3").list_objects_v2(
        Bucket=world.default_bucket,
        Prefix="ground-truth-demo/output/vehicle-labels/annotations/worker-response/",
    )
    assert keys["KeyCount"] == 50
    # a second job of the same name is refused
    with pytest.raises(ConflictError):
        try:
            factory.client("sagemaker").create_labeling_job(**setup.request)
        except Exception as exc:
            raise translate(exc) from exc
    # CORS is there now, so a new plan does not touch it
    again = build_setup_plan(factory, make_spec(world, job_name="second", label_attribute="second"), prefix)
    assert "put_bucket_cors" not in [a.operation for a in again.plan.actions]


def test_stop_and_private_team(world, factory, journal) -> None:
    ext.configure(seconds_per_object=0.05)
    prefix = copy_samples(factory, world, 20)
    fix_role(factory, world)
    teams = jobs.list_private_teams(factory)
    assert teams and teams[0].arn.endswith("workteam/private-crowd/sandbox-labelers")
    spec = make_spec(world, workforce=Workforce(PRIVATE, team_arn=teams[0].arn))
    apply_plan(build_setup_plan(factory, spec, prefix).plan, factory, journal)
    eventually_blocking(
        lambda: jobs.describe_job(factory, spec.job_name).labeled >= 2,
        10,
        what="two images labeled",
        every=0.02,
    )
    jobs.stop_job(factory, spec.job_name)
    st = wait_job_done(factory, spec.job_name)
    assert st.status == "Stopped"
    assert 2 <= st.labeled < 20 and st.price_mills == 0 and st.cost_so_far == 0
    parsed = jobs.read_output(factory, st.output_manifest)
    assert len(parsed.objects) == st.labeled


def test_the_sandbox_validates_like_the_api(world, factory) -> None:
    prefix = copy_samples(factory, world, 3)
    fix_role(factory, world)
    sm = factory.client("sagemaker")
    setup = build_setup_plan(factory, make_spec(world), prefix, create_job=False)
    apply_plan(setup.plan, factory, None)

    def refused(**changes) -> str:
        req = {**setup.request, **changes}
        with pytest.raises(Exception) as err:
            sm.create_labeling_job(**req)
        return translate(err.value).message

    assert "regular expression pattern" in refused(LabelAttributeName="bad_attr")
    hc = dict(setup.request["HumanTaskConfig"], TaskDescription="x" * 256)
    assert "length less than or equal to 255" in refused(HumanTaskConfig=hc)
    hc = dict(
        setup.request["HumanTaskConfig"],
        PreHumanTaskLambdaArn="arn:aws:lambda:us-east-1:432418664414:function:PRE-ImageMultiClass",
    )
    assert "not in the job's region" in refused(HumanTaskConfig=hc)
    hc = {k: v for k, v in setup.request["HumanTaskConfig"].items() if k != "PublicWorkforceTaskPrice"}
    assert "PublicWorkforceTaskPrice is required" in refused(HumanTaskConfig=hc)
    assert "does not exist" in refused(RoleArn=f"arn:aws:iam::{world.account}:role/nobody")
    assert "cannot be read" in refused(LabelCategoryConfigS3Uri=f"s3://{world.default_bucket}/missing.json")
    with pytest.raises(Exception) as err:
        sm.describe_labeling_job(LabelingJobName="nope")
    assert translate(err.value).code == "ResourceNotFound"


def test_role_denied_on_images_counts_failed_objects(world, factory, journal) -> None:
    """The manifest is readable, the images are not: each object fails, as with a real job."""
    fix_role(factory, world)
    prefix = copy_samples(factory, world, 3)
    images = list_images(factory, prefix)
    outside = [u.replace(world.default_bucket, "sagewiz-elsewhere") for u in images]
    s3 = factory.client("s3")
    s3.create_bucket(
        Bucket="sagewiz-elsewhere", CreateBucketConfiguration={"LocationConstraint": world.region}
    )
    for src, dst in zip(images, outside, strict=True):
        s3.copy_object(Bucket="sagewiz-elsewhere", Key=dst.split("/", 3)[3], CopySource=src[5:])
    setup = build_setup_plan(factory, make_spec(world), prefix, images=outside)
    apply_plan(setup.plan, factory, journal)
    st = wait_job_done(factory, "vehicle-labels")
    assert st.status == "Failed" and st.failed == 3
    assert "s3:GetObject" in st.failure_reason


def test_access_denied_reading_output_is_translated(world, role_factory) -> None:
    with pytest.raises(AccessDeniedError):
        jobs.read_text(role_factory, f"s3://{world.default_bucket}/ground-truth-demo/x.manifest")


def test_multi_label_job_writes_the_multilabel_format(world, factory, journal) -> None:
    prefix = copy_samples(factory, world, 6)
    fix_role(factory, world)
    lam = rules.TaskLambdas(LAMBDAS.pre + "MultiLabel", LAMBDAS.consolidation + "MultiLabel", False)
    spec = make_spec(world, task_type=rules.MULTI, lambdas=lam, workers_per_object=3)
    apply_plan(build_setup_plan(factory, spec, prefix).plan, factory, journal)
    st = wait_job_done(factory, spec.job_name)
    assert st.status == "Completed"
    parsed = jobs.read_output(factory, st.output_manifest)
    assert parsed.problems == () and len(parsed.objects) == 6
    assert all(o.multi for o in parsed.objects)
    line = jobs.read_text(factory, st.output_manifest).splitlines()[0]
    assert '"type":"groundtruth/image-classification-multilabel"' in line and '"class-map"' in line


def test_role_access_is_judged_from_identity_and_bucket_policies(world, factory) -> None:
    import json

    b, role = world.default_bucket, world.role_arn
    s3 = factory.client("s3")

    def allowed() -> bool:
        return ext.role_allowed(world.account, role, "s3:GetObject", b, "ground-truth-demo/x.manifest")

    assert not allowed()  # the seed: identity policy on the bucket ARN, bucket policy without /*

    def bucket_policy(*statements) -> None:
        s3.put_bucket_policy(
            Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        )

    grant = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}
    bucket_policy({**grant, "Principal": {"AWS": f"arn:aws:iam::{world.account}:root"}})
    assert not allowed()  # naming the account delegates to IAM policies
    bucket_policy({**grant, "Principal": {"AWS": role}})
    assert allowed()  # the bucket policy names the role
    fix_role(factory, world)
    bucket_policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{b}/ground-truth-demo/*",
        }
    )
    assert not allowed()  # an explicit Deny wins over the role's Allow
