"""Automated data setup: everything a labeling job needs, as one plan the user confirms.

From the Data step's prefix: the input manifest (one source-ref line per image), the label category
file, our worker task template, the CORS rule Ground Truth needs on the bucket (as a diff against the
current configuration), then CreateLabelingJob itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from services.errors import NotFoundError, ValidationError, translate
from services.journal_events import Change, JobStarted, ResourceChanged, ResourceCreated
from services.labeling import manifest as mf
from services.labeling.request import JobSpec, build_request
from services.labeling.rules import check_s3_uri, split_s3
from services.labeling.template import worker_template
from services.plan import Action, Plan, unified_json_diff
from services.resource_kinds import ResourceKind

# "CORS Permission Requirement" (Ground Truth developer guide): workers' browsers fetch the images.
GT_CORS_RULE: dict[str, Any] = {
    "AllowedMethods": ["GET"],
    "AllowedOrigins": ["*"],
    "ExposeHeaders": ["Access-Control-Allow-Origin"],
}


@dataclass(frozen=True)
class Locations:
    base: str  # s3://bucket/ground-truth-demo/
    manifest_uri: str
    categories_uri: str
    template_uri: str
    output_path: str

    @property
    def bucket(self) -> str:
        return split_s3(self.base)[0]


def locations(data_prefix: str, job_name: str, output_path: str | None = None) -> Locations:
    """Where the job's files go: beside the images' folder, e.g. s3://b/ground-truth-demo/labeling/<job>/;
    the output under `output_path` (the Data step's choice) or s3://b/ground-truth-demo/output."""
    check_s3_uri(data_prefix, "data prefix")
    if output_path:
        check_s3_uri(output_path, "output path")
    bucket, key = split_s3(data_prefix)
    parts = [p for p in key.split("/") if p]
    base_key = "/".join(parts[:-1]) + "/" if len(parts) > 1 else ""
    base = f"s3://{bucket}/{base_key}"
    setup = f"{base}labeling/{job_name}/"
    out = output_path.rstrip("/") if output_path else f"{base}output"
    return Locations(base, setup + "input.manifest", setup + "label-categories.json",
                     setup + "worker-template.liquid.html", out)  # fmt: skip


def list_images(factory: Any, data_prefix: str, limit: int = 100_000) -> list[str]:
    """The image URIs under the prefix (jpg, jpeg, png), sorted; at most Ground Truth's 100,000."""
    bucket, prefix = split_s3(data_prefix)
    s3 = factory.client("s3")
    uris: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if obj["Key"].lower().endswith(mf.IMAGE_SUFFIXES):
                    uris.append(f"s3://{bucket}/{obj['Key']}")
    except Exception as exc:
        raise translate(exc, "s3:ListObjectsV2") from exc
    if not uris:
        raise NotFoundError(
            "No images to label",
            f"There are no .jpg, .jpeg or .png files under {data_prefix}.",
            "Run the Data step to copy the sample images there, or enter the prefix that holds your images.",
        )
    if len(uris) > limit:
        raise ValidationError(
            "data prefix",
            f"{len(uris)} images; Ground Truth accepts at most {limit} per job.",
            "Split the data.",
        )
    return sorted(uris)


def current_cors(factory: Any, bucket: str) -> list[dict[str, Any]]:
    import botocore.exceptions as bx

    try:
        return list(factory.client("s3").get_bucket_cors(Bucket=bucket).get("CORSRules", []))
    except bx.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
            return []
        raise translate(exc, "s3:GetBucketCors") from exc
    except Exception as exc:
        raise translate(exc, "s3:GetBucketCors") from exc


def cors_satisfied(rules: list[dict[str, Any]]) -> bool:
    for rule in rules:
        if "GET" in rule.get("AllowedMethods", []) and "*" in rule.get("AllowedOrigins", []):
            return True
    return False


def cors_action(bucket: str, current: list[dict[str, Any]]) -> Action | None:
    """Add Ground Truth's rule, keeping every existing rule; None when a rule already allows it."""
    if cors_satisfied(current):
        return None
    clean = [
        {k: v for k, v in r.items() if k != "ID"} | ({"ID": r["ID"]} if "ID" in r else {}) for r in current
    ]
    proposed = [*clean, dict(GT_CORS_RULE)]
    return Action(
        service="s3",
        operation="put_bucket_cors",
        params={"Bucket": bucket, "CORSConfiguration": {"CORSRules": proposed}},
        description=f"Allow workers' browsers to GET images from {bucket} (the CORS rule Ground Truth needs)",
        diff=unified_json_diff(
            {"CORSRules": current} if current else None,
            {"CORSRules": proposed},
            f"{bucket} CORS (current)",
            f"{bucket} CORS (proposed)",
        ),  # fmt: skip
        undo="restore the previous CORS configuration (kept in the journal)"
        if current
        else "delete the bucket's CORS configuration",
        resource=f"arn:aws:s3:::{bucket}",
        journal=ResourceChanged(
            ResourceKind.BUCKET,
            bucket,
            change=Change.CORS_REPLACED,
            attributes={"previous": current, "new": proposed},
        ),
    )


@dataclass(frozen=True)
class SetupPlan:
    plan: Plan
    spec: JobSpec  # with the S3 locations filled in
    request: dict[str, Any]
    images: tuple[str, ...]
    locations: Locations
    template: str
    manifest_text: str
    categories: dict[str, Any]


def _put(uri: str, body: str, what: str, content_type: str) -> Action:
    bucket, key = split_s3(uri)
    return Action(
        service="s3",
        operation="put_object",
        params={"Bucket": bucket, "Key": key, "Body": body.encode("utf-8"), "ContentType": content_type},
        description=f"Upload {what} to {uri}",
        undo=f"delete {uri}",
        resource=uri,
        journal=ResourceCreated(ResourceKind.OBJECT, uri, attributes={"what": what}),
    )


def build_setup_plan(factory: Any, spec: JobSpec, data_prefix: str, images: list[str] | None = None,
                     cors: list[dict[str, Any]] | None = None, create_job: bool = True,
                     output_path: str | None = None) -> SetupPlan:  # fmt: skip
    """The whole plan; reads the image list and the bucket's CORS unless given."""
    loc = locations(data_prefix, spec.job_name, output_path)
    spec = replace(spec, manifest_uri=loc.manifest_uri, categories_uri=loc.categories_uri,
                   template_uri=loc.template_uri, output_path=loc.output_path)  # fmt: skip
    request = build_request(spec)  # validates everything before any call
    if images is None:
        images = list_images(factory, data_prefix)
    if cors is None:
        cors = current_cors(factory, loc.bucket)
    manifest_text = mf.input_manifest(images)
    categories = mf.label_category_document(spec.labels)
    template = worker_template(spec.description, spec.instructions, spec.task_type)
    actions = [
        _put(
            loc.manifest_uri,
            manifest_text,
            f"the input manifest ({len(images)} images)",
            "application/x-ndjson",
        ),
        _put(
            loc.categories_uri,
            json.dumps(categories, indent=2),
            "the label category file",
            "application/json",
        ),
        _put(loc.template_uri, template, "the worker task template", "text/html"),
    ]
    cors_act = cors_action(loc.bucket, cors)
    if cors_act is not None:
        actions.append(cors_act)
    warnings: list[str] = []
    if create_job:
        actions.append(Action(
            service="sagemaker",
            operation="create_labeling_job",
            params=request,
            description=f"Create the labeling job {spec.job_name} ({len(images)} images, {len(spec.labels)} labels)",
            undo=f"stop it with StopLabelingJob {spec.job_name} (labeling jobs cannot be deleted)",
            resource=spec.job_name,
            journal=JobStarted(ResourceKind.LABELING_JOB, spec.job_name, attributes={
                "output_manifest": mf.output_manifest_uri(loc.output_path, spec.job_name),
                "label_attribute": spec.label_attribute}),  # fmt: skip
        ))  # fmt: skip
    title = "Labeling job setup" if create_job else "Labeling files (no job)"
    return SetupPlan(Plan(title, tuple(actions), tuple(warnings)), spec, request, tuple(images), loc, template,
                     manifest_text, categories)  # fmt: skip
