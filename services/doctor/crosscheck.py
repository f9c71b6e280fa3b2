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
from typing import Any

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
                return r.get("EvalResourceDecision")
        name = result.get("EvalResourceName")
        # Old shape: the real ARN. New shape: an ARN template or "*" (then the top-level decision
        # is the most restrictive across resources; with one resource it is that resource's).
        if name == resource or not specific:
            return result.get("EvalDecision")
    return None


def simulate(
    factory: Any, ev: Evidence, ctx: RequestContext, d: Decision, *, sandbox: bool = False
) -> CrossCheck:
    docs = [p.text for p in ev.identity_policies if p.policy is not None]
    ours_d = evaluate_request(
        RequestContext(**{**ctx.__dict__, "resource_account": None}),
        PolicySet(identity=tuple(p.policy for p in ev.identity_policies if p.policy is not None),
                  boundary=ev.boundary.policy if ev.boundary and ev.boundary.policy else None),
    )  # fmt: skip
    ours = (
        "allowed"
        if ours_d.allowed
        else ("explicitDeny" if ours_d.kind == "explicit-deny" else "implicitDeny")
    )
    if not docs:
        return CrossCheck(False, "skipped: no identity policy text to simulate", None, ours, None)
    if sandbox:
        return CrossCheck(
            False,
            "the IAM policy simulator check could not run: the sandbox emulator does not implement iam:SimulateCustomPolicy",
            None,
            ours,
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
    calls = 1
    try:
        iam = factory.client("iam")
        response = iam.simulate_custom_policy(**params)
        for _ in range(5):  # "IAM might return fewer results": follow Marker while truncated
            if not response.get("IsTruncated"):
                break
            calls += 1
            more = iam.simulate_custom_policy(**params, Marker=response["Marker"])
            response["EvaluationResults"] = response.get("EvaluationResults", []) + more.get(
                "EvaluationResults", []
            )
            response["IsTruncated"] = more.get("IsTruncated")
            response["Marker"] = more.get("Marker")
    except Exception as exc:
        code = ""
        resp = getattr(exc, "response", None)
        if isinstance(resp, dict):
            code = str(resp.get("Error", {}).get("Code") or "")
        if code in ("AccessDenied", "AccessDeniedException"):
            why = "the caller may not call iam:SimulateCustomPolicy"
        elif type(exc).__name__ in ("ResponseParserError",) or code in (
            "500",
            "InternalFailure",
            "NotImplemented",
        ):
            why = "the endpoint does not implement iam:SimulateCustomPolicy (the sandbox emulator lacks it)"
        else:
            why = f"{code or type(exc).__name__}"
        return CrossCheck(
            False, f"the IAM policy simulator check could not run: {why}", None, ours, None, calls
        )
    theirs = read_decision(response, ctx.action, ctx.resource)
    if theirs is None:
        return CrossCheck(
            True, "the simulator's answer did not include this action and resource", None, ours, None, calls
        )
    agrees = theirs == ours
    msg = (
        f"IAM policy simulator agrees on the identity side ({theirs})"
        if agrees
        else f"DISAGREEMENT: the IAM policy simulator says {theirs}, sagewiz's evaluator says {ours} (identity side)"
    )
    return CrossCheck(True, msg, theirs, ours, agrees, calls)


def _compact(text: str) -> str:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        return text
