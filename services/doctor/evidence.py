"""Read-only evidence for a diagnosis, gathered in parallel.

Two rounds of concurrent calls: (1) the principal (role or user), its policy lists, and every
bucket-level setting; (2) the policy documents those lists name, the permissions boundary and the
KMS key policy. A read that fails is recorded as a `Read` (denied, absent, error; see `reads`)
and the diagnosis goes on with what is known. Nothing here changes anything in AWS.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from services.doctor.reads import (
    Read,
    Reader,
    doc_text,
    group_policies,
    keep_raw_role_policies,
    kms_key,
    managed_policy,
    named_policy,
    object_owner,
)
from services.policy import NamedPolicy
from services.policy.arns import PrincipalInfo, parse_principal
from services.policy.evaluate import BOUNDARY, IDENTITY, RESOURCE
from services.policy.s3 import BlockPublicAccess

_WORKERS = 12  # concurrent reads per round (the bench sets 1 to measure what parallel buys)
_ROLE_KINDS = ("role", "assumed-role")
Round1 = dict[str, tuple[str, Any]]  # job name -> (status, response or error code)


@dataclass(frozen=True)
class PolicyDoc:
    """A policy as read, with the text (fixes edit it) and the parsed form (None if unreadable)."""

    name: str
    kind: str  # "inline" | "managed" | "group-inline" | "group-managed" | "boundary" | "bucket" | "key"
    text: str
    policy: NamedPolicy | None
    arn: str | None = None
    owner: str = ""  # "role X", "user Y", "group Z", "bucket B"
    problem: str | None = None


@dataclass(frozen=True)
class Evidence:
    principal: PrincipalInfo | None = None
    role_arn: str | None = None  # with its path, when known
    role_id: str | None = None
    role_path_known: bool = False
    identity_policies: tuple[PolicyDoc, ...] = ()
    boundary: PolicyDoc | None = None
    boundary_arn: str | None = None
    bucket: str | None = None
    bucket_exists: bool | None = None
    bucket_owner: str | None = None  # account id when confirmed
    bucket_owned_by_other: bool | None = None
    bucket_policy: PolicyDoc | None = None
    bucket_policy_text: str | None = None
    bpa_bucket: BlockPublicAccess | None = None
    bpa_account: BlockPublicAccess | None = None
    object_ownership: str | None = None
    encryption: str | None = None  # "AES256" | "aws:kms" | ...
    kms_key: str | None = None
    kms_key_policy: PolicyDoc | None = None
    kms_key_aws_managed: bool = False
    requester_pays: bool | None = None
    object_exists: bool | None = None
    object_owner_differs: bool | None = None
    object_acl_grants_owner: bool = False  # the object's ACL grants the bucket owner's account
    notebook: dict[str, Any] | None = None
    reads: tuple[Read, ...] = ()
    calls: int = 0
    identity_complete: bool = True  # False when some identity policy could not be read

    def read(self, what: str) -> Read | None:
        return next((r for r in self.reads if r.what == what), None)

    @property
    def denied_reads(self) -> tuple[Read, ...]:
        return tuple(r for r in self.reads if r.status in ("denied", "error"))


def gather(
    factory: Any,
    principal_arn: str | None,
    bucket: str | None,
    key: str | None,
    action: str | None,
    *,
    caller_account: str | None = None,
    notebook_name: str | None = None,
) -> Evidence:
    g = Reader(factory)
    keep_raw_role_policies(factory)
    info = parse_principal(principal_arn or "") if principal_arn else None
    obj_read = bool(key) and (action or "").lower() in {"s3:getobject"}
    owner = (info.account if info else None) or caller_account
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        jobs = _submit_principal(pool, g, info)
        if bucket:
            jobs.update(_submit_bucket(pool, g, bucket, key if obj_read else None, owner))
        if notebook_name:
            jobs["notebook"] = pool.submit(
                g.call, "notebook network", "sagemaker", "describe_notebook_instance",
                NotebookInstanceName=notebook_name,
            )  # fmt: skip
        r1 = {k: f.result() for k, f in jobs.items()}
    principal = _principal(info, r1)
    ev: dict[str, Any] = {"principal": info, "bucket": bucket}
    if bucket:
        ev.update(_bucket_facts(r1, bucket, owner))
        if owner and r1["head"][0] == "denied" and ev.get("bucket_owned_by_other") is None:
            ev.update(_owner_by_plain_head(g, bucket))
    if "notebook" in r1 and r1["notebook"][0] == "ok":
        nb = r1["notebook"][1]
        ev["notebook"] = {
            k: nb.get(k) for k in ("NotebookInstanceName", "DirectInternetAccess", "SubnetId", "RoleArn")
        }
    docs = _documents(g, info, r1, principal.boundary_arn, bucket, key if obj_read else None, ev)
    return Evidence(
        **ev,
        role_arn=principal.role_arn,
        role_id=principal.role_id,
        role_path_known=principal.path_known,
        identity_policies=docs.identity,
        boundary=docs.boundary,
        boundary_arn=principal.boundary_arn,
        reads=tuple(g.reads),
        calls=g.calls,
        identity_complete=docs.complete,
    )


# -- round 1: the principal and the bucket's settings ----------------------------------------------
def _submit_principal(
    pool: ThreadPoolExecutor, g: Reader, info: PrincipalInfo | None
) -> dict[str, Future[tuple[str, Any]]]:
    jobs: dict[str, Future[tuple[str, Any]]] = {}
    if info and info.kind in _ROLE_KINDS:
        rn = info.name
        jobs["role"] = pool.submit(g.call, "role", "iam", "get_role", RoleName=rn)
        jobs["inline"] = pool.submit(g.call, "role inline policies", "iam", "list_role_policies", RoleName=rn)
        jobs["attached"] = pool.submit(
            g.call, "role attached policies", "iam", "list_attached_role_policies", RoleName=rn
        )
    elif info and info.kind == "user":
        un = info.name
        jobs["user"] = pool.submit(g.call, "user", "iam", "get_user", UserName=un)
        jobs["inline"] = pool.submit(g.call, "user inline policies", "iam", "list_user_policies", UserName=un)
        jobs["attached"] = pool.submit(
            g.call, "user attached policies", "iam", "list_attached_user_policies", UserName=un
        )
        jobs["groups"] = pool.submit(g.call, "user groups", "iam", "list_groups_for_user", UserName=un)
    return jobs


def _submit_bucket(
    pool: ThreadPoolExecutor, g: Reader, bucket: str, object_key: str | None, owner: str | None
) -> dict[str, Future[tuple[str, Any]]]:
    """Every bucket-level setting, the owner check, and the object when its absence matters."""
    head: dict[str, Any] = {"Bucket": bucket}
    if owner:
        head["ExpectedBucketOwner"] = owner
    jobs = {
        "head": pool.submit(g.call, "bucket owner", "s3", "head_bucket", **head),
        "policy": pool.submit(g.call, "bucket policy", "s3", "get_bucket_policy", Bucket=bucket),
        "bpa": pool.submit(
            g.call, "bucket Block Public Access", "s3", "get_public_access_block", Bucket=bucket
        ),
    }
    if owner:
        jobs["bpa_account"] = pool.submit(
            g.call, "account Block Public Access", "s3control", "get_public_access_block", AccountId=owner
        )
    jobs["ownership"] = pool.submit(
        g.call, "Object Ownership", "s3", "get_bucket_ownership_controls", Bucket=bucket
    )
    jobs["encryption"] = pool.submit(
        g.call, "default encryption", "s3", "get_bucket_encryption", Bucket=bucket
    )
    jobs["payer"] = pool.submit(g.call, "Requester Pays", "s3", "get_bucket_request_payment", Bucket=bucket)
    if object_key:
        jobs["object"] = pool.submit(g.call, "object", "s3", "head_object", Bucket=bucket, Key=object_key)
    return jobs


@dataclass(frozen=True)
class _Principal:
    role_arn: str | None = None
    role_id: str | None = None
    path_known: bool = False
    boundary_arn: str | None = None


def _principal(info: PrincipalInfo | None, r1: Round1) -> _Principal:
    """The role (with its path and id) or user, and its permissions boundary."""
    if info and info.kind in _ROLE_KINDS:
        st, out = r1["role"]
        if st == "ok":
            role = out["Role"]
            boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            return _Principal(role["Arn"], role.get("RoleId"), True, boundary)
        if info.kind == "role":
            return _Principal(info.arn, None, True)
        # A session names its role without the path: SageMaker's execution roles live in
        # /service-role/, anything else is guessed at the root (and said to be a guess).
        role_arn = info.role_arn_guess
        if "AmazonSageMaker-ExecutionRole" in info.name:
            role_arn = f"arn:{info.partition}:iam::{info.account}:role/service-role/{info.name}"
        return _Principal(role_arn)
    if info and info.kind == "user":
        st, out = r1["user"]
        if st == "ok":
            return _Principal(
                boundary_arn=(out["User"].get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            )
    return _Principal()


def _bucket_facts(r1: Round1, bucket: str, owner: str | None) -> dict[str, Any]:
    ev = _bucket_owner(r1, bucket, owner)
    ev.update(_bucket_settings(r1))
    if "object" in r1:
        st, out = r1["object"]
        if st == "ok":
            ev["object_exists"] = True
            if out.get("ServerSideEncryption", "").startswith("aws:kms"):
                ev["encryption"] = out["ServerSideEncryption"]
                ev["kms_key"] = out.get("SSEKMSKeyId") or ev.get("kms_key")
        elif st == "absent":
            ev["object_exists"] = False
    return ev


def _bucket_owner(r1: Round1, bucket: str, owner: str | None) -> dict[str, Any]:
    """Whether the bucket exists and who owns it, and its policy."""
    ev: dict[str, Any] = {}
    head_st = r1["head"][0]
    if head_st == "ok":
        ev["bucket_exists"] = True
        ev["bucket_owner"] = owner
        ev["bucket_owned_by_other"] = False if owner else None
    elif head_st == "absent":
        ev["bucket_exists"] = False
    st, out = r1["policy"]
    if st == "ok":
        text = out["Policy"]
        ev["bucket_policy_text"] = text
        named, problem = named_policy(
            f"bucket policy of {bucket}", text, RESOURCE, f"bucket policy of {bucket}"
        )
        ev["bucket_policy"] = PolicyDoc(
            "bucket policy", "bucket", text, named, owner=f"bucket {bucket}", problem=problem
        )
    elif st == "absent" and out == "NoSuchBucket":
        ev["bucket_exists"] = False
    if head_st == "denied":
        # HeadBucket with ExpectedBucketOwner=<principal's account> refused. GetBucketPolicy's
        # 405 means "allowed, but not the owner's account"; any other bucket read that works
        # means we may read it, so the owner check is what failed: another account owns it.
        others = [r1[k][0] for k in ("policy", "bpa", "ownership", "encryption") if k in r1]
        if r1["policy"][1] == "MethodNotAllowed" or any(s2 == "ok" for s2 in others):
            ev["bucket_exists"] = True
            ev["bucket_owned_by_other"] = True
    return ev


def _owner_by_plain_head(g: Reader, bucket: str) -> dict[str, Any]:
    """HeadBucket with ExpectedBucketOwner was refused and no other bucket read told why (a public
    bucket of another account lets nobody read its settings). A plain HeadBucket that works means
    the caller may read the bucket, so the owner check is what failed: another account owns it.
    One more call, made only in this case."""
    st, _ = g.call("bucket without the owner check", "s3", "head_bucket", Bucket=bucket)
    return {"bucket_exists": True, "bucket_owned_by_other": True} if st == "ok" else {}


def _bucket_settings(r1: Round1) -> dict[str, Any]:
    """Block Public Access (bucket and account), Object Ownership, encryption, Requester Pays;
    an absent setting is AWS's default."""
    ev: dict[str, Any] = {}
    for job, field in (("bpa", "bpa_bucket"), ("bpa_account", "bpa_account")):
        if job not in r1:
            continue
        st, out = r1[job]
        if st == "ok":
            ev[field] = BlockPublicAccess.from_config(out.get("PublicAccessBlockConfiguration"))
        elif st == "absent":
            ev[field] = BlockPublicAccess()
    st, out = r1["ownership"]
    if st == "ok":
        rules = out.get("OwnershipControls", {}).get("Rules", [])
        ev["object_ownership"] = rules[0].get("ObjectOwnership") if rules else None
    elif st == "absent":
        ev["object_ownership"] = "ObjectWriter"  # no controls: the legacy behaviour
    st, out = r1["encryption"]
    if st == "ok":
        rules = out.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        ev["encryption"] = default.get("SSEAlgorithm")
        ev["kms_key"] = default.get("KMSMasterKeyID")
    elif st == "absent":
        ev["encryption"] = "AES256"  # AWS's default since 2023
    st, out = r1["payer"]
    if st == "ok":
        ev["requester_pays"] = out.get("Payer") == "Requester"
    return ev


