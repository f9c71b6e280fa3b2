"""One verdict on one request, shared by the doctor and the Permissions step so they never
disagree: allowed, refused by an explicit Deny, refused for want of an Allow, or refused by
another layer; and for a missing Allow, which grants would fix it.

Within one account either grant is enough (the identity policy, or a bucket policy naming the
principal); across accounts both are needed. So a same-account missing Allow is ONE cause with
two alternative fixes, not two causes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from services.policy.evaluate import IDENTITY, RESOURCE, Decision


class Refusal(Enum):
    NONE = "allowed"
    EXPLICIT_DENY = "explicit-deny"
    MISSING_ALLOW = "missing-allow"
    OTHER_LAYER = "other-layer"  # a boundary, session policy, SCP/RCP or VPC endpoint policy


class Grant(Enum):
    IDENTITY = "identity policy"
    BUCKET = "bucket policy"


# Why the identity grant is preferred when either would do.
IDENTITY_RECOMMENDED = "it stays with the role and does not widen the bucket policy to others"


@dataclass(frozen=True)
class RequestVerdict:
    refusal: Refusal
    same_account: bool
    # A missing Allow: the grants that would fix it. `either` means any one is enough (same
    # account); otherwise every one listed is needed (cross account).
    grants: tuple[Grant, ...] = ()
    either: bool = False

    @property
    def allowed(self) -> bool:
        return self.refusal is Refusal.NONE

    @property
    def causes(self) -> int:
        """How many blocking causes: alternatives count once; grants all needed count each."""
        if self.allowed:
            return 0
        if self.refusal is Refusal.MISSING_ALLOW and not self.either:
            return max(1, len(self.grants))
        return 1


def judge(d: Decision, *, bucket_side: bool = True) -> RequestVerdict:
    """The verdict on an evaluated request. `bucket_side`: a bucket policy could grant it (an S3
    request on an existing bucket)."""
    same = d.context.same_account if d.context is not None else True
    if d.allowed:
        return RequestVerdict(Refusal.NONE, same)
    if d.kind == "explicit-deny":
        return RequestVerdict(Refusal.EXPLICIT_DENY, same)
    if d.denied_by not in (IDENTITY, RESOURCE):
        return RequestVerdict(Refusal.OTHER_LAYER, same)
    if same:
        grants = (Grant.IDENTITY, Grant.BUCKET) if bucket_side else (Grant.IDENTITY,)
        return RequestVerdict(Refusal.MISSING_ALLOW, same, grants, either=len(grants) > 1)
    identity_ok = any(r.decision == "allow" for r in d.result(IDENTITY))
    resource_ok = any(r.decision == "allow" for r in d.result(RESOURCE))
    needed = tuple(g for g, ok in ((Grant.IDENTITY, identity_ok), (Grant.BUCKET, resource_ok)) if not ok)
    return RequestVerdict(Refusal.MISSING_ALLOW, same, needed or (Grant.BUCKET,))
