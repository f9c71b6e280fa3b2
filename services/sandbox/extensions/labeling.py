"""Ground Truth labeling jobs for the sandbox: CreateLabelingJob, DescribeLabelingJob,
ListLabelingJobs, StopLabelingJob and ListWorkteams, which moto does not implement.

Requests are validated like the real API: the botocore model's required members, lengths, patterns
and enums; a unique job name; the role must exist and be able to read the input manifest, the label
category file and the worker template (judged from the role's own IAM policies and the bucket
policy, the same documents AWS would evaluate). A sandbox workforce thread then labels the images
progressively: each simulated worker recognises the class from the pixels
(`services.sandbox.images.true_class`) and is right with a configurable probability; answers are
consolidated by majority vote, and the output is written in Ground Truth's real S3 layout
(`<output>/<job>/manifests/output/output.manifest`, `annotations/worker-response/...`).

About 550 lines and one concern: one emulated API, whose handlers, validation and workforce share
the job records and their lock; splitting them would spread one state machine over several files.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LOCK = threading.Lock()
PUBLIC_WORKTEAM_ACCOUNT = "394669845002"
SANDBOX_TEAM = "sandbox-labelers"


@dataclass
class WorkforceSettings:
    """How the sandbox workforce behaves; env overrides for demos, `configure` for tests."""

    seconds_per_object: float = float(os.environ.get("SAGEWIZ_SANDBOX_LABEL_SECONDS", "0.25"))
    accuracy: float = float(os.environ.get("SAGEWIZ_SANDBOX_LABEL_ACCURACY", "0.92"))
    start_delay: float = float(os.environ.get("SAGEWIZ_SANDBOX_LABEL_START", "0.5"))


SETTINGS = WorkforceSettings()
_clock: list[Any] = [None]  # a frozen clock for deterministic tests; None means the real time


def _consolidated_confidence(share: float, rng: random.Random) -> float:
    """A confidence like Ground Truth's annotation consolidation writes: high when the workers
    agree (never exactly 1), lower when they split, and varying from object to object, also for a
    single worker."""
    return round(min(0.99, max(0.01, 0.5 + 0.45 * share + rng.uniform(-0.04, 0.04))), 2)


def configure(clock: Any = "unchanged", **values: float) -> WorkforceSettings:
    """Change the workforce's speed and accuracy (and, for tests, its clock: a callable or None)."""
    if clock != "unchanged":
        _clock[0] = clock
    for key, value in values.items():
        if not hasattr(SETTINGS, key):
            raise AttributeError(key)
        setattr(SETTINGS, key, float(value))
    return SETTINGS


