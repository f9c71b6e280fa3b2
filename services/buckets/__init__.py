"""The SageMaker default bucket: its expected name, the S3 naming rules, whether it exists and is
ours (the squatting guard), what it looks like, and the plan to create it correctly.

- `naming`: the S3 naming rules, the expected name, `validate_bucket_name`.
- `ownership`: `check_bucket`: missing, ours, or someone else's (HeadBucket, then ListBuckets).
- `facts`: `read_facts`: region, encryption, versioning, public access and the rest, for display.
- `creation`: `create_plan` and `create_bucket`.
"""
