"""Whether the caller may pass the role to SageMaker (iam:PassRole), read from its own policies:
through the permissions doctor's evaluator when it can, else a small matcher of the statements."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from services.errors import translate
from services.roles.documents import SAGEMAKER_SERVICE, as_list, parse_document


@dataclass(frozen=True)
class PassRoleCheck:
    """Whether the caller may pass `role_arn` to SageMaker. `allowed` is None when it could not be
    determined (say so; never guess)."""

    allowed: bool | None
    role_arn: str
    caller_arn: str
    explanation: str
    evidence: tuple[str, ...] = field(default_factory=tuple)

    @property
    def known(self) -> bool:
        return self.allowed is not None


def check_pass_role(factory: Any, caller_arn: str, role_arn: str) -> PassRoleCheck:
    """Evaluate the caller's identity policies for iam:PassRole on the role.

    Neither moto nor a typical caller can use iam:SimulatePrincipalPolicy, so we read the caller's
    policies and evaluate them: with services.policy (the doctor's evaluator) when it is present,
    else with the small matcher below (Action/Resource/Effect, iam:PassedToService). Conditions
    we do not understand make the answer "cannot be determined", not a guess.
    """
    try:
        docs = _caller_policies(factory, caller_arn)
    except _CannotRead as why:
        return PassRoleCheck(
            None,
            role_arn,
            caller_arn,
            f"Could not check iam:PassRole: {why}. SageMaker will refuse the request if it is missing.",
        )
    evaluated = _evaluate_with_doctor(caller_arn, role_arn, docs)
    if evaluated is not None:
        return evaluated
    return _evaluate_pass_role(caller_arn, role_arn, docs)


class _CannotRead(Exception):
    pass


def role_allows(factory: Any, role_arn: str, action: str, resource: str) -> bool | None:
    """Whether the role's own identity policies allow `action` on `resource` (the doctor's
    evaluator); None when that cannot be determined (policies unreadable, evaluator missing)."""
    try:
        docs = _caller_policies(factory, role_arn)
        from services.policy import NamedPolicy, PolicySet, RequestContext, evaluate_request, parse_policy
    except (_CannotRead, ImportError):
        return None
    try:
        ctx = RequestContext.build(action, resource, role_arn)
        named = tuple(NamedPolicy(source, parse_policy(doc), source=source) for source, doc in docs)
        return evaluate_request(ctx, PolicySet(identity=named)).allowed
    except Exception:  # a policy the evaluator cannot read: say unknown, never guess
        return None


def _caller_policies(factory: Any, caller_arn: str) -> list[tuple[str, dict[str, Any]]]:
    """(source, document) for every identity policy of the caller (user or assumed role)."""
    kind, name = _principal_of(caller_arn)
    if kind is None:
        raise _CannotRead(f"the caller {caller_arn} is not an IAM user or role sagewiz can inspect")
    iam = factory.client("iam")
    docs: list[tuple[str, dict[str, Any]]] = []
    try:
        if kind == "user":
            for pname in iam.list_user_policies(UserName=name).get("PolicyNames", []):
                doc = iam.get_user_policy(UserName=name, PolicyName=pname)["PolicyDocument"]
                docs.append((f"inline policy {pname} of user {name}", parse_document(doc)))
            attached = iam.list_attached_user_policies(UserName=name).get("AttachedPolicies", [])
            for group in iam.list_groups_for_user(UserName=name).get("Groups", []):
                gname = group["GroupName"]
                for pname in iam.list_group_policies(GroupName=gname).get("PolicyNames", []):
                    doc = iam.get_group_policy(GroupName=gname, PolicyName=pname)["PolicyDocument"]
                    docs.append((f"inline policy {pname} of group {gname}", parse_document(doc)))
                attached += iam.list_attached_group_policies(GroupName=gname).get("AttachedPolicies", [])
        else:
            for pname in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
                doc = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
                docs.append((f"inline policy {pname} of role {name}", parse_document(doc)))
            attached = iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", [])
        for pol in attached:
            meta = iam.get_policy(PolicyArn=pol["PolicyArn"])["Policy"]
            ver = iam.get_policy_version(PolicyArn=pol["PolicyArn"], VersionId=meta["DefaultVersionId"])
            docs.append(
                (f"managed policy {pol['PolicyName']}", parse_document(ver["PolicyVersion"]["Document"]))
            )
    except Exception as exc:
        err = translate(exc, "iam:Get*Policy")
        if err.kind == "access-denied":
            raise _CannotRead("the caller may not read its own IAM policies") from exc
        raise _CannotRead(f"{err.title}: {err.message}") from exc
    return docs


def _principal_of(arn: str) -> tuple[str | None, str]:
    m = re.match(r"arn:aws[a-z-]*:iam::\d{12}:user/(?:.*/)?([^/]+)$", arn)
    if m:
        return "user", m.group(1)
    m = re.match(r"arn:aws[a-z-]*:sts::\d{12}:assumed-role/([^/]+)/", arn)
    if m:
        return "role", m.group(1)
    m = re.match(r"arn:aws[a-z-]*:iam::\d{12}:role/(?:.*/)?([^/]+)$", arn)
    if m:
        return "role", m.group(1)
    return None, ""


def _evaluate_with_doctor(
    caller_arn: str, role_arn: str, docs: list[tuple[str, dict[str, Any]]]
) -> PassRoleCheck | None:
    """Use services.policy (the doctor's evaluator) when present; None when it is not (or fails)."""
    try:
        from services.policy import NamedPolicy, PolicySet, RequestContext, evaluate_request, parse_policy
    except ImportError:
        return None
    try:
        ctx = RequestContext.build(
            "iam:PassRole", role_arn, caller_arn, extra={"iam:PassedToService": SAGEMAKER_SERVICE}
        )
        named = tuple(NamedPolicy(source, parse_policy(doc), source=source) for source, doc in docs)
        decision = evaluate_request(ctx, PolicySet(identity=named))
    except Exception:  # an interface change or a policy it cannot parse: use our own matcher
        return None
    evidence = tuple(f"{name}: statement {t.label}" for name, t in decision.deciding)
    if decision.allowed:
        return PassRoleCheck(
            True, role_arn, caller_arn, "The caller's policies allow iam:PassRole on the role.", evidence
        )
    if decision.kind == "explicit-deny":
        return PassRoleCheck(
            False, role_arn, caller_arn, f"An explicit Deny blocks iam:PassRole on {role_arn}.", evidence
        )
    # An Allow that failed only on a condition the request context cannot know is not a "no".
    known = set(ctx.keys) | {"iam:passedtoservice"}
    for result in decision.results:
        for t in result.traces:
            unsure = t.effect == "Allow" and t.action_ok and t.resource_ok and not t.conditions_ok
            if unsure and any(c.clause.key.lower() not in known for c in t.conditions):
                return PassRoleCheck(
                    None,
                    role_arn,
                    caller_arn,
                    "Could not determine whether the caller may pass the role: a statement has a "
                    "condition sagewiz cannot evaluate. SageMaker will refuse the request if "
                    "iam:PassRole is missing.",
                    (f"{result.name}: statement {t.label}",),
                )
    return PassRoleCheck(False, role_arn, caller_arn, _no_pass_role_text(caller_arn, role_arn))


def _evaluate_pass_role(
    caller_arn: str, role_arn: str, docs: list[tuple[str, dict[str, Any]]]
) -> PassRoleCheck:
    allow_from: list[str] = []
    deny_from: list[str] = []
    unsure: list[str] = []
    for source, doc in docs:
        for st in as_list(doc.get("Statement")):
            if not isinstance(st, dict) or not _matches_action(st, "iam:passrole"):
                continue
            if not _matches_resource(st, role_arn):
                continue
            cond = _condition_result(st.get("Condition"))
            if cond is None:
                unsure.append(
                    f"{source} ({st.get('Sid') or 'statement'}: a condition sagewiz cannot evaluate)"
                )
                continue
            if not cond:
                continue
            (deny_from if st.get("Effect") == "Deny" else allow_from).append(
                f"{source} ({st.get('Sid') or 'statement'})"
            )
    if deny_from:
        return PassRoleCheck(
            False,
            role_arn,
            caller_arn,
            f"An explicit Deny blocks iam:PassRole on {role_arn}.",
            tuple(deny_from),
        )
    if allow_from:
        return PassRoleCheck(
            True,
            role_arn,
            caller_arn,
            "The caller's policies allow iam:PassRole on the role.",
            tuple(allow_from),
        )
    if unsure:
        return PassRoleCheck(
            None,
            role_arn,
            caller_arn,
            "Could not determine whether the caller may pass the role: a statement has a condition "
            "sagewiz cannot evaluate. SageMaker will refuse the request if iam:PassRole is missing.",
            tuple(unsure),
        )
    return PassRoleCheck(False, role_arn, caller_arn, _no_pass_role_text(caller_arn, role_arn))


def _no_pass_role_text(caller_arn: str, role_arn: str) -> str:
    return (
        f"{caller_arn} may not pass the role {role_arn} to SageMaker (no identity policy allows "
        "iam:PassRole on it), so SageMaker would refuse to create the notebook. Ask an administrator to add "
        f'an Allow for "iam:PassRole" on "{role_arn}" with the condition iam:PassedToService = '
        f"{SAGEMAKER_SERVICE}."
    )


def _matches_action(st: dict[str, Any], action: str) -> bool:
    if "NotAction" in st:
        return not any(fnmatch.fnmatchcase(action, str(a).lower()) for a in as_list(st["NotAction"]))
    return any(fnmatch.fnmatchcase(action, str(a).lower()) for a in as_list(st.get("Action")))


def _matches_resource(st: dict[str, Any], arn: str) -> bool:
    if "NotResource" in st:
        return not any(fnmatch.fnmatchcase(arn, str(r)) for r in as_list(st["NotResource"]))
    return any(fnmatch.fnmatchcase(arn, str(r)) for r in as_list(st.get("Resource")))


def _condition_result(condition: Any) -> bool | None:
    """True/False for conditions on iam:PassedToService; None for anything else."""
    if not condition:
        return True
    ok = True
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            return None
        for key, values in pairs.items():
            if key.lower() != "iam:passedtoservice":
                return None
            vals = [str(v) for v in as_list(values)]
            op = operator.lower().removesuffix("ifexists")
            if op in ("stringequals", "stringequalsignorecase"):
                hit = SAGEMAKER_SERVICE in vals
            elif op == "stringlike":
                hit = any(fnmatch.fnmatchcase(SAGEMAKER_SERVICE, v) for v in vals)
            elif op == "stringnotequals":
                hit = SAGEMAKER_SERVICE not in vals
            elif op == "stringnotlike":
                hit = not any(fnmatch.fnmatchcase(SAGEMAKER_SERVICE, v) for v in vals)
            else:
                return None
            ok = ok and hit
    return ok