# -- round 2: the documents --------------------------------------------------------------------------
@dataclass
class _Documents:
    identity: tuple[PolicyDoc, ...] = ()
    boundary: PolicyDoc | None = None
    complete: bool = True  # False when some identity policy could not be read


def _documents(
    g: Reader,
    info: PrincipalInfo | None,
    r1: Round1,
    boundary_arn: str | None,
    bucket: str | None,
    object_key: str | None,
    ev: dict[str, Any],
) -> _Documents:
    """The policy documents round 1 named, read concurrently; object ownership and the KMS key
    policy are written into `ev`."""
    jobs: list[tuple[str, Future[Any]]] = []
    complete = True
    owner_label = ""
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        if info and info.kind in (*_ROLE_KINDS, "user"):
            owner_label = f"{'user' if info.kind == 'user' else 'role'} {info.name}"
            complete = _submit_identity(pool, g, info, r1, jobs)
        if boundary_arn:
            jobs.append(("boundary", pool.submit(managed_policy, g, boundary_arn)))
        if (
            bucket
            and object_key
            and ev.get("object_exists")
            and ev.get("object_ownership") != "BucketOwnerEnforced"
        ):
            jobs.append(("object-owner", pool.submit(object_owner, g, bucket, object_key)))
        key = ev.get("kms_key")
        if key and ev.get("encryption", "").startswith("aws:kms"):
            jobs.append(("key", pool.submit(kms_key, g, key)))
        results = [(k, f.result()) for k, f in jobs]
    docs = _Documents(complete=complete)
    identity: list[PolicyDoc] = []
    for job, res in results:
        kind, _, name = job.partition(":")
        if kind in ("inline", "managed", "group"):
            read = _identity_docs(kind, name, res, owner_label)
            if read is None:
                docs.complete = False
            else:
                identity.extend(read)
        elif kind == "boundary" and res is not None:
            arn, text = res
            short = arn.rsplit("/", 1)[-1]
            named, problem = named_policy(short, text, BOUNDARY, f"permissions boundary {arn}", arn)
            docs.boundary = PolicyDoc(short, "boundary", text, named, arn, owner_label, problem)
        elif kind == "object-owner" and res is not None:
            ev["object_owner_differs"], ev["object_acl_grants_owner"] = res
        elif kind == "key" and res is not None:
            _key_policy(res, ev)
    docs.identity = tuple(identity)
    return docs


