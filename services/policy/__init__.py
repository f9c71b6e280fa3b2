"""Our own IAM policy evaluator for S3 requests (no maintained, permissively licensed Python one exists).

- `document`: parse and normalise policy JSON (tolerant of AWS's string-or-list shapes).
- `wildcards`: IAM `*` / `?` matching (actions case-insensitive, ARNs case-sensitive), policy variables.
- `conditions`: the condition operators, IfExists, ForAnyValue / ForAllValues, Null.
- `context`: the request context, which states the assumptions it makes (HTTPS, region, principal).
- `evaluate`: statement and policy evaluation with a statement-level trace, and AWS's decision
  logic for same- and cross-account requests (SCP/RCP, resource, identity, boundary, session).
- `s3`: the S3 layers around it (Block Public Access, ownership and ACLs, SSE-KMS, requester pays).
"""

from services.policy.context import RequestContext
from services.policy.document import Policy, PolicyError, Statement, parse_policy
from services.policy.evaluate import (
    Decision,
    NamedPolicy,
    PolicyResult,
    PolicySet,
    StatementTrace,
    evaluate_policy,
    evaluate_request,
)

__all__ = [
    "Decision",
    "NamedPolicy",
    "Policy",
    "PolicyError",
    "PolicyResult",
    "PolicySet",
    "RequestContext",
    "Statement",
    "StatementTrace",
    "evaluate_policy",
    "evaluate_request",
    "parse_policy",
]
