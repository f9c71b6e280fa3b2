"""`sagewiz doctor --job NAME` / `--notebook NAME`: the diagnosis of a failed job or notebook.

The job is found by name among training, tuning and labeling jobs (a name held by two kinds is
said, not guessed). Its Describe* gives the FailureReason (a tuning job without one takes its best
or first failed child's), the execution role, the channels' S3 URIs, the output path, the KMS keys
and the VPC config; these are reported as facts. The reason is explained with services.job_failure
and, when it is a refused request (S3 denial, role the service cannot assume, empty input), the
engine diagnoses that request with the job's role as the principal. A job in a VPC also has its
network path to S3 checked (services.doctor.network: `vpc-no-s3-route`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from services.doctor.model import Diagnosis, DoctorRequest, Finding, order_findings
from services.errors import NotFoundError, ValidationError, is_gone, translate
from services.job_failure import FailureExplanation, FailureKind, explain_failure
from services.terminal_text import echo


class Subject(Enum):
    TRAINING = "training"
    TUNING = "tuning"
    LABELING = "labeling"
    NOTEBOOK = "notebook"


# The status of a job or notebook that failed; any other means there is nothing to diagnose.
FAILED = frozenset({"Failed"})


@dataclass(frozen=True)
class Channel:
    name: str
    s3_uri: str


@dataclass(frozen=True)
class KmsKey:
    use: str  # what the key encrypts: "output", "volume", "notebook volume", ...
    key_id: str


@dataclass(frozen=True)
class VpcConfig:
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobFacts:
    """What Describe* said about the job, reported as it was read."""

    subject: Subject
    name: str
    status: str
    failure_reason: str = ""
    reason_from: str = ""  # a tuning job's child whose FailureReason stands in for the job's own
    role_arn: str | None = None
    channels: tuple[Channel, ...] = ()
    output_path: str | None = None
    kms_keys: tuple[KmsKey, ...] = ()
    vpc: VpcConfig | None = None
    direct_internet: bool | None = None  # notebooks: DirectInternetAccess
    calls: int = 0

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def in_vpc_without_internet(self) -> bool:
        """Traffic to S3 goes through the VPC's own routes: a job in a VPC always, a notebook in a
        subnet only without SageMaker's direct internet access."""
        return bool(self.vpc and self.vpc.subnets) and self.direct_internet is not True

    def lines(self) -> list[str]:
        out = [
            f"{self.subject.value} {'instance' if self.subject is Subject.NOTEBOOK else 'job'} {self.name}: {self.status}"
        ]
        if self.failure_reason:
            src = f" (from its training job {self.reason_from})" if self.reason_from else ""
            out.append(f"failure reason{src}: {self.failure_reason}")
        out.append(f"execution role: {self.role_arn or '(none)'}")
        out += [f"channel {c.name}: {c.s3_uri}" for c in self.channels]
        if self.output_path:
            out.append(f"output path: {self.output_path}")
        out += [f"KMS key ({k.use}): {k.key_id}" for k in self.kms_keys]
        if not self.kms_keys:
            out.append("KMS keys: none (S3 and volume default encryption)")
        if self.vpc is None:
            out.append("VPC: none (the service's own network)")
        else:
            out.append(f"VPC subnets: {', '.join(self.vpc.subnets) or '(none)'}")
            if self.vpc.security_groups:
                out.append(f"security groups: {', '.join(self.vpc.security_groups)}")
        if self.direct_internet is not None:
            out.append(f"direct internet access: {'Enabled' if self.direct_internet else 'Disabled'}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.subject.value,
            "name": self.name,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "reason_from": self.reason_from or None,
            "role": self.role_arn,
            "channels": [{"name": c.name, "s3_uri": c.s3_uri} for c in self.channels],
            "output_path": self.output_path,
            "kms_keys": [{"use": k.use, "key_id": k.key_id} for k in self.kms_keys],
            "vpc": None
            if self.vpc is None
            else {"subnets": list(self.vpc.subnets), "security_groups": list(self.vpc.security_groups)},
            "direct_internet_access": self.direct_internet,
        }


