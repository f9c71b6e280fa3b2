"""Deny fixes: an exception for the role added to a Deny (a Deny is never deleted), and never to a
Deny that enforces a practice (TLS, encryption, VPC endpoint, organization, network) or names the
role itself: there the request complies instead."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.change import BUCKET_POLICY, PolicyChange, PolicyTarget, parse, pretty
from services.permissions.fixes.safety import UnsafeFix, subject_for, validated, verified
from services.permissions.fixes.shapes import names_role, one_or_list, role_name_of, unique_sid
from services.permissions.matcher import as_list
from services.policy.minimal_change import Documents, Permitted


@dataclass(frozen=True)
class Practice:
    """A Deny that enforces a practice: it gets no exception; the request complies instead."""

    name: str  # "TLS", "encryption", "VPC endpoint", "organization", "network"
    how_to_comply: str


_PRACTICES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("aws:securetransport", "s3:tlsversion"), "TLS",
     "send the request over HTTPS (boto3's default; remove use_ssl=False or an http:// endpoint)"),
    (("s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
      "s3:x-amz-server-side-encryption-customer-algorithm"), "encryption",
     "send the encryption header the Deny asks for, for example ServerSideEncryption='aws:kms' and "
     "SSEKMSKeyId='<the key it names>' in boto3 (x-amz-server-side-encryption: aws:kms on the wire)"),
    (("aws:sourcevpce", "aws:sourcevpc"), "VPC endpoint",
     "send the request through the VPC endpoint the Deny names (the notebook's or job's VPC settings)"),
    (("aws:principalorgid", "aws:principalorgpaths", "aws:resourceorgid", "aws:sourceorgid"), "organization",
     "make the request from an account of the organization the Deny names"),
    (("aws:sourceip", "aws:vpcsourceip"), "network",
     "make the request from the network addresses the Deny allows"),
)  # fmt: skip


def practice_of(stmt: dict[str, Any]) -> Practice | None:
    cond = stmt.get("Condition") or {}
    keys = {str(k).lower() for tests in cond.values() if isinstance(tests, dict) for k in tests}
    for names, label, how in _PRACTICES:
        if keys & set(names):
            return Practice(label, how)
    return None


def aimed_at(stmt: dict[str, Any], role_arn: str, role_id: str | None = None) -> bool:
    """The Deny names the principal itself: in its Principal, or in a condition that tests
    aws:PrincipalArn / aws:userid / aws:username for it with a positive operator."""
    principal = stmt.get("Principal")
    if isinstance(principal, dict) and any(
        names_role(str(v), role_arn, role_id) for v in as_list(principal.get("AWS"))
    ):
        return True
    cond = stmt.get("Condition") or {}
    for op, tests in cond.items():
        if not isinstance(tests, dict) or "not" in str(op).lower():
            continue
        for key, values in tests.items():
            if str(key).lower() in ("aws:principalarn", "aws:userid", "aws:username"):
                for v in as_list(values):
                    if (
                        str(v) == role_arn
                        or names_role(str(v), role_arn, role_id)
                        or role_name_of(role_arn) in str(v)
                    ):
                        return True
    return False


def deny_exception_statements(
    stmt: dict[str, Any], role_arn: str, action: str, resource: str
) -> list[dict[str, Any]]:
    """The Deny rewritten so it stops refusing exactly (role, action, resource) and nothing else:
    1. the original for everyone but the role (ArnNotEquals aws:PrincipalArn <role>, ANDed);
    2. for the role, every other action the Deny covers;
    3. for the role, `action` on every other resource the Deny covers.
    The minimal-change check proves the three together change only that one request."""
    from services.policy.wildcards import action_matches, arn_matches

    if stmt.get("Effect") != "Deny":
        raise ValueError("only a Deny statement gets an exception")
    base = copy.deepcopy(stmt)
    sid = str(stmt.get("Sid") or "Deny")

    def with_cond(st: dict[str, Any], op: str, value: str) -> dict[str, Any]:
        st = copy.deepcopy(st)
        cond = st.setdefault("Condition", {})
        tests = cond.setdefault(op, {})
        current = [str(v) for v in as_list(tests.get("aws:PrincipalArn"))]
        if value not in current:
            current.append(value)
        tests["aws:PrincipalArn"] = one_or_list(current)
        return st

    everyone_else = with_cond(base, "ArnNotEquals", role_arn)
    role_only = with_cond({k: v for k, v in base.items() if k != "Sid"}, "ArnEquals", role_arn)
    out = [everyone_else]
    # 2. the role, other actions
    other_actions = copy.deepcopy(role_only)
    if "Action" in stmt:
        acts = [str(a) for a in as_list(stmt["Action"])]
        if any(a.lower() == action.lower() for a in acts) and not any(
            action_matches(a, action) and a.lower() != action.lower() for a in acts
        ):
            rest = [a for a in acts if a.lower() != action.lower()]
            if rest:
                other_actions["Action"] = one_or_list(rest)
            else:
                other_actions = {}
        else:
            # a wildcard covers it: every action but this one (S3 resources bound it to S3 actions)
            del other_actions["Action"]
            other_actions["NotAction"] = action
            if not _s3_only(stmt):
                raise UnsafeFix(
                    "the Deny's Action is a wildcard over resources of several services; no exact exception can be written"
                )
    else:
        other_actions["NotAction"] = one_or_list([*map(str, as_list(stmt["NotAction"])), action])
    if other_actions:
        other_actions["Sid"] = f"{sid}ExceptRoleOtherActions"
        out.append(other_actions)
    # 3. the role, this action, other resources
    other_res = copy.deepcopy(role_only)
    other_res.pop("NotAction", None)
    other_res["Action"] = action
    if "Resource" in stmt:
        res = [str(r) for r in as_list(stmt["Resource"])]
        if resource in res and not any(arn_matches(r, resource) and r != resource for r in res):
            rest = [r for r in res if r != resource]
            if rest:
                other_res["Resource"] = one_or_list(rest)
            else:
                other_res = {}
        else:
            del other_res["Resource"]
            other_res["NotResource"] = resource
    else:
        other_res["NotResource"] = one_or_list([*map(str, as_list(stmt["NotResource"])), resource])
    if other_res:
        other_res["Sid"] = f"{sid}ExceptRoleOtherResources"
        out.append(other_res)
    if "Sid" not in stmt:
        for st in out[1:]:
            st.pop("Sid", None)
    return [
        {"Sid": st["Sid"], **{k: v for k, v in st.items() if k != "Sid"}} if "Sid" in st else st for st in out
    ]


def _deny_covers(stmt: dict[str, Any], action: str, resource: str) -> bool:
    """The Deny's Action/NotAction and Resource/NotResource take in this request (its principal and
    conditions are the evaluator's business)."""
    from services.policy.wildcards import action_matches, arn_matches

    if "Action" in stmt:
        act = any(action_matches(str(a), action) for a in as_list(stmt["Action"]))
    else:
        act = not any(action_matches(str(a), action) for a in as_list(stmt.get("NotAction")))
    if "Resource" in stmt:
        res = any(arn_matches(str(r), resource) for r in as_list(stmt["Resource"]))
    else:
        res = not any(arn_matches(str(r), resource) for r in as_list(stmt.get("NotResource")))
    return act and res