# -- permission judgement (the role's view) ----------------------------------------------------
def role_allowed(account: str, role_arn: str, action: str, bucket: str, key: str) -> bool:
    """Would AWS let the role do `action` on s3://bucket/key? Same-account rules: an explicit Deny
    anywhere wins; otherwise an Allow in the role's identity policies or in the bucket policy."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.models import iam_backends

    resource = f"arn:aws:s3:::{bucket}/{key}"
    iam = iam_backends[account]["aws"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:
        return False
    results = []
    for doc in role.policies.values():
        results.append(IAMPolicy(doc).is_action_permitted(action, resource))
    for policy in role.managed_policies.values():
        results.append(IAMPolicy(policy).is_action_permitted(action, resource))
    for statement in _bucket_statements(account, bucket, role_arn):
        results.append(
            IAMPolicy(json.dumps({"Statement": [statement]})).is_action_permitted(action, resource)
        )
    if PermissionResult.DENIED in results:
        return False
    return PermissionResult.PERMITTED in results


def _bucket_statements(account: str, bucket: str, role_arn: str) -> list[dict[str, Any]]:
    """Bucket policy statements that apply to the role (principal stripped for evaluation)."""
    s3 = _s3(account)
    try:
        raw = s3.get_bucket(bucket).policy
    except Exception:
        return []
    if not raw:
        return []
    try:
        doc = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except ValueError:
        return []
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    # Naming the account (root) delegates to IAM policies; only "*" or the role itself grants here.
    for st in statements:
        principal = st.get("Principal")
        names: list[str] = []
        if principal == "*":
            names = ["*"]
        elif isinstance(principal, dict):
            aws = principal.get("AWS", [])
            names = [aws] if isinstance(aws, str) else list(aws)
        if not any(n in ("*", role_arn) for n in names):
            continue
        out.append({k: v for k, v in st.items() if k not in ("Principal", "Condition")})
    return out


def _s3(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def _read(account: str, uri: str) -> bytes:
    bucket, _, key = uri[5:].partition("/")
    obj = _s3(account).get_object(bucket, key)
    if obj is None:
        raise KeyError(uri)
    return bytes(obj.value)


def _write(account: str, uri: str, body: bytes) -> None:
    bucket, _, key = uri[5:].partition("/")
    _s3(account).put_object(bucket, key, body)


def _split(uri: str) -> tuple[str, str]:
    if uri.startswith("https://"):
        # virtual-hosted or path style https URIs are allowed by the model; the sandbox reads s3:// only
        raise _validation(f"The sandbox reads s3:// URIs only, got {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


# -- errors ------------------------------------------------------------------------------------
def _validation(message: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    return ValidationError(message)


def _in_use(message: str) -> Exception:
    from moto.sagemaker.exceptions import ResourceInUseException

    return ResourceInUseException(message)


def _not_found(message: str) -> Exception:
    from moto.sagemaker.exceptions import ResourceNotFound

    return ResourceNotFound(message)


# -- state -------------------------------------------------------------------------------------
def _jobs(backend: Any) -> dict[str, dict[str, Any]]:
    # Kept on the backend instance so moto's reset wipes it with everything else.
    store: dict[str, dict[str, Any]] | None = backend.__dict__.get("_sagewiz_labeling_jobs")
    if store is None:
        store = {}
        backend.__dict__["_sagewiz_labeling_jobs"] = store
    return store


def _now() -> datetime:
    return _clock[0]() if _clock[0] is not None else datetime.now(UTC)


def _check_readable(account: str, role_arn: str, uri: str, what: str) -> bytes:
    bucket, key = _split(uri)
    if not role_allowed(account, role_arn, "s3:GetObject", bucket, key):
        raise _validation(
            f"The role {role_arn} cannot read the {what} {uri}: Access Denied "
            f"(its policies do not allow s3:GetObject on arn:aws:s3:::{bucket}/{key})."
        )
    try:
        return _read(account, uri)
    except Exception:
        raise _validation(f"The {what} {uri} does not exist or cannot be read.") from None


def _validate(
    account: str, region: str, params: dict[str, Any], jobs: dict[str, dict[str, Any]]
) -> list[str]:
    from services.model_check import check_request, format_problems

    problems = check_request("CreateLabelingJob", params)
    if problems:
        raise _validation(format_problems(problems))
    name = params["LabelingJobName"]
    if name.lower() in jobs:
        arn = jobs[name.lower()]["LabelingJobArn"]
        raise _in_use(
            f"Job name must be unique within an AWS account and region, and a job with this name already exists ({arn})"
        )
    attr = params["LabelAttributeName"]
    if attr.endswith("-metadata"):
        raise _validation("LabelAttributeName can't end with -metadata.")
    hc = params["HumanTaskConfig"]
    if "UiTemplateS3Uri" not in hc["UiConfig"]:
        raise _validation(
            "Image classification needs UiConfig.UiTemplateS3Uri (there is no HumanTaskUiArn for it)."
        )
    pre = hc.get("PreHumanTaskLambdaArn")
    acs = (hc.get("AnnotationConsolidationConfig") or {}).get("AnnotationConsolidationLambdaArn")
    if not pre or not acs:
        raise _validation(
            "PreHumanTaskLambdaArn and AnnotationConsolidationConfig are required for built-in task types."
        )
    for arn in (pre, acs):
        if arn.split(":")[3] != region:
            raise _validation(f"The Lambda {arn} is not in the job's region {region}.")
    team = hc["WorkteamArn"]
    if team.split(":")[3] != region:
        raise _validation(f"The work team {team} is not in the job's region {region}.")
    if f":{PUBLIC_WORKTEAM_ACCOUNT}:workteam/public-crowd/" in team:
        if "PublicWorkforceTaskPrice" not in hc:
            raise _validation(
                "PublicWorkforceTaskPrice is required when the Mechanical Turk workforce is used."
            )
    elif team != _team_arn(account, region):
        raise _validation(f"The work team {team} does not exist.")
    role_arn = params["RoleArn"]
    from moto.iam.models import iam_backends

    try:
        iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        raise _validation(f"Could not assume role {role_arn}: it does not exist in this account.") from None
    manifest = _check_readable(
        account,
        role_arn,
        params["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"],
        "input manifest",
    )
    lines = [ln for ln in manifest.decode("utf-8", "replace").splitlines() if ln.strip()]
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError:
            raise _validation(f"The input manifest line {n} is not valid JSON.") from None
        if not isinstance(obj, dict) or not ({"source-ref", "source"} & set(obj)):
            raise _validation(f"The input manifest line {n} has neither source-ref nor source.")
    if not lines:
        raise _validation("The input manifest is empty.")
    if "LabelCategoryConfigS3Uri" not in params:
        raise _validation("LabelCategoryConfigS3Uri is required for image classification.")
    raw = _check_readable(account, role_arn, params["LabelCategoryConfigS3Uri"], "label category file")
    try:
        labels = [str(item["label"]) for item in json.loads(raw)["labels"]]
    except (ValueError, KeyError, TypeError):
        raise _validation(
            'The label category file is not valid: expected {"document-version": ..., "labels": [{"label": ...}]}.'
        ) from None
    if len(labels) < 2:
        raise _validation("For image classification you must specify at least two label categories.")
    if len(set(labels)) != len(labels):
        raise _validation("Each label category must be unique; the label category file has duplicates.")
    _check_readable(account, role_arn, hc["UiConfig"]["UiTemplateS3Uri"], "worker task template")
    out_bucket, _ = _split(params["OutputConfig"]["S3OutputPath"])
    try:
        _s3(account).get_bucket(out_bucket)
    except Exception:
        raise _validation(f"The output bucket {out_bucket} does not exist.") from None
    return labels


def _team_arn(account: str, region: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:workteam/private-crowd/{SANDBOX_TEAM}"


# -- the operations ------------------------------------------------------------------------------
def create_labeling_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    params = {k: v for k, v in self._get_params().items() if v is not None}
    account, region = self.current_account, self.region
    backend = self.sagemaker_backend
    with LOCK:
        jobs = _jobs(backend)
        labels = _validate(account, region, params, jobs)
        name = params["LabelingJobName"]
        arn = f"arn:aws:sagemaker:{region}:{account}:labeling-job/{name.lower()}"
        now = _now()
        manifest_uri = params["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"]
        sources = [
            json.loads(ln).get("source-ref")
            for ln in _read(account, manifest_uri).decode().splitlines()
            if ln.strip()
        ]
        job = {
            **params,
            "LabelingJobArn": arn,
            "LabelingJobStatus": "Initializing",
            "LabelCounters": {
                "TotalLabeled": 0,
                "HumanLabeled": 0,
                "MachineLabeled": 0,
                "FailedNonRetryableError": 0,
                "Unlabeled": len(sources),
            },  # fmt: skip
            "CreationTime": now,
            "LastModifiedTime": now,
            "JobReferenceCode": f"sandbox-{abs(hash(arn)) % 10**8:08d}",
            "_labels": labels,
            "_sources": sources,
            "_account": account,
        }
        jobs[name.lower()] = job
    from services.sandbox import jobs as runner

    job["_stop"] = runner.spawn(f"labeling-{name}", lambda stop: _work(job, stop, runner.generation()))
    return ActionResult({"LabelingJobArn": arn})


def _public_fields(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def _get(self: Any) -> dict[str, Any]:
    name = self._get_param("LabelingJobName")
    job = _jobs(self.sagemaker_backend).get(str(name).lower())
    if job is None:
        arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:labeling-job/{str(name).lower()}"
        raise _not_found(f"Could not find labeling job '{arn}'")
    return job


def describe_labeling_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    with LOCK:
        return ActionResult(
            json.loads(json.dumps(_public_fields(_get(self)), default=str)) | _times(_get(self))
        )


def _times(job: dict[str, Any]) -> dict[str, Any]:
    return {"CreationTime": job["CreationTime"], "LastModifiedTime": job["LastModifiedTime"]}


def list_labeling_jobs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name_contains = (self._get_param("NameContains") or "").lower()
    status = self._get_param("StatusEquals")
    sort_by = self._get_param("SortBy") or "CreationTime"
    descending = (self._get_param("SortOrder") or "Descending") == "Descending"
    max_results = int(self._get_param("MaxResults") or 10)
    start = int(self._get_param("NextToken") or 0)
    with LOCK:
        rows = [j for j in _jobs(self.sagemaker_backend).values()
                if name_contains in j["LabelingJobName"].lower() and (not status or j["LabelingJobStatus"] == status)]  # fmt: skip
        key = {"Name": "LabelingJobName", "Status": "LabelingJobStatus"}.get(sort_by, "CreationTime")
        rows.sort(key=lambda j: j[key], reverse=descending)
        page = rows[start : start + max_results]
        summaries = []
        for j in page:
            hc = j["HumanTaskConfig"]
            s = {
                "LabelingJobName": j["LabelingJobName"],
                "LabelingJobArn": j["LabelingJobArn"],
                "CreationTime": j["CreationTime"],
                "LastModifiedTime": j["LastModifiedTime"],
                "LabelingJobStatus": j["LabelingJobStatus"],
                "LabelCounters": dict(j["LabelCounters"]),
                "WorkteamArn": hc["WorkteamArn"],
                "PreHumanTaskLambdaArn": hc.get("PreHumanTaskLambdaArn"),
                "AnnotationConsolidationLambdaArn": hc["AnnotationConsolidationConfig"][
                    "AnnotationConsolidationLambdaArn"
                ],
                "InputConfig": j["InputConfig"],
            }
            if "FailureReason" in j:
                s["FailureReason"] = j["FailureReason"]
            if "LabelingJobOutput" in j:
                s["LabelingJobOutput"] = j["LabelingJobOutput"]
            summaries.append(s)
    result: dict[str, Any] = {"LabelingJobSummaryList": summaries}
    if start + max_results < len(rows):
        result["NextToken"] = str(start + max_results)
    return ActionResult(result)


def stop_labeling_job(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    with LOCK:
        job = _get(self)
        if job["LabelingJobStatus"] in ("Initializing", "InProgress"):
            job["LabelingJobStatus"] = "Stopping"
            job["LastModifiedTime"] = _now()
    return EmptyResult()


def list_workteams(self: Any) -> Any:
    from moto.core.responses import ActionResult

    account, region = self.current_account, self.region
    team = {
        "WorkteamName": SANDBOX_TEAM,
        "WorkteamArn": _team_arn(account, region),
        "WorkforceArn": f"arn:aws:sagemaker:{region}:{account}:workforce/default",
        "MemberDefinitions": [
            {
                "CognitoMemberDefinition": {
                    "UserPool": f"{region}_sandbox",
                    "UserGroup": "labelers",
                    "ClientId": "sandbox",
                }
            }
        ],  # fmt: skip
        "Description": "Sandbox private team: simulated workers on this machine",
        "SubDomain": "sandbox.labeling.local",
        "CreateDate": datetime(2026, 1, 1, tzinfo=UTC),
    }
    contains = (self._get_param("NameContains") or "").lower()
    teams = [team] if contains in SANDBOX_TEAM else []
    return ActionResult({"Workteams": teams})


# -- the sandbox workforce -----------------------------------------------------------------------
def _set(job: dict[str, Any], **changes: Any) -> None:
    with LOCK:
        job.update(changes)
        job["LastModifiedTime"] = _now()


def _fail(job: dict[str, Any], reason: str) -> None:
    _set(job, LabelingJobStatus="Failed", FailureReason=reason)


def _work(job: dict[str, Any], stop: threading.Event, generation: int) -> None:
    from services.labeling.manifest import LabeledObject, output_manifest_uri, write_output_manifest
    from services.sandbox import jobs as runner
    from services.sandbox.images import true_class

    def alive() -> bool:
        return runner.generation() == generation and not stop.is_set()

    account = job["_account"]
    name = job["LabelingJobName"]
    labels: list[str] = job["_labels"]
    hc = job["HumanTaskConfig"]
    workers = int(hc["NumberOfHumanWorkersPerDataObject"])
    role = job["RoleArn"]
    multi = "MultiLabel" in hc.get("PreHumanTaskLambdaArn", "")
    rng = random.Random(name)
    out_path = job["OutputConfig"]["S3OutputPath"].rstrip("/")
    if stop.wait(SETTINGS.start_delay) or not alive():
        return
    classifiers = (job["InputConfig"].get("DataAttributes") or {}).get("ContentClassifiers") or []
    if f":{PUBLIC_WORKTEAM_ACCOUNT}:workteam/public-crowd/" in hc["WorkteamArn"] and \
            "FreeOfPersonallyIdentifiableInformation" not in classifiers:  # fmt: skip
        _fail(job, "ClientError: The input data must be declared free of personally identifiable information "
                   "(FreeOfPersonallyIdentifiableInformation) to use the Amazon Mechanical Turk workforce.")  # fmt: skip
        return
    _set(job, LabelingJobStatus="InProgress")
    done: list[LabeledObject] = []
    failed = 0
    for n, src in enumerate(job["_sources"]):
        if stop.wait(SETTINGS.seconds_per_object) or not alive():
            break
        with LOCK:
            if job["LabelingJobStatus"] == "Stopping":
                break
        bucket, key = _split(src) if isinstance(src, str) and src.startswith("s3://") else ("", "")
        try:
            if not bucket or not role_allowed(account, role, "s3:GetObject", bucket, key):
                raise PermissionError(src)
            data = _read(account, src)
            truth = true_class(data)
        except Exception:
            failed += 1
            with LOCK:
                c = job["LabelCounters"]
                c["FailedNonRetryableError"] += 1
                c["Unlabeled"] -= 1
            continue
        answers = []
        for _ in range(workers):
            if truth in labels and rng.random() < SETTINGS.accuracy:
                answers.append(labels.index(truth))
            else:
                answers.append(rng.randrange(len(labels)))
        votes = {i: answers.count(i) for i in set(answers)}
        best = max(sorted(votes), key=lambda i: votes[i])
        created = _now().replace(tzinfo=None).isoformat(timespec="microseconds")
        indices: tuple[int, ...] = (best,)
        if multi and len(votes) > 1 and workers > 1:
            # multi-label: every label at least half the workers chose
            indices = tuple(sorted(i for i, v in votes.items() if v * 2 >= workers)) or (best,)
        done.append(LabeledObject(src, indices, tuple(labels[i] for i in indices),
                                  tuple(_consolidated_confidence(votes[i] / workers, rng) for i in indices),
                                  True, name, created, multi))  # fmt: skip
        response = {"answers": [{"workerId": f"private.sandbox.worker{w}", "answerContent":
                    {"crowd-image-classifier": {"label": labels[a]}}} for w, a in enumerate(answers)]}  # fmt: skip
        # a missing output bucket is reported at the end
        with contextlib.suppress(Exception):
            _write(account, f"{out_path}/{name}/annotations/worker-response/iteration-1/{n}/{created}.json",
                   json.dumps(response).encode())  # fmt: skip
        with LOCK:
            c = job["LabelCounters"]
            c["TotalLabeled"] += 1
            c["HumanLabeled"] += 1
            c["Unlabeled"] -= 1
            job["LastModifiedTime"] = _now()
    if runner.generation() != generation:
        return
    uri = output_manifest_uri(out_path, name)
    out_bucket, out_key = _split(uri)
    if not role_allowed(account, role, "s3:PutObject", out_bucket, out_key):
        _fail(job, f"ClientError: Access Denied when writing {uri}: the role {role} is not allowed s3:PutObject "
                   f"on arn:aws:s3:::{out_bucket}/{out_key}.")  # fmt: skip
        return
    try:
        _write(account, uri, write_output_manifest(done, job["LabelAttributeName"]).encode())
    except Exception as exc:
        _fail(job, f"ClientError: could not write the output manifest {uri}: {exc}")
        return
    with LOCK:
        stopping = job["LabelingJobStatus"] == "Stopping" or stop.is_set()
    final = "Stopped" if stopping else ("Failed" if failed and not done else "Completed")
    changes: dict[str, Any] = {"LabelingJobStatus": final, "LabelingJobOutput": {"OutputDatasetS3Uri": uri}}
    if final == "Failed":
        changes["FailureReason"] = (
            "ClientError: no object could be read by the role (s3:GetObject denied or missing)."
        )
    _set(job, **changes)


def install() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    from services.sandbox.extensions import add_operation

    add_operation(SageMakerResponse, "create_labeling_job", create_labeling_job)
    add_operation(SageMakerResponse, "describe_labeling_job", describe_labeling_job)
    add_operation(SageMakerResponse, "list_labeling_jobs", list_labeling_jobs)
    add_operation(SageMakerResponse, "stop_labeling_job", stop_labeling_job)
    add_operation(SageMakerResponse, "list_workteams", list_workteams)