@dataclass(frozen=True)
class JobDiagnosis:
    """The job's facts, its FailureReason explained, and the diagnosis (the engine's on the refused
    request, with the network finding added; or, for a failure that is no refusal, the explanation)."""

    facts: JobFacts
    explanation: FailureExplanation | None
    diagnosis: Diagnosis

    @property
    def nothing_to_diagnose(self) -> bool:
        return not self.facts.failed

    def to_json(self) -> dict[str, Any]:
        """The README's `--json` object, with the job's facts under "job"."""
        return {**self.diagnosis.to_json(), "job": self.facts.to_json()}


# -- finding the job ------------------------------------------------------------------------------
def check_name(subject: Subject | None, name: str) -> None:
    """A ValidationError before any AWS call when `name` cannot name a job (or notebook)."""
    if subject is Subject.NOTEBOOK:
        from services.notebooks import name_problem

        problem = name_problem(name)
        if problem:
            raise ValidationError("notebook name", f"{echo(name)}: {problem}")
        return
    from services.job_kinds import check_job_name

    check_job_name(name)


def _describe(sm: Any, subject: Subject, name: str) -> dict[str, Any] | None:
    """The job's (or notebook's) description, or None when there is none of that kind by that name."""
    from services.job_kinds import JobKind, describe

    if subject is not Subject.NOTEBOOK:
        return describe(sm, JobKind(subject.value), name)  # the same lookup as `sagewiz status`
    try:
        return dict(sm.describe_notebook_instance(NotebookInstanceName=name))
    except Exception as exc:
        if is_gone(exc):
            return None
        raise translate(exc, "DescribeNotebookInstance") from exc


def find(factory: Any, name: str, region: str, notebook: bool = False) -> JobFacts:
    """The facts of the job (or notebook) named. NotFoundError when there is none; ValidationError
    when the name is held by jobs of two kinds (which one is meant cannot be guessed)."""
    check_name(Subject.NOTEBOOK if notebook else None, name)
    sm = factory.client("sagemaker")
    if notebook:
        found = _describe(sm, Subject.NOTEBOOK, name)
        if found is None:
            raise NotFoundError(
                f"No notebook instance named {echo(name)}",
                f"There is no notebook instance by that name in {region}.",
                "Check the name and the region (the Notebook step lists them).",
            )
        return _notebook_facts(name, found)
    kinds = (Subject.TRAINING, Subject.TUNING, Subject.LABELING)
    # The three kinds are asked at once: one round trip, not three (and all three are needed to
    # say a name is ambiguous).
    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        described = list(pool.map(lambda k: _describe(sm, k, name), kinds))
    hits = [(k, d) for k, d in zip(kinds, described, strict=True) if d is not None]
    if not hits:
        raise NotFoundError(
            f"No job named {echo(name)}",
            f"There is no training, tuning or labeling job by that name in {region}.",
            "Check the name and the region; `sagewiz status` lists the recent jobs of every kind.",
        )
    if len(hits) > 1:
        both = " and a ".join(f"{k.value} job" for k, _ in hits)
        raise ValidationError(
            "job name",
            f"{echo(name)} names a {both}: which one to diagnose is ambiguous",
            "Jobs of different kinds may share a name; diagnose one by its FailureReason instead: "
            "`sagewiz doctor --error TEXT` with the reason `sagewiz status NAME` prints.",
        )
    subject, desc = hits[0]
    facts = {
        Subject.TRAINING: _training_facts,
        Subject.TUNING: _tuning_facts,
        Subject.LABELING: _labeling_facts,
    }[subject](name, desc)
    if subject is Subject.TUNING and facts.failed and not facts.failure_reason:
        facts = _child_reason(sm, facts, desc)
    return replace(facts, calls=facts.calls + len(kinds))


def _vpc(v: dict[str, Any] | None) -> VpcConfig | None:
    if not v or not v.get("Subnets"):
        return None
    return VpcConfig(tuple(v.get("Subnets") or ()), tuple(v.get("SecurityGroupIds") or ()))


def _channels(inputs: list[dict[str, Any]]) -> tuple[Channel, ...]:
    out = []
    for c in inputs or []:
        src = (c.get("DataSource") or {}).get("S3DataSource") or {}
        if src.get("S3Uri"):
            out.append(Channel(str(c.get("ChannelName", "")), str(src["S3Uri"])))
    return tuple(out)