def _s3_only(stmt: dict[str, Any]) -> bool:
    res = [str(r) for r in as_list(stmt.get("Resource", stmt.get("NotResource")))]
    return bool(res) and all(r.startswith("arn:aws:s3:::") for r in res) and "Resource" in stmt


def narrow_deny_change(
    bucket: str,
    role_arn: str,
    old_text: str,
    index: int,
    *,
    action: str,
    resource: str,
    role_id: str | None = None,
    fixes: tuple[str, ...] = (),
    identity: tuple[tuple[str, str], ...] = (),
) -> PolicyChange:
    """An exception to a bucket-policy Deny for exactly the refused request. Refused (UnsafeFix)
    for a Deny aimed at the principal itself or one that enforces a practice."""
    doc = parse(old_text)
    assert doc is not None
    stmts = as_list(doc.get("Statement"))
    if not (0 <= index < len(stmts)) or not isinstance(stmts[index], dict):
        raise ValidationError("statement", f"the bucket policy has no statement {index + 1}")
    stmt = stmts[index]
    label = stmt.get("Sid") or f"statement {index + 1}"
    practice = practice_of(stmt)
    if practice is not None:
        raise UnsafeFix(
            f"the Deny {label} enforces a practice ({practice.name}); sagewiz offers no exception to it.",
            f"Comply instead: {practice.how_to_comply}.",
        )
    if aimed_at(stmt, role_arn, role_id):
        raise UnsafeFix(
            f"the Deny {label} is aimed at {role_name_of(role_arn)} itself: someone decided this principal may not "
            "do this, so sagewiz offers no exception.",
            "Ask the bucket's owner whether the Deny is still meant; the report for an administrator has the details.",
        )
    if not _deny_covers(stmt, action, resource):
        raise ValidationError(
            "statement",
            f"the Deny {label} does not refuse {action} on {resource}: there is nothing to except",
        )
    new_stmts = list(copy.deepcopy(stmts))
    taken = {str(s.get("Sid")) for s in stmts if isinstance(s, dict) and s.get("Sid")}
    parts = deny_exception_statements(stmt, role_arn, action, resource)
    for st in parts[1:]:
        if "Sid" in st and st["Sid"] in taken:
            st["Sid"] = unique_sid(st["Sid"], taken)
        if "Sid" in st:
            taken.add(st["Sid"])
    new_stmts[index : index + 1] = parts
    new = copy.deepcopy(doc)
    new["Statement"] = new_stmts
    checks = validated(new, validate.BUCKET_POLICY, doc)
    warnings = [
        f"This is an exception to a guardrail: the Deny {label} stays for everyone else and for every other "
        f"request of the role; only {action} on {resource} by {role_name_of(role_arn)} is let through. "
        "Confirm it separately and only if the guardrail's owner agrees."
    ]
    change = PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Exception to the Deny {label}: let {role_name_of(role_arn)} do {action} on {resource} only",
        reason=(
            "A Deny is never deleted or switched off: it is split so it keeps denying everyone else everything it "
            f"denied, and keeps denying {role_name_of(role_arn)} everything but this one request."
        ),
        old_text=old_text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )
    subject = subject_for(role_arn, bucket, action, resource)
    return verified(
        change, subject, Documents(identity, old_text), (Permitted(action, resource, "the request refused"),)
    )