def _submit_identity(
    pool: ThreadPoolExecutor,
    g: Reader,
    info: PrincipalInfo,
    r1: Round1,
    jobs: list[tuple[str, Future[Any]]],
) -> bool:
    """Submit the reads of the principal's identity policies; False when a list was refused."""
    complete = True
    is_role = info.kind != "user"
    st, out = r1["inline"]
    if st == "ok":
        for name in out.get("PolicyNames", []):
            if is_role:
                f = pool.submit(g.call, f"inline policy {name}", "iam", "get_role_policy",
                                RoleName=info.name, PolicyName=name)  # fmt: skip
            else:
                f = pool.submit(g.call, f"inline policy {name}", "iam", "get_user_policy",
                                UserName=info.name, PolicyName=name)  # fmt: skip
            jobs.append((f"inline:{name}", f))
    else:
        complete = False
    st, out = r1["attached"]
    if st == "ok":
        for p in out.get("AttachedPolicies", []):
            jobs.append((f"managed:{p['PolicyName']}", pool.submit(managed_policy, g, p["PolicyArn"])))
    else:
        complete = False
    if not is_role:
        st, out = r1["groups"]
        if st == "ok":
            for grp in out.get("Groups", []):
                jobs.append((f"group:{grp['GroupName']}", pool.submit(group_policies, g, grp["GroupName"])))
        else:
            complete = False
    return complete