def _training_like(subject: Subject, name: str, d: dict[str, Any], status: str, reason: str) -> JobFacts:
    out = d.get("OutputDataConfig") or {}
    res = d.get("ResourceConfig") or {}
    keys = [KmsKey("output", out["KmsKeyId"])] if out.get("KmsKeyId") else []
    if res.get("VolumeKmsKeyId"):
        keys.append(KmsKey("volume", res["VolumeKmsKeyId"]))
    return JobFacts(
        subject, name, status, reason or "", "", d.get("RoleArn"), _channels(d.get("InputDataConfig") or []),
        out.get("S3OutputPath"), tuple(keys), _vpc(d.get("VpcConfig")),
    )  # fmt: skip


def _training_facts(name: str, d: dict[str, Any]) -> JobFacts:
    return _training_like(
        Subject.TRAINING, name, d, str(d.get("TrainingJobStatus", "")), d.get("FailureReason", "")
    )


def _tuning_facts(name: str, d: dict[str, Any]) -> JobFacts:
    definition = d.get("TrainingJobDefinition") or {}
    status = str(d.get("HyperParameterTuningJobStatus", ""))
    return _training_like(Subject.TUNING, name, definition, status, d.get("FailureReason", ""))


def _child_reason(sm: Any, facts: JobFacts, d: dict[str, Any]) -> JobFacts:
    """A tuning job that failed without a reason of its own: its best training job's reason when
    that one failed, else the first failed training job's."""
    best = d.get("BestTrainingJob") or {}
    if best.get("TrainingJobStatus") == "Failed" and best.get("FailureReason"):
        return replace(
            facts, failure_reason=best["FailureReason"], reason_from=best.get("TrainingJobName", "")
        )
    try:
        resp = sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=facts.name,
            StatusEquals="Failed",
            SortBy="CreationTime",
            SortOrder="Ascending",
        )
    except Exception as exc:
        raise translate(exc, "ListTrainingJobsForHyperParameterTuningJob") from exc
    calls = facts.calls + 1
    for s in resp.get("TrainingJobSummaries", []):
        if s.get("FailureReason"):
            return replace(
                facts,
                failure_reason=s["FailureReason"],
                reason_from=s.get("TrainingJobName", ""),
                calls=calls,
            )
    return replace(facts, calls=calls)


def _labeling_facts(name: str, d: dict[str, Any]) -> JobFacts:
    src = ((d.get("InputConfig") or {}).get("DataSource") or {}).get("S3DataSource") or {}
    out = d.get("OutputConfig") or {}
    channels = (Channel("manifest", src["ManifestS3Uri"]),) if src.get("ManifestS3Uri") else ()
    keys = (KmsKey("output", out["KmsKeyId"]),) if out.get("KmsKeyId") else ()
    resources = (d.get("LabelingJobAlgorithmsConfig") or {}).get("LabelingJobResourceConfig") or {}
    return JobFacts(
        Subject.LABELING, name, str(d.get("LabelingJobStatus", "")), d.get("FailureReason", "") or "", "",
        d.get("RoleArn"), channels, out.get("S3OutputPath"), keys, _vpc(resources.get("VpcConfig")),
    )  # fmt: skip


def _notebook_facts(name: str, d: dict[str, Any]) -> JobFacts:
    subnet = d.get("SubnetId")
    vpc = VpcConfig((subnet,), tuple(d.get("SecurityGroups") or ())) if subnet else None
    keys = (KmsKey("notebook volume", d["KmsKeyId"]),) if d.get("KmsKeyId") else ()
    direct = d.get("DirectInternetAccess")
    return JobFacts(
        Subject.NOTEBOOK, name, str(d.get("NotebookInstanceStatus", "")), d.get("FailureReason", "") or "", "",
        d.get("RoleArn"), (), None, keys, vpc, None if direct is None else direct == "Enabled", calls=1,
    )  # fmt: skip


# -- the diagnosis ---------------------------------------------------------------------------------
def diagnose_job(
    factory: Any,
    name: str,
    *,
    notebook: bool = False,
    caller_account: str | None = None,
    region: str = "",
    sandbox: bool = False,
    facts: JobFacts | None = None,
) -> JobDiagnosis:
    """Find the job, read its facts and diagnose its failure. Raises NotFoundError or
    ValidationError (the name, or an ambiguous one); every other problem is in the diagnosis."""
    facts = facts or find(factory, name, region, notebook)
    if not facts.failed:
        d = Diagnosis(
            "allowed", facts.role_arn, None, None,
            headline=f"The {_what(facts)} {facts.name} is {facts.status or 'in no known state'}: it did not fail, so there is nothing to diagnose.",
            calls=facts.calls,
        )  # fmt: skip
        return JobDiagnosis(facts, None, d)
    explained = explain_failure(facts.failure_reason, region)
    if facts.subject is Subject.NOTEBOOK and (explained is None or explained.kind is FailureKind.UNKNOWN):
        explained = _notebook_explanation(facts)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The network reads need nothing from the diagnosis: they run beside it.
        network = pool.submit(_route, factory, facts, region)
        refused = _refused_request(factory, facts, caller_account, region, sandbox)
        route, calls = network.result()
    return JobDiagnosis(facts, explained, _with_job(refused, facts, explained, route, calls))


