"""S3 URIs (`s3://bucket/prefix/`): parsed and checked before any AWS call.

Bucket names are checked with the general-purpose naming rules (services.buckets), keys with
S3's own limits (at most 1,024 bytes of UTF-8). Console links are built here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from services.errors import ValidationError

MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str = ""  # a prefix ends with "/"; "" is the whole bucket

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri

    @property
    def prefix(self) -> str:
        """The key as a folder prefix (always empty or ending in '/')."""
        if not self.key or self.key.endswith("/"):
            return self.key
        return self.key + "/"

    def as_prefix(self) -> S3Uri:
        return S3Uri(self.bucket, self.prefix)

    def join(self, relative: str) -> S3Uri:
        return S3Uri(self.bucket, self.prefix + relative)

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.key}" if self.key else f"arn:aws:s3:::{self.bucket}"


def is_s3_uri(text: str) -> bool:
    return text.strip().lower().startswith("s3://")


def parse_s3_uri(text: str, field: str = "S3 URI", *, check_bucket_rules: bool = True) -> S3Uri:
    """Parse `s3://bucket[/key]`; raise ValidationError saying exactly what is wrong."""
    raw = text.strip()
    example = "s3://my-sagemaker-bucket/ground-truth-demo/images/"
    if not raw:
        raise ValidationError(field, "It is empty.", f"Enter an S3 URI such as {example}")
    if not raw.lower().startswith("s3://"):
        if raw.lower().startswith(("http://", "https://")):
            raise ValidationError(
                field,
                f"'{raw}' is a web address, not an S3 URI.",
                f"Use the s3:// form, e.g. {example}",
            )
        if raw.startswith("arn:"):
            raise ValidationError(
                field, f"'{raw}' is an ARN, not an S3 URI.", f"Use the s3:// form, e.g. {example}"
            )
        raise ValidationError(field, f"'{raw}' does not start with s3://.", f"Use the form {example}")
    if not raw.startswith("s3://"):
        raise ValidationError(field, f"The scheme in '{raw}' must be lower-case s3://.", f"e.g. {example}")
    rest = raw[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValidationError(field, f"'{raw}' has no bucket name after s3://.", f"e.g. {example}")
    if check_bucket_rules:
        from services.buckets.naming import naming_problem

        problem = naming_problem(bucket)
        if problem:
            raise ValidationError(
                field, f"The bucket name '{bucket}' is not valid: {problem.message}", problem.hint
            )
    if "//" in key or key.startswith("/"):
        raise ValidationError(
            field,
            f"'{raw}' has an empty path segment ('//').",
            "Remove the doubled slash; S3 would create a folder with no name.",
        )
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValidationError(
            field, "The key is longer than S3's limit of 1,024 bytes.", "Use a shorter prefix."
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise ValidationError(field, "The key contains control characters.", "Remove them from the prefix.")
    return S3Uri(bucket, key)


def console_url(uri: S3Uri, region: str) -> str:
    """The S3 console page of a bucket or prefix."""
    base = f"https://{region}.console.aws.amazon.com/s3/buckets/{quote(uri.bucket)}?region={region}"
    if uri.prefix:
        base += f"&prefix={quote(uri.prefix)}&showversions=false"
    return base


def policy_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot scope an IAM policy to part of a bucket, or None when it can.

    A policy's Resource treats `*` and `?` as wildcards, so a prefix holding them grants more than
    it says; blanks and control characters are almost always a paste slip; keys never start with
    "/" in the S3 console's sense, and S3 allows at most 1,024 bytes."""
    if not prefix:
        return None
    if any(c in prefix for c in "*?"):
        return f"'{prefix}' holds '*' or '?', which a policy reads as wildcards: it would grant more than this prefix."
    if any(c.isspace() or not c.isprintable() for c in prefix):
        return f"'{prefix}' holds a blank or a control character; write the prefix as S3 shows it, e.g. ground-truth-demo/."
    if prefix.startswith("/"):
        return f"'{prefix}' starts with '/'; S3 prefixes do not (e.g. ground-truth-demo/)."
    if len(prefix.encode("utf-8")) > MAX_KEY_BYTES:
        return f"The prefix is longer than S3's {MAX_KEY_BYTES} bytes."
    return None
