"""Prove the role can now do what it needs on the bucket.

- In the sandbox: a real put, get, list and delete of a marker object, signed as the role
  (the emulator enforces IAM for the role's credentials, so a pass is a real pass).
- On AWS: `iam:SimulateCustomPolicy` over the role's identity policies (and its boundary), for the
  bucket and an object ARN, combined with sagewiz's own reading of the bucket policy (the simulator
  cannot evaluate a bucket policy for a role). Both response shapes are handled: the older one
  result per (action, resource) and the newer one result per action with `ResourceSpecificResults`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from services.errors import AccessDeniedError, SagewizError, SandboxUnsupportedError, translate
from services.permissions.matcher import Caller, matching, role_context

MARKER_NAME = "sagewiz-permission-check.txt"
MARKER_BODY = b"sagewiz permission check: safe to delete\n"
SIM_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:PutObject", "s3:DeleteObject")


@dataclass(frozen=True)
class ProofStep:
    action: str  # "s3:PutObject"
    resource: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Proof:
    method: str  # "marker-object" | "simulation" | "unavailable"
    steps: tuple[ProofStep, ...]
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def summary(self) -> str:
        if self.method == "unavailable":
            return f"proof unavailable: {self.note}"
        passed = sum(s.ok for s in self.steps)
        return f"{passed}/{len(self.steps)} allowed"


def marker_key(prefix: str | None = None) -> str:
    return f"{(prefix or '').lstrip('/')}{MARKER_NAME}"


def marker_proof(role_factory: Any, bucket: str, prefix: str | None = None) -> Proof:
    """Put, get, list and delete a marker object as the role. Each refusal is a failed step."""
    s3 = role_factory.client("s3")
    key = marker_key(prefix)
    obj = f"arn:aws:s3:::{bucket}/{key}"
    steps: list[ProofStep] = []

    def attempt(action: str, resource: str, call: Any, check: Any = None) -> bool:
        try:
            out = call()
        except Exception as exc:
            err = translate(exc, action)
            if not isinstance(err, (AccessDeniedError, SagewizError)) or err.kind in ("network", "connect"):
                raise err from exc
            steps.append(ProofStep(action, resource, False, _denied_text(err)))
            return False
        detail = check(out) if check else ""
        steps.append(ProofStep(action, resource, not detail, detail or "allowed"))
        return not detail

    wrote = attempt("s3:PutObject", obj, lambda: s3.put_object(Bucket=bucket, Key=key, Body=MARKER_BODY))
    if wrote:
        attempt(
            "s3:GetObject", obj, lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
            lambda body: "" if body == MARKER_BODY else "read back different bytes",
        )  # fmt: skip
    else:
        steps.append(ProofStep("s3:GetObject", obj, False, "not tried: the marker could not be written"))
    attempt(
        "s3:ListBucket",
        f"arn:aws:s3:::{bucket}",
        lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1),
    )
    if wrote:
        attempt("s3:DeleteObject", obj, lambda: s3.delete_object(Bucket=bucket, Key=key))
    else:
        steps.append(ProofStep("s3:DeleteObject", obj, False, "not tried: the marker could not be written"))
    return Proof("marker-object", tuple(steps), f"as the role, on s3://{bucket}/{key}")


def _denied_text(err: SagewizError) -> str:
    if isinstance(err, AccessDeniedError):
        return "AccessDenied" + (
            f": {err.message}" if err.message and err.message not in ("Access Denied", "Forbidden") else ""
        )
    return f"{err.title}: {err.message}"


def parse_simulation(results: list[dict[str, Any]], resources: list[str]) -> dict[tuple[str, str], str]:
    """(action, resource) -> "allowed" | "explicitDeny" | "implicitDeny", from either response shape."""
    out: dict[tuple[str, str], str] = {}
    for r in results:
        action = r["EvalActionName"]
        specific = r.get("ResourceSpecificResults") or []
        if specific:
            for s in specific:
                out[(action, s["EvalResourceName"])] = s["EvalResourceDecision"]
            continue
        name = r.get("EvalResourceName")
        if name in resources:  # older shape: one result per (action, resource)
            out[(action, name)] = r["EvalDecision"]
        else:  # newer shape without per-resource detail (or "*"): the decision holds for all
            for res in resources:
                out.setdefault((action, res), r["EvalDecision"])
    return out


def simulate_proof(factory: Any, state: Any) -> Proof:
    """iam:SimulateCustomPolicy over the role's identity policies, plus the bucket policy read here."""
    import json

    bucket_arn = f"arn:aws:s3:::{state.bucket}"
    obj = f"arn:aws:s3:::{state.bucket}/{marker_key(state.prefix)}"
    resources = [bucket_arn, obj]
    docs = [p.text for p in state.identity_docs() if p.source != "boundary"]
    if not docs:
        docs = [
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::sagewiz-none"}
                    ],
                }
            )
        ]
    kwargs: dict[str, Any] = {
        "PolicyInputList": docs,
        "ActionNames": list(SIM_ACTIONS),
        "ResourceArns": resources,
        "ContextEntries": [
            {
                "ContextKeyName": "aws:SecureTransport",
                "ContextKeyValues": ["true"],
                "ContextKeyType": "boolean",
            }
        ],
    }
    if state.boundary and state.boundary.text:
        kwargs["PermissionsBoundaryPolicyInputList"] = [state.boundary.text]
    iam = factory.client("iam")
    results: list[dict[str, Any]] = []
    try:
        while True:
            page = iam.simulate_custom_policy(**kwargs)
            results.extend(page.get("EvaluationResults") or [])
            if not page.get("IsTruncated"):
                break
            kwargs["Marker"] = page["Marker"]
    except Exception as exc:
        from botocore.parsers import ResponseParserError

        if isinstance(exc, ResponseParserError):  # the emulator answers unimplemented calls with HTML
            return Proof("unavailable", (), "the emulator does not implement iam:SimulateCustomPolicy")
        err = translate(exc, "iam:SimulateCustomPolicy")
        if isinstance(err, AccessDeniedError):
            return Proof("unavailable", (), "the caller may not call iam:SimulateCustomPolicy")
        if isinstance(err, SandboxUnsupportedError):
            return Proof("unavailable", (), "the emulator does not implement iam:SimulateCustomPolicy")
        raise err from exc
    decisions = parse_simulation(results, resources)
    caller = Caller(state.role_arn, state.account, state.session_arn, state.role_id)
    ctx = role_context(caller)
    bucket_doc = state.bucket_policy.document if state.bucket_policy else None
    steps = []
    for action in SIM_ACTIONS:
        res = bucket_arn if action in ("s3:ListBucket", "s3:GetBucketLocation") else obj
        decision = decisions.get((action, res), "implicitDeny")
        src = [("bucket policy", bucket_doc, True)] if bucket_doc else []
        deny = [m for m in matching(src, "Deny", action, res, caller, ctx) if m.certain]
        allow = [m for m in matching(src, "Allow", action, res, caller, ctx) if m.certain]
        if decision == "explicitDeny":
            steps.append(ProofStep(action, res, False, "explicit deny in the role's policies"))
        elif deny:
            steps.append(ProofStep(action, res, False, "explicit deny in the bucket policy"))
        elif decision == "allowed":
            steps.append(ProofStep(action, res, True, "allowed by the role's policies"))
        elif allow and not state.has_boundary:
            steps.append(ProofStep(action, res, True, "allowed by the bucket policy (same account)"))
        else:
            steps.append(ProofStep(action, res, False, "no policy allows it"))
    return Proof(
        "simulation",
        tuple(steps),
        "iam:SimulateCustomPolicy over the role's policies, with the bucket policy read by sagewiz",
    )


_factories: dict[Any, Any] = {}
_factories_lock = threading.Lock()


def _role_factory(target: Any) -> Any:
    """One factory per role target: building boto3 clients costs far more than the proof itself."""
    from services.session import SessionFactory

    with _factories_lock:
        if target not in _factories:
            _factories.clear()  # only the current world's role is worth keeping
            _factories[target] = SessionFactory(target)
        return _factories[target]


def prove(factory: Any, state: Any, *, world: Any = None) -> Proof:
    """The marker-object proof when the sandbox can sign as this role, else the simulator."""
    if (
        world is not None
        and getattr(world, "role_credentials", None) is not None
        and world.role_arn == state.role_arn
    ):
        return marker_proof(_role_factory(world.role_target()), state.bucket, state.prefix)
    if getattr(getattr(factory, "target", None), "sandbox", False):
        # The emulator has no policy simulator; it can sign only as the seeded role.
        return Proof(
            "unavailable", (), "in the sandbox only the seeded role's requests can be tried for real"
        )
    return simulate_proof(factory, state)
