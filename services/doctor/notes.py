"""Non-blocking findings: context that is not the cause, said plainly so nobody switches the
wrong thing off (Block Public Access, Requester Pays, KMS), and the layers sagewiz could not read
when everything it could read allows the request."""

from __future__ import annotations

from services.doctor import fixes as fx
from services.doctor.case import Case
from services.doctor.model import Finding
from services.policy.s3 import is_public_policy, kms_action

_SAGEMAKER_STEPS = ("notebook", "train", "tune")


def context_notes(case: Case, found: list[Finding]) -> list[Finding]:
    """Notes given what was already found (a note never repeats a cause found as blocking)."""
    causes = {f.cause for f in found}
    out: list[Finding] = []
    if case.facts.bpa.any_on and "block-public-access" not in causes:
        out.append(_bpa_not_the_cause(case))
    bucket = case.bucket
    if bucket and (
        bucket.lower() != bucket or ("sagemaker" not in bucket and case.req.source_step in _SAGEMAKER_STEPS)
    ):
        summary = f"{bucket} does not contain 'sagemaker': AmazonSageMakerFullAccess only grants S3 on *sagemaker* buckets."
        out.append(Finding("default-bucket-name", False, summary, (), None))
    if case.ev.requester_pays and case.ctx.same_account and "requester-pays" not in causes:
        summary = "The bucket is Requester Pays; requests from its own account need not say so."
        out.append(Finding("requester-pays", False, summary, (), None))
    notebook = case.ev.notebook
    if notebook and notebook.get("SubnetId") and "vpc-endpoint-policy" not in causes:
        out.append(_notebook_in_vpc(notebook))
    if (
        case.d.allowed
        and case.parsed is not None
        and case.parsed.is_access_denied
        and not any(f.blocking for f in found)
    ):
        out += _not_checked()
    if case.facts.kms_key_arn and case.d.allowed:
        summary = (
            f"Objects are encrypted with SSE-KMS ({case.facts.kms_key_arn}); the key allows "
            f"{kms_action(case.ctx.action)} for this caller."
        )
        out.append(Finding("kms-key-access", False, summary, (), None))
    return out


def _bpa_not_the_cause(case: Case) -> Finding:
    ev = case.ev
    where = [
        name for name, bpa in (("bucket", ev.bpa_bucket), ("account", ev.bpa_account)) if bpa and bpa.any_on
    ]
    public = is_public_policy(case.pset.resource.policy) if case.pset.resource else False
    summary = (
        f"Block Public Access is on ({' and '.join(where) or 'bucket'}) and is not the cause: it only concerns "
        "public bucket policies and public ACLs"
        + ("" if not case.ctx.same_account else ", and this is a same-account request")
        + ". Keep it on."
    )
    evidence = (
        f"bucket policy is {'public' if public else 'not public'}",
        f"request principal: {case.ctx.principal_arn}",
    )
    return Finding("block-public-access", False, summary, evidence, None)


def _notebook_in_vpc(notebook: dict[str, object]) -> Finding:
    direct = notebook.get("DirectInternetAccess")
    summary = (
        f"The notebook {notebook.get('NotebookInstanceName')} runs in subnet {notebook.get('SubnetId')} "
        f"(direct internet access {direct}): its S3 requests may pass an S3 VPC endpoint whose policy "
        "sagewiz does not read here."
    )
    evidence = (f"sagemaker:DescribeNotebookInstance: SubnetId, DirectInternetAccess={direct}",)
    return Finding("vpc-endpoint-policy", False, summary, evidence, None)


def _not_checked() -> list[Finding]:
    """Everything readable allows it, yet AWS refused: name what could not be read, so nobody guesses."""
    return [
        Finding(
            "organizations-policy",
            False,
            "Not checked: SCPs and RCPs are not readable from a member account.",
            ("the error text does not name a policy type",),
            fx.admin_fix("Ask the organization's administrator whether an SCP or RCP denies this action."),
        ),
        Finding(
            "vpc-endpoint-policy",
            False,
            "Not checked: an S3 VPC endpoint policy on the network path (same-organization denials by it come "
            "back as a plain Access Denied).",
            (),
            fx.admin_fix("Ask the network owner for the S3 endpoint policy of the caller's VPC."),
        ),
        Finding(
            "session-policy",
            False,
            "Not checked: a session policy passed when the credentials were made.",
            (),
            None,
        ),
    ]