def _route(factory: Any, facts: JobFacts, region: str) -> tuple[Finding | None, int]:
    if facts.vpc is None or not facts.in_vpc_without_internet:
        return None, 0
    from services.doctor.network import s3_route_finding

    return s3_route_finding(factory, facts.vpc.subnets, f"the {_what(facts)} {facts.name}", region)


def _notebook_explanation(facts: JobFacts) -> FailureExplanation:
    """A notebook's own failures (lifecycle script, volume, ...) are the Notebook step's to explain."""
    from services.notebook_errors import explain_failure as explain_notebook
    from services.remedy import Face

    return FailureExplanation(
        FailureKind.UNKNOWN,
        "The notebook instance failed to start.",
        explain_notebook(facts.failure_reason, facts.name).render(Face.PLAIN),
    )


def _what(facts: JobFacts) -> str:
    return "notebook instance" if facts.subject is Subject.NOTEBOOK else f"{facts.subject.value} job"


def _refused_request(
    factory: Any, facts: JobFacts, account: str | None, region: str, sandbox: bool
) -> Diagnosis | None:
    """The engine's diagnosis of the request the FailureReason says was refused, or None when the
    reason names no refusal the engine can read (a hyperparameter, a quota, ...)."""
    from services.doctor.engine import diagnose, precheck
    from services.policy.arns import session_arn
    from services.s3uri import parse_s3_uri

    if not facts.failure_reason:
        return None
    bucket = None
    for uri in [c.s3_uri for c in facts.channels] + [facts.output_path or ""]:
        try:
            bucket = parse_s3_uri(uri).bucket
            break
        except Exception:  # noqa: S112 - a channel that is no S3 URI gives no default bucket
            continue
    # A fact read from the job, so no assumption: the role as SageMaker uses it, a session of the
    # role (what a bucket policy's Principal sees); the role itself when the role is the question.
    principal = facts.role_arn
    if principal and not _engine_reads(facts.failure_reason):
        principal = session_arn(principal, "SageMaker")
    req = DoctorRequest(
        error_text=facts.failure_reason,
        principal=principal,
        default_bucket=bucket,
        source_step=facts.subject.value,
    )
    early = precheck(req, principal_from_caller=False)
    if early is not None and early.verdict == "unknown" and not _engine_reads(facts.failure_reason):
        return None
    return diagnose(req, factory, caller_account=account, region=region or None, sandbox=sandbox)


def _engine_reads(reason: str) -> bool:
    """Reasons the engine decides by reading AWS even when precheck stops (a role to look up)."""
    return "assume" in reason.lower()


def _with_job(
    d: Diagnosis | None,
    facts: JobFacts,
    explained: FailureExplanation | None,
    route: Finding | None,
    calls: int,
) -> Diagnosis:
    what = _what(facts)
    if d is None or (d.verdict == "unknown" and route is not None):
        summary = explained.summary if explained else "it failed without a reason"
        d = Diagnosis(
            "unknown", facts.role_arn, None, None,
            headline=f"The {what} {facts.name} failed: {summary}",
            understood=(f"the FailureReason: {facts.failure_reason}",) if facts.failure_reason else (),
            calls=(d.calls if d else 0),
        )  # fmt: skip
    findings = list(d.findings)
    if route is not None:
        findings.append(route)
    verdict = "denied" if any(f.blocking for f in findings) else d.verdict
    headline = d.headline
    if route is not None and not any(f.blocking for f in d.findings):
        headline = f"Denied: {route.summary}"
    return replace(
        d,
        verdict=verdict,
        findings=order_findings(findings),
        headline=headline,
        calls=d.calls + facts.calls + calls,
    )
