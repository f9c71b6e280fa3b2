"""Fixes as plain data: each is a `PolicyChange` (what, where, old text, new text, why, diff).

Reused by the permissions doctor. Every builder here is pure (no AWS calls): give it the current
document text and it returns the change. Every generated document is validated (JSON, IAM grammar,
S3's rules, the `parliament` linter when installed) and a bucket policy Block Public Access would
reject as public is never proposed.

- `change`: `PolicyTarget`, `PolicyChange`, and how a document is parsed, printed and diffed.
- `safety`: the checks every fix passes; the minimal-change check (`verified`) refuses a fix that
  changes more than the decision asked for (`UnsafeFix`).
- `shapes`: ARNs, principals and Resource shapes shared by the builders.
- `bucket_policy`: `bucket_policy_change`, `bucket_statement_grant_change`.
- `role_policy`: `role_policy_change` (least privilege), `narrow_grant_change` (over-broad grants).
- `deny_exceptions`: `narrow_deny_change`: an exception for the role in a Deny (never delete a Deny).
- `flow_grants`: what a grant from a refused request may name (only the wizard's own flow).
- `public_access`: `public_access_change`: Block Public Access on (or, when asked, off).
"""
