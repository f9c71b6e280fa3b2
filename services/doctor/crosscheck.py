"""Cross-check the identity side with iam:SimulateCustomPolicy.

The simulator cannot evaluate a bucket policy for a role (aws-facts §4), so it is given the
principal's identity policies (and boundary) only, and compared with our evaluator's identity-side
decision. Both response shapes are read: the pre-July-2026 one (one EvaluationResult per
action/resource) and the new one (one per action, per-resource decisions in
ResourceSpecificResults). A disagreement is reported, never hidden; a simulator that cannot run
(no permission, or an emulator without the API) is reported as "could not run".
"""

from __future__ import annotations

import json
from typing import Any, cast

from services.doctor.evidence import Evidence
from services.doctor.model import CrossCheck
from services.policy import PolicySet, RequestContext
from services.policy.evaluate import Decision, evaluate_request


def read_decision(response: dict[str, Any], action: str, resource: str) -> str | None:
    """The simulator's decision for (action, resource), from either response shape."""
    for result in response.get("EvaluationResults", []) or []:
        if str(result.get("EvalActionName", "")).lower() != action.lower():
            continue
        specific = result.get("ResourceSpecificResults") or []
        for r in specific:
            if r.get("EvalResourceName") == resource:
                return cast("str | None", r.get("EvalResourceDecision"))
        name = result.get("EvalResourceName")
        # Old shape: the real ARN. New shape: an ARN template or "*" (then the top-level decision
        # is the most restrictive across resources; with one resource it is that resource's).
        if name == resource or not specific:
            return cast("str | None", result.get("EvalDecision"))
    return None


def _decision_name(d: Decision) -> str:
    return "allowed" if d.allowed else ("explicitDeny" if d.kind == "explicit-deny" else "implicitDeny")


def simulate(
    factory: Any, ev: Evidence, ctx: RequestContext, d: Decision, *, sandbox: bool = False
) -> CrossCheck:
    """First with the bucket policy as ResourcePolicy and the role as CallerArn (accepted since the
    July 2026 API change); when IAM refuses that (the older rule: "Simulation of resource-based
    policies isn't supported for IAM roles"), again with the identity side only."""
    docs = [p.text for p in ev.identity_policies if p.policy is not None]
    identity = tuple(p.policy for p in ev.identity_policies if p.policy is not None)
    boundary = ev.boundary.policy if ev.boundary and ev.boundary.policy else None
    same = RequestContext(**{**ctx.__dict__, "resource_account": None})
    ours_identity = _decision_name(evaluate_request(same, PolicySet(identity=identity, boundary=boundary)))
    bucket_policy = ev.bucket_policy.policy if ev.bucket_policy and ev.bucket_policy.policy else None
    ours_full = _decision_name(
        evaluate_request(same, PolicySet(identity=identity, boundary=boundary, resource=bucket_policy))
    )
    if not docs:
        return CrossCheck(False, "skipped: no identity policy text to simulate", None, ours_identity, None)
    if sandbox:
        return CrossCheck(
            False,
            "the IAM policy simulator check could not run: the sandbox emulator does not implement iam:SimulateCustomPolicy",
            None,
            ours_identity,
            None,
        )
    params: dict[str, Any] = {
        "PolicyInputList": [_compact(t) for t in docs],
        "ActionNames": [ctx.action],
        "ResourceArns": [ctx.resource],
        "ContextEntries": [
            {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": [ctx.lookup("aws:securetransport") or "true"],
             "ContextKeyType": "boolean"},
        ],
    }  # fmt: skip
    if ctx.role_arn:
        params["ContextEntries"].append(
            {
                "ContextKeyName": "aws:PrincipalArn",
                "ContextKeyValues": [ctx.role_arn],
                "ContextKeyType": "string",
            }
        )
    if ev.boundary and ev.boundary.policy is not None:
        params["PermissionsBoundaryPolicyInputList"] = [_compact(ev.boundary.text)]
    attempts: list[tuple[dict[str, Any], str, str]] = []
    caller = ctx.role_arn or (ctx.principal_arn if ":user/" in ctx.principal_arn else None)
    if ev.bucket_policy is not None and bucket_policy is not None and caller:
        with_resource = {**params, "ResourcePolicy": _compact(ev.bucket_policy.text), "CallerArn": caller}
        if ev.bucket_owner:
            with_resource["ResourceOwner"] = ev.bucket_owner
        attempts.append((with_resource, ours_full, "identity policies and the bucket policy"))
    attempts.append((params, ours_identity, "identity side only"))
    calls = 0
    notes: list[str] = []
    iam = None
    for attempt, ours, scope in attempts:
        try:
            iam = iam or factory.client("iam")
            calls += 1
            response = iam.simulate_custom_policy(**attempt)
            for _ in range(5):  # "IAM might return fewer results": follow Marker while truncated
                if not response.get("IsTruncated"):
                    break
                calls += 1
                more = iam.simulate_custom_policy(**attempt, Marker=response["Marker"])
                response["EvaluationResults"] = response.get("EvaluationResults", []) + more.get(
                    "EvaluationResults", []
                )
                response["IsTruncated"] = more.get("IsTruncated")
                response["Marker"] = more.get("Marker")
        except Exception as exc:
            code = _code(exc)
            if (
                code
                in ("InvalidInput", "PolicyEvaluation", "InvalidInputException", "PolicyEvaluationException")
                and scope != "identity side only"
            ):
                notes.append(
                    f"the simulator refused the bucket policy for this caller ({code}); identity side only"
                )
                continue
            return CrossCheck(
                False,
                f"the IAM policy simulator check could not run: {_why(exc, code)}",
                None,
                ours,
                None,
                calls,
            )
        theirs = read_decision(response, ctx.action, ctx.resource)
        prefix = ("; ".join(notes) + ". ") if notes else ""
        if theirs is None:
            return CrossCheck(
                True,
                prefix + "the simulator's answer did not include this action and resource",
                None,
                ours,
                None,
                calls,
            )
        agrees = theirs == ours
        msg = (
            f"{prefix}IAM policy simulator agrees ({theirs}; {scope})"
            if agrees
            else f"{prefix}DISAGREEMENT: the IAM policy simulator says {theirs}, sagewiz's evaluator says {ours} ({scope})"
        )
        return CrossCheck(True, msg, theirs, ours, agrees, calls)
    return CrossCheck(False, "the IAM policy simulator check could not run", None, ours_identity, None, calls)


def _code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code") or "")
    return ""


def _why(exc: BaseException, code: str) -> str:
    if code in ("AccessDenied", "AccessDeniedException"):
        return "the caller may not call iam:SimulateCustomPolicy"
    if type(exc).__name__ == "ResponseParserError" or code in ("500", "InternalFailure", "NotImplemented"):
        return "the endpoint does not implement iam:SimulateCustomPolicy (an emulator?)"
    return code or type(exc).__name__


def _compact(text: str) -> str:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        return text
