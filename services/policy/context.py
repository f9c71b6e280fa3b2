"""The request context: what AWS knows about a request when it evaluates policies.

The doctor rarely sees the real request, so the context is built from what is known and every
value it has to assume is written down in `assumptions` (shown to the user with the verdict).
Condition-key names are case-insensitive: they are stored lower-cased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.policy.arns import parse_principal, parse_s3_arn


@dataclass(frozen=True)
class RequestContext:
    action: str  # e.g. "s3:PutObject"
    resource: str  # e.g. "arn:aws:s3:::bucket/key"
    principal_arn: str  # the caller as AWS sees it (session ARN for a role), "*" for anonymous
    principal_account: str | None = None
    role_arn: str | None = None  # for a role session: the role's ARN with its path
    principal_type: str = "Unknown"  # AssumedRole | User | Account | FederatedUser | Anonymous
    resource_account: str | None = None  # the account owning the resource (bucket owner)
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lower-cased key -> values
    assumptions: tuple[str, ...] = ()

    def value(self, key: str) -> tuple[str, ...] | None:
        return self.keys.get(key.lower())

    def lookup(self, name: str) -> str | None:
        """A single value for a policy variable; None when absent or multi-valued."""
        vals = self.keys.get(name.lower())
        return vals[0] if vals and len(vals) == 1 else None

    @property
    def same_account(self) -> bool:
        return self.resource_account is None or self.resource_account == self.principal_account

    @classmethod
    def build(
        cls,
        action: str,
        resource: str,
        principal_arn: str,
        *,
        role_arn: str | None = None,
        resource_account: str | None = None,
        region: str | None = None,
        secure_transport: bool | None = None,
        extra: dict[str, str | list[str] | tuple[str, ...]] | None = None,
        now: datetime | None = None,
    ) -> RequestContext:
        """Fill the global keys AWS always sets, and record what had to be assumed."""
        assumptions: list[str] = []
        keys: dict[str, tuple[str, ...]] = {}
        info = parse_principal(principal_arn)
        ptype, account = "Unknown", None
        if principal_arn == "*":
            ptype = "Anonymous"
        elif info is not None:
            account = info.account
            ptype = {
                "assumed-role": "AssumedRole",
                "role": "AssumedRole",
                "user": "User",
                "root": "Account",
                "federated-user": "FederatedUser",
            }.get(info.kind, "Unknown")
            if info.kind == "role" and role_arn is None:
                # Roles never call AWS themselves; a session of this role does.
                role_arn = principal_arn
                assumptions.append(f"the caller is a session of the role {principal_arn}")
            if info.kind == "user":
                keys["aws:username"] = (info.name,)
        if account:
            keys["aws:principalaccount"] = (account,)
        if principal_arn != "*":
            keys["aws:principalarn"] = (role_arn or principal_arn,)
        keys["aws:principaltype"] = (ptype,)
        keys["aws:principalisawsservice"] = ("false",)
        if secure_transport is None:
            secure_transport = True
            assumptions.append("the request is sent over HTTPS (aws:SecureTransport = true; boto3's default)")
        keys["aws:securetransport"] = ("true" if secure_transport else "false",)
        if region:
            keys["aws:requestedregion"] = (region,)
        moment = now or datetime.now(UTC)
        keys["aws:currenttime"] = (moment.strftime("%Y-%m-%dT%H:%M:%SZ"),)
        keys["aws:epochtime"] = (str(int(moment.timestamp())),)
        res = parse_s3_arn(resource)
        if res is not None and resource_account:
            keys["s3:resourceaccount"] = (resource_account,)
        if resource_account is None:
            assumptions.append("the bucket belongs to the caller's account (owner not confirmed)")
        extra = dict(extra or {})
        for k, v in extra.items():
            keys[k.lower()] = (v,) if isinstance(v, str) else tuple(v)
        if not any(k in keys for k in ("aws:sourcevpce", "aws:sourcevpc")):
            assumptions.append("the request does not come through a VPC endpoint (no aws:SourceVpce)")
        if "aws:sourceip" not in keys:
            assumptions.append("the caller's IP address is unknown (aws:SourceIp absent)")
        return cls(
            action=action,
            resource=resource,
            principal_arn=principal_arn,
            principal_account=account,
            role_arn=role_arn,
            principal_type=ptype,
            resource_account=resource_account,
            keys=keys,
            assumptions=tuple(assumptions),
        )
