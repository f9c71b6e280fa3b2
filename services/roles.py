"""Execution roles for SageMaker: which roles it can assume, and a least-privilege one to create.

- `trust_policy(account)`: sagemaker.amazonaws.com may assume the role, only on behalf of this
  account (`aws:SourceAccount`), which guards against the confused-deputy problem.
- `least_privilege_policy(...)`: bucket-level actions on the bucket ARN, object actions on
  `bucket/*` (or `bucket/prefix*`), CloudWatch Logs for `/aws/sagemaker/*`, ECR pull, metrics.
- `sagemaker_role_problem(trust)`: why SageMaker could not assume a role, or None.
- `list_execution_roles`, `plan_create_role`, `check_pass_role`: the services the Notebook step uses.
"""

from __future__ import annotations

import fnmatch
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from services.errors import SagewizError, ValidationError, translate
from services.journal_events import Change, ResourceChanged, ResourceCreated
from services.plan import Action, Plan, pretty_json, tags_list
from services.resource_kinds import ResourceKind

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
FULL_ACCESS_ARN = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
INLINE_POLICY_NAME = "sagewiz-least-privilege"
ROLE_PATH = "/service-role/"

# IAM's own rule for role names: 1-64 of [\w+=,.@-].
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


# -- policy documents ----------------------------------------------------------------------------
def trust_policy(account: str) -> dict[str, Any]:
    """SageMaker may assume the role, only when acting for `account`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SageMakerAssumeRoleForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": SAGEMAKER_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def least_privilege_policy(
    account: str, region: str, bucket: str, prefix: str | None = None
) -> dict[str, Any]:
    """What a notebook, training or tuning job needs and no more, scoped to one bucket (and prefix).

    Bucket-level actions (ListBucket, GetBucketLocation) apply to the bucket ARN, object actions to
    `bucket/*`: mixing the two up is the classic cause of "access is forbidden".
    """
    prefix = (prefix or "").lstrip("/")
    bucket_stmts: list[dict[str, Any]]
    if prefix:
        # s3:prefix exists only on list requests: a GetBucketLocation under that condition would
        # never be allowed, so it gets a statement of its own.
        bucket_stmts = [
            {
                "Sid": "BucketLevel",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*", prefix.rstrip("/")]}},
            },
            {
                "Sid": "BucketLocation",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": f"arn:aws:s3:::{bucket}",
            },
        ]
    else:
        bucket_stmts = [
            {
                "Sid": "BucketLevel",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        ]
    log_groups = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            *bucket_stmts,
            {
                "Sid": "ObjectLevel",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
            },
            {
                "Sid": "JobLogs",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                ],
                "Resource": [log_groups, f"{log_groups}:log-stream:*"],
            },
            {
                # GetAuthorizationToken has no resource-level permissions: it must be "*".
                "Sid": "EcrAuth",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "EcrPull",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                "Resource": "arn:aws:ecr:*:*:repository/*",
            },
            {
                # PutMetricData has no resource-level permissions; the namespace condition narrows it.
                "Sid": "Metrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {
                    "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
                },
            },
        ],
    }


def autostop_statement(account: str, region: str, notebook: str) -> dict[str, Any]:
    """What the idle auto-stop lifecycle script needs: stop (and read) its own notebook only."""
    # SageMaker lower-cases notebook instance names in ARNs.
    return {
        "Sid": "IdleAutoStop",
        "Effect": "Allow",
        "Action": ["sagemaker:StopNotebookInstance", "sagemaker:DescribeNotebookInstance"],
        "Resource": f"arn:aws:sagemaker:{region}:{account}:notebook-instance/{notebook.lower()}",
    }


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _parse(doc: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(doc, str):
        text = urllib.parse.unquote(doc) if doc.startswith("%7B") else doc
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise TypeError("a policy document is a JSON object")
        return parsed
    return doc


def sagemaker_role_problem(trust_policy: dict[str, Any] | str) -> str | None:
    """None when sagemaker.amazonaws.com may assume a role with this trust policy; else why not."""
    try:
        doc = _parse(trust_policy)
    except (ValueError, TypeError):
        return "its trust policy is not valid JSON"
    statements = _as_list(doc.get("Statement"))
    allowed = False
    for st in statements:
        if not isinstance(st, dict):
            continue
        actions = _as_list(st.get("Action"))
        if not any(fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in actions):
            continue
        principal = st.get("Principal")
        services: list[str] = []
        if principal == "*":
            services = ["*"]
        elif isinstance(principal, dict):
            services = [str(s) for s in _as_list(principal.get("Service"))]
        names_sagemaker = "*" in services or SAGEMAKER_SERVICE in services
        if not names_sagemaker:
            continue
        if st.get("Effect") == "Deny":
            return "its trust policy denies sagemaker.amazonaws.com the sts:AssumeRole action"
        if st.get("Effect") == "Allow":
            allowed = True
    if allowed:
        return None
    trusted = sorted(
        {
            str(s)
            for st in statements
            if isinstance(st, dict) and isinstance(st.get("Principal"), dict)
            for key in ("Service", "AWS", "Federated")
            for s in _as_list(st["Principal"].get(key))
        }
    )
    if trusted:
        return "its trust policy lets only " + ", ".join(trusted) + " assume it, not sagemaker.amazonaws.com"
    return "its trust policy does not let sagemaker.amazonaws.com assume it"


# -- listing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoleInfo:
    name: str
    arn: str
    path: str
    usable: bool
    reason: str = ""  # why SageMaker cannot assume it (when not usable)
    created: str = ""


@dataclass(frozen=True)
class RoleListing:
    usable: tuple[RoleInfo, ...]
    excluded: tuple[RoleInfo, ...]


def list_execution_roles(factory: Any) -> RoleListing:
    """Every role in the account, split into those SageMaker can assume and the rest (with why)."""
    iam = factory.client("iam")
    usable: list[RoleInfo] = []
    excluded: list[RoleInfo] = []
    try:
        for page in iam.get_paginator("list_roles").paginate():
            for role in page.get("Roles", []):
                if role.get("Path", "").startswith("/aws-service-role/"):
                    problem: str | None = (
                        "a service-linked role belongs to an AWS service and cannot be passed"
                    )
                else:
                    problem = sagemaker_role_problem(role.get("AssumeRolePolicyDocument") or {})
                info = RoleInfo(
                    name=role["RoleName"],
                    arn=role["Arn"],
                    path=role.get("Path", "/"),
                    usable=problem is None,
                    reason=problem or "",
                    created=str(role.get("CreateDate", ""))[:19],
                )
                (usable if problem is None else excluded).append(info)
    except Exception as exc:
        raise translate(exc, "iam:ListRoles") from exc
    key = lambda r: r.name.lower()  # noqa: E731
    return RoleListing(tuple(sorted(usable, key=key)), tuple(sorted(excluded, key=key)))


def check_role_assumable(factory: Any, role_arn: str) -> None:
    """Raise a clear error when the role does not exist or SageMaker cannot assume it."""
    problem = role_arn_problem(role_arn)
    if problem:
        raise ValidationError("execution role", problem, "Pick a role from the list or create one.")
    name = role_arn.rsplit("/", 1)[-1]
    try:
        role = factory.client("iam").get_role(RoleName=name)["Role"]
    except Exception as exc:
        err = translate(exc, "iam:GetRole")
        if err.kind == "not-found":
            raise ValidationError(
                "execution role",
                f"The role {name} does not exist.",
                "Pick a role from the list or create one.",
            ) from exc
        raise err from exc
    why = sagemaker_role_problem(role.get("AssumeRolePolicyDocument") or {})
    if why:
        raise ValidationError(
            "execution role",
            f"SageMaker cannot assume {name}: {why}.",
            "Pick a role whose trust policy names sagemaker.amazonaws.com, or create one here.",
        )


def role_arn_problem(arn: str) -> str | None:
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", arn or ""):
        return f"'{arn}' is not a role ARN (expected arn:aws:iam::<12-digit account>:role/<name>)."
    return None


def role_name_problem(name: str) -> str | None:
    if not name:
        return "A role name is required."
    if not _ROLE_NAME.match(name):
        if len(name) > 64:
            return f"A role name is at most 64 characters (this one has {len(name)})."
        return "A role name may contain only letters, digits and + = , . @ _ - (no spaces or slashes)."
    return None


def default_role_name(stamp: str) -> str:
    """AmazonSageMaker-ExecutionRole-<stamp>, the name the console uses (stamp e.g. 20261127T120000)."""
    return f"AmazonSageMaker-ExecutionRole-{stamp}"


# -- creating ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoleSpec:
    name: str
    account: str
    region: str
    bucket: str
    prefix: str | None = None
    full_access: bool = False  # attach AmazonSageMakerFullAccess instead of the inline policy
    autostop_notebook: str | None = None  # let the idle auto-stop script stop this notebook

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{ROLE_PATH}{self.name}"


FULL_ACCESS_EXPLAINED = (
    "AmazonSageMakerFullAccess is AWS's broad managed policy: all SageMaker actions, iam:PassRole to "
    "SageMaker, and S3 access to every bucket whose name contains 'sagemaker'. It is convenient but far "
    "wider than one bucket; the least-privilege policy is recommended."
)


def plan_create_role(spec: RoleSpec, existing_names: set[str] | None = None) -> Plan:
    """The calls that create the execution role, with both policy documents shown in full."""
    problem = role_name_problem(spec.name)
    if problem:
        raise ValidationError("role name", problem, "Example: AmazonSageMaker-ExecutionRole-notebook")
    if existing_names and spec.name in existing_names:
        raise ValidationError(
            "role name",
            f"A role named {spec.name} already exists.",
            "Pick it from the list, or choose another name.",
        )
    if not spec.full_access and not spec.bucket:
        raise ValidationError("bucket", "The least-privilege policy needs the bucket it is scoped to.")
    trust = trust_policy(spec.account)
    actions = [
        Action(
            service="iam",
            operation="create_role",
            params={
                "RoleName": spec.name,
                "Path": ROLE_PATH,
                "AssumeRolePolicyDocument": json.dumps(trust),
                "Description": "SageMaker execution role created by sagewiz",
                "Tags": tags_list(),
            },
            description=f"Create role {spec.name} that only SageMaker, acting for account {spec.account}, can assume",
            diff=_added("trust policy", trust),
            undo=f"delete role {spec.name} (detach/delete its policies first)",
            resource=spec.arn,
            journal=ResourceCreated(ResourceKind.ROLE, spec.name, spec.arn),
        )
    ]
    if spec.full_access:
        actions.append(
            Action(
                service="iam",
                operation="attach_role_policy",
                params={"RoleName": spec.name, "PolicyArn": FULL_ACCESS_ARN},
                description="Attach AWS's managed AmazonSageMakerFullAccess (broad; see the warning)",
                undo=f"detach {FULL_ACCESS_ARN} from {spec.name}",
                resource=spec.arn,
                journal=ResourceChanged(
                    ResourceKind.ROLE,
                    spec.name,
                    change=Change.POLICY_ATTACHED,
                    attributes={"policy_arn": FULL_ACCESS_ARN},
                ),
            )
        )
    else:
        policy = least_privilege_policy(spec.account, spec.region, spec.bucket, spec.prefix)
        if spec.autostop_notebook:
            policy["Statement"].append(autostop_statement(spec.account, spec.region, spec.autostop_notebook))
        scope = f"s3://{spec.bucket}/{(spec.prefix or '').lstrip('/')}"
        actions.append(
            Action(
                service="iam",
                operation="put_role_policy",
                params={
                    "RoleName": spec.name,
                    "PolicyName": INLINE_POLICY_NAME,
                    "PolicyDocument": json.dumps(policy),
                },
                description=f"Give {spec.name} a least-privilege inline policy scoped to {scope}",
                diff=_added("inline policy " + INLINE_POLICY_NAME, policy),
                undo=f"delete inline policy {INLINE_POLICY_NAME} of {spec.name}",
                resource=spec.arn,
                journal=ResourceChanged(
                    ResourceKind.ROLE,
                    spec.name,
                    change=Change.INLINE_POLICY_PUT,
                    attributes={"policy_name": INLINE_POLICY_NAME},
                ),
            )
        )
    warnings = (FULL_ACCESS_EXPLAINED,) if spec.full_access else ()
    return Plan(f"Create the SageMaker execution role {spec.name}", tuple(actions), warnings)


def _added(name: str, doc: dict[str, Any]) -> str:
    lines = [f"--- (no {name})", f"+++ {name}"] + ["+" + line for line in pretty_json(doc).splitlines()]
    return "\n".join(lines)


# -- iam:PassRole --------------------------------------------------------------------------------
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
                docs.append((f"inline policy {pname} of user {name}", _parse(doc)))
            attached = iam.list_attached_user_policies(UserName=name).get("AttachedPolicies", [])
            for group in iam.list_groups_for_user(UserName=name).get("Groups", []):
                gname = group["GroupName"]
                for pname in iam.list_group_policies(GroupName=gname).get("PolicyNames", []):
                    doc = iam.get_group_policy(GroupName=gname, PolicyName=pname)["PolicyDocument"]
                    docs.append((f"inline policy {pname} of group {gname}", _parse(doc)))
                attached += iam.list_attached_group_policies(GroupName=gname).get("AttachedPolicies", [])
        else:
            for pname in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
                doc = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
                docs.append((f"inline policy {pname} of role {name}", _parse(doc)))
            attached = iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", [])
        for pol in attached:
            meta = iam.get_policy(PolicyArn=pol["PolicyArn"])["Policy"]
            ver = iam.get_policy_version(PolicyArn=pol["PolicyArn"], VersionId=meta["DefaultVersionId"])
            docs.append((f"managed policy {pol['PolicyName']}", _parse(ver["PolicyVersion"]["Document"])))
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
        for st in _as_list(doc.get("Statement")):
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
        return not any(fnmatch.fnmatchcase(action, str(a).lower()) for a in _as_list(st["NotAction"]))
    return any(fnmatch.fnmatchcase(action, str(a).lower()) for a in _as_list(st.get("Action")))


def _matches_resource(st: dict[str, Any], arn: str) -> bool:
    if "NotResource" in st:
        return not any(fnmatch.fnmatchcase(arn, str(r)) for r in _as_list(st["NotResource"]))
    return any(fnmatch.fnmatchcase(arn, str(r)) for r in _as_list(st.get("Resource")))


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
            vals = [str(v) for v in _as_list(values)]
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


def describe_role_error(err: SagewizError) -> SagewizError:
    """Errors from the role calls, said plainly."""
    if err.code == "EntityAlreadyExists":
        return ValidationError(
            "role name", "A role of that name already exists.", "Pick it from the list instead."
        )
    return err
