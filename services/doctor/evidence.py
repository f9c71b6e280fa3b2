"""Read-only evidence for a diagnosis, gathered in parallel.

Two rounds of concurrent calls: (1) the principal (role or user), its policy lists, and every
bucket-level setting; (2) the policy documents those lists name, the permissions boundary and the
KMS key policy. A read that fails is recorded as a `Read` (denied, absent, error) and the
diagnosis goes on with what is known. Nothing here changes anything in AWS.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from services.policy import NamedPolicy, PolicyError, parse_policy
from services.policy.arns import PrincipalInfo, parse_principal
from services.policy.evaluate import BOUNDARY, IDENTITY, RESOURCE
from services.policy.s3 import BlockPublicAccess

_ABSENT = {
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchEntity",
    "NoSuchKey",
    "404",
    "NotFound",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "403", "Forbidden", "UnauthorizedOperation"}
_WORKERS = 12


@dataclass(frozen=True)
class Read:
    """One evidence read: what, which call, and how it went."""

    what: str
    call: str  # e.g. "s3:GetBucketPolicy"
    status: str  # "ok" | "absent" | "denied" | "error" | "skipped"
    detail: str = ""


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


def _code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(
            resp.get("Error", {}).get("Code") or resp.get("ResponseMetadata", {}).get("HTTPStatusCode") or ""
        )
    return type(exc).__name__


class _Gatherer:
    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.reads: list[Read] = []
        self.calls = 0
        self._lock = threading.Lock()

    def call(self, what: str, service: str, op: str, **params: Any) -> tuple[str, Any]:
        """Run one read. Returns (status, response or error code)."""
        pretty = f"{service}:{''.join(p.capitalize() for p in op.split('_'))}"
        with self._lock:
            self.calls += 1
        try:
            client = self.factory.client(service)
            out = getattr(client, op)(**params)
        except Exception as exc:
            code = _code(exc)
            if code in _ABSENT:
                status, detail = "absent", code
            elif code in _DENIED or "AccessDenied" in str(exc)[:400]:
                status, detail = "denied", f"{code}: the caller may not read this"
            else:
                status, detail = "error", f"{code or type(exc).__name__}: {str(exc)[:160]}"
            with self._lock:
                self.reads.append(Read(what, pretty, status, detail))
            return status, code
        with self._lock:
            self.reads.append(Read(what, pretty, "ok"))
        return "ok", out

    def skip(self, what: str, call: str, why: str) -> None:
        with self._lock:
            self.reads.append(Read(what, call, "skipped", why))


def _doc_text(value: Any) -> str:
    if isinstance(value, str):
        return unquote(value)
    return json.dumps(value)


def _named(
    name: str, text: str, kind: str, source: str, arn: str | None = None
) -> tuple[NamedPolicy | None, str | None]:
    try:
        return NamedPolicy(name, parse_policy(text), kind, source, arn), None
    except PolicyError as exc:
        return None, exc.message


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
    g = _Gatherer(factory)
    _keep_raw_role_policies(factory)
    info = parse_principal(principal_arn or "") if principal_arn else None
    ev: dict[str, Any] = {"principal": info, "bucket": bucket}
    obj_read = bool(key) and (action or "").lower() in {"s3:getobject"}

    # -- round 1 ------------------------------------------------------------------------------
    jobs: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        if info and info.kind in ("role", "assumed-role"):
            rn = info.name
            jobs["role"] = pool.submit(g.call, "role", "iam", "get_role", RoleName=rn)
            jobs["inline"] = pool.submit(
                g.call, "role inline policies", "iam", "list_role_policies", RoleName=rn
            )
            jobs["attached"] = pool.submit(
                g.call, "role attached policies", "iam", "list_attached_role_policies", RoleName=rn
            )
        elif info and info.kind == "user":
            un = info.name
            jobs["user"] = pool.submit(g.call, "user", "iam", "get_user", UserName=un)
            jobs["inline"] = pool.submit(
                g.call, "user inline policies", "iam", "list_user_policies", UserName=un
            )
            jobs["attached"] = pool.submit(
                g.call, "user attached policies", "iam", "list_attached_user_policies", UserName=un
            )
            jobs["groups"] = pool.submit(g.call, "user groups", "iam", "list_groups_for_user", UserName=un)
        if bucket:
            owner = (info.account if info else None) or caller_account
            params: dict[str, Any] = {"Bucket": bucket}
            if owner:
                params["ExpectedBucketOwner"] = owner
            jobs["head"] = pool.submit(g.call, "bucket owner", "s3", "head_bucket", **params)
            jobs["policy"] = pool.submit(g.call, "bucket policy", "s3", "get_bucket_policy", Bucket=bucket)
            jobs["bpa"] = pool.submit(
                g.call, "bucket Block Public Access", "s3", "get_public_access_block", Bucket=bucket
            )
            if owner:
                jobs["bpa_account"] = pool.submit(
                    g.call,
                    "account Block Public Access",
                    "s3control",
                    "get_public_access_block",
                    AccountId=owner,
                )
            jobs["ownership"] = pool.submit(
                g.call, "Object Ownership", "s3", "get_bucket_ownership_controls", Bucket=bucket
            )
            jobs["encryption"] = pool.submit(
                g.call, "default encryption", "s3", "get_bucket_encryption", Bucket=bucket
            )
            jobs["payer"] = pool.submit(
                g.call, "Requester Pays", "s3", "get_bucket_request_payment", Bucket=bucket
            )
            if obj_read:
                jobs["object"] = pool.submit(g.call, "object", "s3", "head_object", Bucket=bucket, Key=key)
        if notebook_name:
            jobs["notebook"] = pool.submit(
                g.call,
                "notebook network",
                "sagemaker",
                "describe_notebook_instance",
                NotebookInstanceName=notebook_name,
            )
        r1 = {k: f.result() for k, f in jobs.items()}

    # principal details
    role_arn = None
    role_id = None
    path_known = False
    boundary_arn = None
    if info and info.kind in ("role", "assumed-role"):
        st, out = r1["role"]
        if st == "ok":
            role = out["Role"]
            role_arn, role_id, path_known = role["Arn"], role.get("RoleId"), True
            boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        else:
            role_arn = info.role_arn_guess
            if info.kind == "assumed-role" and "AmazonSageMaker-ExecutionRole" in info.name:
                role_arn = f"arn:{info.partition}:iam::{info.account}:role/service-role/{info.name}"
            if info.kind == "role":
                role_arn, path_known = info.arn, True
    elif info and info.kind == "user":
        st, out = r1["user"]
        if st == "ok":
            boundary_arn = (out["User"].get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")

    # bucket facts
    if bucket:
        head_st = r1["head"][0]
        if head_st == "ok":
            ev["bucket_exists"] = True
            ev["bucket_owner"] = expected = (info.account if info else None) or caller_account
            ev["bucket_owned_by_other"] = False if expected else None
        elif head_st == "absent":
            ev["bucket_exists"] = False
        st, out = r1["policy"]
        if st == "ok":
            text = out["Policy"]
            ev["bucket_policy_text"] = text
            named, problem = _named(
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
        st, out = r1["bpa"]
        if st == "ok":
            ev["bpa_bucket"] = BlockPublicAccess.from_config(out.get("PublicAccessBlockConfiguration"))
        elif st == "absent":
            ev["bpa_bucket"] = BlockPublicAccess()
        if "bpa_account" in r1:
            st, out = r1["bpa_account"]
            if st == "ok":
                ev["bpa_account"] = BlockPublicAccess.from_config(out.get("PublicAccessBlockConfiguration"))
            elif st == "absent":
                ev["bpa_account"] = BlockPublicAccess()
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
        if "object" in r1:
            st, out = r1["object"]
            if st == "ok":
                ev["object_exists"] = True
                if out.get("ServerSideEncryption", "").startswith("aws:kms"):
                    ev["encryption"] = out["ServerSideEncryption"]
                    ev["kms_key"] = out.get("SSEKMSKeyId") or ev.get("kms_key")
            elif st == "absent":
                ev["object_exists"] = False
    if "notebook" in r1 and r1["notebook"][0] == "ok":
        nb = r1["notebook"][1]
        ev["notebook"] = {
            k: nb.get(k) for k in ("NotebookInstanceName", "DirectInternetAccess", "SubnetId", "RoleArn")
        }

    # -- round 2: documents ---------------------------------------------------------------------
    docs: list[PolicyDoc] = []
    incomplete = False
    owner_label = ""
    jobs2: list[tuple[str, Any]] = []
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        if info and info.kind in ("role", "assumed-role", "user"):
            is_role = info.kind != "user"
            owner_label = f"{'role' if is_role else 'user'} {info.name}"
            st, out = r1["inline"]
            if st == "ok":
                for name in out.get("PolicyNames", []):
                    if is_role:
                        f = pool.submit(
                            g.call,
                            f"inline policy {name}",
                            "iam",
                            "get_role_policy",
                            RoleName=info.name,
                            PolicyName=name,
                        )
                    else:
                        f = pool.submit(
                            g.call,
                            f"inline policy {name}",
                            "iam",
                            "get_user_policy",
                            UserName=info.name,
                            PolicyName=name,
                        )
                    jobs2.append((f"inline:{name}", f))
            else:
                incomplete = True
            st, out = r1["attached"]
            if st == "ok":
                for p in out.get("AttachedPolicies", []):
                    jobs2.append((f"managed:{p['PolicyName']}", pool.submit(_managed, g, p["PolicyArn"])))
            else:
                incomplete = True
            if not is_role:
                st, out = r1["groups"]
                if st == "ok":
                    for grp in out.get("Groups", []):
                        jobs2.append(
                            (f"group:{grp['GroupName']}", pool.submit(_group_docs, g, grp["GroupName"]))
                        )
                else:
                    incomplete = True
        if boundary_arn:
            jobs2.append(("boundary", pool.submit(_managed, g, boundary_arn)))
        if (
            bucket
            and obj_read
            and ev.get("object_exists")
            and ev.get("object_ownership") != "BucketOwnerEnforced"
        ):
            jobs2.append(("object-owner", pool.submit(_object_owner, g, bucket, key)))
        kms_key = ev.get("kms_key")
        if kms_key and ev.get("encryption", "").startswith("aws:kms"):
            jobs2.append(("key", pool.submit(_key, g, kms_key)))
        results2 = [(k, f.result()) for k, f in jobs2]

    boundary_doc = None
    for k, res in results2:
        if k.startswith("inline:"):
            name = k.split(":", 1)[1]
            st, out = res
            if st == "ok":
                raw = out.get("SagewizRawPolicyDocument")
                text = raw if isinstance(raw, str) else _doc_text(out["PolicyDocument"])
                named, problem = _named(name, text, IDENTITY, f"inline policy {name} of {owner_label}")
                docs.append(PolicyDoc(name, "inline", text, named, owner=owner_label, problem=problem))
            else:
                incomplete = True
        elif k.startswith("managed:"):
            name = k.split(":", 1)[1]
            if res is None:
                incomplete = True
                continue
            arn, text = res
            named, problem = _named(
                name, text, IDENTITY, f"managed policy {name} attached to {owner_label}", arn
            )
            docs.append(PolicyDoc(name, "managed", text, named, arn, owner_label, problem))
        elif k.startswith("group:"):
            gname = k.split(":", 1)[1]
            if res is None:
                incomplete = True
                continue
            for pname, kind, text, arn in res:
                named, problem = _named(pname, text, IDENTITY, f"{kind} policy {pname} of group {gname}", arn)
                docs.append(PolicyDoc(pname, f"group-{kind}", text, named, arn, f"group {gname}", problem))
        elif k == "boundary":
            if res is None:
                continue
            arn, text = res
            named, problem = _named(
                arn.rsplit("/", 1)[-1], text, BOUNDARY, f"permissions boundary {arn}", arn
            )
            boundary_doc = PolicyDoc(
                arn.rsplit("/", 1)[-1], "boundary", text, named, arn, owner_label, problem
            )
        elif k == "object-owner":
            if res is not None:
                ev["object_owner_differs"], ev["object_acl_grants_owner"] = res
        elif k == "key":
            if res is None:
                continue
            text, aws_managed, key_arn = res
            ev["kms_key_aws_managed"] = aws_managed
            ev["kms_key"] = key_arn or ev.get("kms_key")
            if text is not None:
                named, problem = _named("key policy", text, "KMS key policy", f"key policy of {key_arn}")
                ev["kms_key_policy"] = PolicyDoc(
                    "key policy", "key", text, named, key_arn, "KMS key", problem
                )

    return Evidence(
        **ev,
        role_arn=role_arn,
        role_id=role_id,
        role_path_known=path_known,
        identity_policies=tuple(docs),
        boundary=boundary_doc,
        boundary_arn=boundary_arn,
        reads=tuple(g.reads),
        calls=g.calls,
        identity_complete=not incomplete,
    )


def _keep_raw_role_policies(factory: Any) -> None:
    """Keep inline role policies' exact text (the Permissions step's hook): the fix machinery
    compares it byte for byte to refuse concurrent changes."""
    try:
        from services.permissions.apply import _capture_raw

        _capture_raw(factory.client("iam"))
    except Exception:  # without it the parsed document is used; apply then re-reads and re-plans
        pass


def _managed(g: _Gatherer, arn: str) -> tuple[str, str] | None:
    name = arn.rsplit("/", 1)[-1]
    st, out = g.call(f"managed policy {name}", "iam", "get_policy", PolicyArn=arn)
    if st != "ok":
        return None
    version = out["Policy"].get("DefaultVersionId", "v1")
    st, out = g.call(
        f"managed policy {name} {version}", "iam", "get_policy_version", PolicyArn=arn, VersionId=version
    )
    if st != "ok":
        return None
    return arn, _doc_text(out["PolicyVersion"]["Document"])


def _group_docs(g: _Gatherer, group: str) -> list[tuple[str, str, str, str | None]] | None:
    out_docs: list[tuple[str, str, str, str | None]] = []
    st, out = g.call(f"group {group} inline policies", "iam", "list_group_policies", GroupName=group)
    if st != "ok":
        return None
    for name in out.get("PolicyNames", []):
        st2, o2 = g.call(
            f"group inline policy {name}", "iam", "get_group_policy", GroupName=group, PolicyName=name
        )
        if st2 == "ok":
            out_docs.append((name, "inline", _doc_text(o2["PolicyDocument"]), None))
    st, out = g.call(
        f"group {group} attached policies", "iam", "list_attached_group_policies", GroupName=group
    )
    if st == "ok":
        for p in out.get("AttachedPolicies", []):
            res = _managed(g, p["PolicyArn"])
            if res:
                out_docs.append((p["PolicyName"], "managed", res[1], res[0]))
    return out_docs


def _object_owner(g: _Gatherer, bucket: str, key: str | None) -> tuple[bool, bool] | None:
    """Does another account own the object (canonical ids of object vs bucket owner)?"""
    st, obj = g.call("object ACL", "s3", "get_object_acl", Bucket=bucket, Key=key)
    st2, bkt = g.call("bucket ACL", "s3", "get_bucket_acl", Bucket=bucket)
    if st != "ok" or st2 != "ok":
        return None
    owner = bkt.get("Owner", {}).get("ID")
    differs = obj.get("Owner", {}).get("ID") != owner
    grants = any(
        gr.get("Grantee", {}).get("ID") == owner and gr.get("Permission") in ("READ", "FULL_CONTROL")
        for gr in obj.get("Grants", [])
    )
    return differs, grants


def _key(g: _Gatherer, key: str) -> tuple[str | None, bool, str | None] | None:
    st, out = g.call("KMS key", "kms", "describe_key", KeyId=key)
    aws_managed = False
    key_arn = None
    if st == "ok":
        meta = out["KeyMetadata"]
        aws_managed = meta.get("KeyManager") == "AWS"
        key_arn = meta.get("Arn")
    st, out = g.call("KMS key policy", "kms", "get_key_policy", KeyId=key_arn or key, PolicyName="default")
    text = out["Policy"] if st == "ok" else None
    return text, aws_managed, key_arn


__all__ = ["Evidence", "PolicyDoc", "Read", "gather"]