def _identity_docs(kind: str, name: str, res: Any, owner_label: str) -> list[PolicyDoc] | None:
    """The identity documents one round-2 read returned; None when it could not be read."""
    if kind == "inline":
        st, out = res
        if st != "ok":
            return None
        raw = out.get("SagewizRawPolicyDocument")
        text = raw if isinstance(raw, str) else doc_text(out["PolicyDocument"])
        named, problem = named_policy(name, text, IDENTITY, f"inline policy {name} of {owner_label}")
        return [PolicyDoc(name, "inline", text, named, owner=owner_label, problem=problem)]
    if res is None:
        return None
    if kind == "managed":
        arn, text = res
        named, problem = named_policy(
            name, text, IDENTITY, f"managed policy {name} attached to {owner_label}", arn
        )
        return [PolicyDoc(name, "managed", text, named, arn, owner_label, problem)]
    out_docs = []
    for pname, pkind, text, arn in res:
        named, problem = named_policy(pname, text, IDENTITY, f"{pkind} policy {pname} of group {name}", arn)
        out_docs.append(PolicyDoc(pname, f"group-{pkind}", text, named, arn, f"group {name}", problem))
    return out_docs


def _key_policy(res: tuple[str | None, bool, str | None], ev: dict[str, Any]) -> None:
    text, aws_managed, key_arn = res
    ev["kms_key_aws_managed"] = aws_managed
    ev["kms_key"] = key_arn or ev.get("kms_key")
    if text is not None:
        named, problem = named_policy("key policy", text, "KMS key policy", f"key policy of {key_arn}")
        ev["kms_key_policy"] = PolicyDoc("key policy", "key", text, named, key_arn, "KMS key", problem)


__all__ = ["Evidence", "PolicyDoc", "Read", "gather"]
