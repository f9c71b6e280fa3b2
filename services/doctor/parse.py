"""Read an access-denied error text in any documented form.

Forms understood (aws-facts.md §2): the enhanced S3 messages with reason and policy type, with
or without `on resource:` and with the denying policy's ARN; IAM/KMS/SageMaker
AccessDeniedException texts; bare `Access Denied`; HEAD requests' `403 Forbidden`; the SageMaker
SDK's "Bucket X exists, but access is forbidden" and "is not accessible as the default bucket";
SageMaker job failure reasons wrapping an S3 403; invalid or expired credentials; moto's XML
bodies. Anything else yields what was understood and what is missing; parsing never raises.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from services.doctor.error_window import last_error_text
from services.policy.arns import parse_principal, parse_s3_arn
from services.policy.s3 import action_for_operation
from services.regions import partition_ids

MAX_TEXT = 20_000

CREDENTIAL_CODES = {
    "InvalidAccessKeyId": "the access key ID does not exist",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "ExpiredToken": "the session token has expired",
    "ExpiredTokenException": "the session token has expired",
    "InvalidToken": "the session token is malformed or invalid",
    "InvalidClientTokenId": "the security token (access key) is not valid",
    "UnrecognizedClientException": "the security token is not valid",
    "TokenRefreshRequired": "the credentials need refreshing",
    "RequestExpired": "the request signature has expired (clock skew?)",
}

# How messages name policy types -> our normalised names.
POLICY_TYPES = {
    "identity-based": "identity-based",
    "identity based": "identity-based",
    "resource-based": "resource-based",
    "resource based": "resource-based",
    "service control": "service control",
    "resource control": "resource control",
    "vpc endpoint": "VPC endpoint",
    "permissions boundary": "permissions boundary",
    "permission boundary": "permissions boundary",
    "session": "session",
    "sessions": "session",
    "role trust": "role trust",
}


@dataclass(frozen=True)
class ParsedError:
    text: str
    form: str  # see FORMS
    code: str | None = None
    operation: str | None = None
    principal: str | None = None
    action: str | None = None
    resource: str | None = None
    reason: str | None = None  # the context phrase, verbatim
    policy_type: str | None = None  # normalised, see POLICY_TYPES values; or bpa-acls, bpa-policy, sse-c
    explicit: bool | None = None  # True explicit deny, False implicit, None unknown
    policy_arn: str | None = None
    via: str | None = None  # "transitively through a service control policy"
    bucket: str | None = None
    key: str | None = None
    service: str | None = None  # "s3", "iam", "kms", "sagemaker", ...
    understood: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # e.g. a principal in another partition

    @property
    def is_access_denied(self) -> bool:
        return self.form in {
            "enhanced",
            "generic",
            "head-forbidden",
            "sdk-bucket",
            "sagemaker-job",
            "other-service",
            "console-list",
        }  # not "no-objects" nor "role-assume": an empty prefix or a trust policy is no 403

    @property
    def is_credentials(self) -> bool:
        return self.form == "credentials"


FORMS = (
    "enhanced",  # User: ... is not authorized to perform: ... (S3)
    "other-service",  # the same shape for IAM, KMS, SageMaker, STS, ...
    "generic",  # Access Denied without context
    "head-forbidden",  # (403) ... HeadObject/HeadBucket: Forbidden
    "sdk-bucket",  # SageMaker SDK default-bucket messages
    "sagemaker-job",  # training job FailureReason wrapping a 403
    "console-list",  # the S3 console's "Insufficient permissions to list objects" banner
    "role-assume",  # a job's FailureReason: SageMaker was unable to assume the role
    "no-objects",  # a job's FailureReason: No S3 objects found under S3 URL (empty, or no ListBucket)
    "credentials",  # invalid / expired credentials
    "not-access-denied",  # an AWS error of another kind
    "empty",
    "unrecognised",
)

_PREFIX = re.compile(
    r"An error occurred \((?P<code>[^)]+)\) when calling the (?P<op>\w+) operation(?: \(reached max retries: \d+\))?:\s*(?P<msg>.*)",
    re.S,
)
_USER = re.compile(
    r"User:?\s+(?P<principal>\S+?)\s+is\s+not\s+authorized\s+to\s+perform:?\s+(?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)"
    r"(?:\s+on\s+resource:?\s+\"?(?P<resource>[^\"\s]+?)\"?(?=\s|$))?"
    r"(?P<rest>.*)$",
    re.S,
)
_IMPLICIT = re.compile(
    r"because\s+no\s+(?P<type>.+?)\s+(?:policy\s+|policies\s+)?allows\s+the\s+(?P<action>\S+)\s+action", re.I
)
_EXPLICIT = re.compile(
    r"with\s+an\s+explicit\s+deny\s+in\s+(?:a|an|the)\s+(?P<type>.+?)(?:\s+policy)?"
    r"(?P<via>\s+transitively\s+through\s+a\s+service\s+control\s+policy)?"
    r"(?::\s*(?P<arn>arn:\S+?))?\s*\.?\s*$",
    re.I,
)
_SDK_BUCKET = re.compile(
    r"Bucket\s+(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])\s+(?:exists,\s+but\s+access\s+is\s+forbidden|is\s+not\s+accessible\s+as\s+the\s+default\s+bucket)",
    re.I,
)
# A key ends before the text's own punctuation: "… to s3://b/k: An error occurred" names `k`.
_S3_URI = re.compile(
    r"s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<key>[^\s()'\"]*?))?(?=[:;,]?(?:[\s()'\"]|$))"
)
_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_XML_MSG = re.compile(r"<Message>([^<]*)</Message>", re.S)
_ANY_ARN = re.compile(r"\barn:(?P<partition>[a-z0-9-]+):[a-z0-9-]+:[^\s\"']*")


def parse_error(text: str | None) -> ParsedError:
    """Understand an error text. Never raises; `form` says what kind of text it was."""
    try:
        return _parse(text or "")
    except Exception as exc:  # the promise is "never a crash": report, do not raise
        return ParsedError(
            text=(text or "")[:200],
            form="unrecognised",
            problems=(f"could not read the text ({type(exc).__name__})",),
        )


def _parse(raw: str) -> ParsedError:
    text = _last_error(
        _OLD_CLI.sub(r"An error occurred (\1) when calling the \2 operation:", last_error_text(raw, MAX_TEXT))
    )
    if "<Code>" in text:  # moto / JSON-protocol XML bodies: unwrap
        xml_code = _XML_CODE.search(text)
        xml_msg = _XML_MSG.search(text)
        prefix = _PREFIX.search(text)
        inner = html.unescape(xml_msg.group(1)) if xml_msg else ""
        if prefix:
            text = f"An error occurred ({xml_code.group(1) if xml_code else prefix.group('code')}) when calling the {prefix.group('op')} operation: {inner}"
        elif xml_code:
            text = f"{xml_code.group(1)}: {inner}"
    norm = " ".join(text.replace("\u00a0", " ").split())
    if not norm:
        return ParsedError(text="", form="empty", missing=("an error text, or principal, bucket and action",))
    understood: list[str] = []
    problems: list[str] = []
    code: str | None = None
    op: str | None = None
    msg = norm
    m = _PREFIX.search(norm)
    if m:
        code, op, msg = m.group("code"), m.group("op"), m.group("msg").strip()
        understood.append(f"error code {code} from the {op} operation")
    else:
        m2 = re.search(
            r"\b(AccessDenied(?:Exception)?|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken(?:Exception)?|InvalidClientTokenId|InvalidToken|UnrecognizedClientException)\b",
            norm,
        )
        if m2:
            code = m2.group(1)
    # partitions other than aws
    for am in _ANY_ARN.finditer(norm):
        part = am.group("partition")
        if part != "aws":
            problems.append(
                f"{am.group(0)} is in the {part} partition"
                + ("" if part in partition_ids() else " (not a known AWS partition)")
                + "; sagewiz diagnoses the standard aws partition only"
            )
            break

    if code in CREDENTIAL_CODES or re.search(
        r"security token included in the request is (?:invalid|expired)|The AWS Access Key Id you provided does not exist|request signature we calculated does not match",
        norm,
        re.I,
    ):
        what = CREDENTIAL_CODES.get(code or "", "the credentials were refused")
        return ParsedError(
            text=norm, form="credentials", code=code, operation=op, service=_service_of_op(op),
            understood=(*understood, f"a credentials problem: {what}"), problems=tuple(problems),
        )  # fmt: skip

    job = _job_reason(norm, code, op, understood, problems)
    if job is not None:
        return job
    sdk = _SDK_BUCKET.search(norm)
    user = _USER.search(msg)
    if user:
        return _enhanced(norm, code, op, user, understood, problems)
    if sdk:
        bucket = sdk.group("bucket")
        understood.append(f"the SageMaker SDK could not use bucket {bucket} (HeadBucket returned 403)")
        return ParsedError(
            text=norm, form="sdk-bucket", code=code or "403", operation=op or "HeadBucket", action="s3:ListBucket",
            bucket=bucket, service="s3", understood=tuple(understood),
            missing=("the principal (the SDK message does not name it)",), problems=tuple(problems),
        )  # fmt: skip
    if re.search(
        r"Data download failed|Unable to download|ClientError: .*\(AccessDenied", norm
    ) and _S3_URI.search(norm):
        uri = _S3_URI.search(norm)
        assert uri is not None
        understood.append(
            f"a SageMaker job could not read s3://{uri.group('bucket')}/{uri.group('key') or ''}"
        )
        return ParsedError(
            text=norm, form="sagemaker-job", code=code or "AccessDenied", operation=op or "GetObject",
            action="s3:GetObject", bucket=uri.group("bucket"), key=uri.group("key") or None, service="s3",
            understood=tuple(understood), missing=("the principal (the job's execution role)",), problems=tuple(problems),
        )  # fmt: skip
    if (
        (code == "403" or code is None)
        and re.fullmatch(r"(?:.*:\s*)?Forbidden\.?", msg, re.I)
        and (op or "403" in norm)
    ):
        action = action_for_operation(op) if op else None
        understood.append("a HEAD request refused with 403 and no reason (HEAD responses carry no body)")
        return ParsedError(
            text=norm, form="head-forbidden", code="403", operation=op, action=action, service="s3" if action else None,
            understood=tuple(understood), missing=_missing(None, action, None), problems=tuple(problems),
        )  # fmt: skip
    if code in ("AccessDenied", "AccessDeniedException", "403", "Forbidden") or re.fullmatch(
        r"Access Denied\.?", msg, re.I
    ):
        action = action_for_operation(op) if op else None
        uri = _S3_URI.search(norm)
        if re.search(r"\bUser:?\s", msg):
            problems.append("the message looks truncated: it names a user but not the action and the reason")
        understood.append(
            "a generic Access Denied without a reason (cross-account, VPC endpoint, or an older message form)"
        )
        return ParsedError(
            text=norm, form="generic", code=code or "AccessDenied", operation=op, action=action,
            service=_service_of_op(op) if op else None, bucket=uri.group("bucket") if uri else None,
            key=(uri.group("key") or None) if uri else None, understood=tuple(understood),
            missing=_missing(None, action, uri.group("bucket") if uri else None), problems=tuple(problems),
        )  # fmt: skip
    if code:
        understood.append(f"an AWS error ({code}) that is not an access denial")
        return ParsedError(
            text=norm,
            form="not-access-denied",
            code=code,
            operation=op,
            understood=tuple(understood),
            problems=tuple(problems),
        )
    return ParsedError(
        text=norm,
        form="unrecognised",
        understood=tuple(understood),
        missing=("a recognisable AWS error (e.g. 'An error occurred (AccessDenied) when calling ...')",),
        problems=tuple(problems),
    )


_ASSUME = re.compile(
    r"(?:unable to assume (?:the )?role|Could not assume role):?\s*'?\"?(?P<role>arn:[a-z0-9-]+:iam::\d{12}:role/[^\s'\"]+?)['\".]*(?=\s|$)",
    re.I,
)
_ASSUME_UNNAMED = re.compile(
    r"unable to perform:? sts:AssumeRole on the role|trust relationship for '?sagemaker\.amazonaws\.com", re.I
)
_NO_OBJECTS = re.compile(
    r"No S3 objects found under S3 URL \"?(?P<uri>s3://[^\"\s]+)\"?.*?"
    r"(?:the role \"?(?P<role>arn:[a-z0-9-]+:iam::\d{12}:role/[^\"\s]+)\"?)?",
    re.I,
)
_ROLE_IN = re.compile(r"the role \"?(?P<role>arn:[a-z0-9-]+:iam::\d{12}:role/[^\"\s]+?)\"?\s+has", re.I)
_CONSOLE_LIST = re.compile(
    r"Insufficient permissions to list objects|allow the s3:ListBucket action, refresh", re.I
)


def _job_reason(
    norm: str, code: str | None, op: str | None, understood: list[str], problems: list[str]
) -> ParsedError | None:
    """The FailureReasons SageMaker writes on jobs and notebooks, and the S3 console's banner."""
    if m := _ASSUME.search(norm):
        role = m.group("role")
        understood.append(f"SageMaker could not assume the execution role {role}")
        return ParsedError(
            text=norm, form="role-assume", code=code or "ClientError", operation=op, action="sts:AssumeRole",
            resource=role, service="sts", understood=tuple(understood), problems=tuple(problems),
        )  # fmt: skip
    if _ASSUME_UNNAMED.search(norm):
        understood.append("SageMaker could not assume the execution role (the text does not name it)")
        return ParsedError(
            text=norm, form="role-assume", code=code or "ClientError", operation=op, action="sts:AssumeRole",
            service="sts", understood=tuple(understood), problems=tuple(problems),
            missing=("the role (this text does not name it: give --principal ROLE_ARN)",),
        )  # fmt: skip
    if m := _NO_OBJECTS.search(norm):
        uri = _S3_URI.search(m.group("uri"))
        role_m = _ROLE_IN.search(norm)
        role = role_m.group("role") if role_m else None
        bucket = uri.group("bucket") if uri else None
        prefix = (uri.group("key") or "") if uri else ""
        understood.append(f"a job found no objects under {m.group('uri')} (empty, or no s3:ListBucket)")
        return ParsedError(
            text=norm, form="no-objects", code=code or "ClientError", operation=op or "ListObjectsV2",
            principal=role, action="s3:ListBucket", bucket=bucket, key=prefix, service="s3",
            understood=tuple(understood),
            missing=() if role else ("the principal (the job's execution role)",), problems=tuple(problems),
        )  # fmt: skip
    if _CONSOLE_LIST.search(norm):
        understood.append("the S3 console could not list the bucket's objects (s3:ListBucket refused)")
        uri = _S3_URI.search(norm)
        return ParsedError(
            text=norm, form="console-list", code="AccessDenied", operation="ListObjectsV2", action="s3:ListBucket",
            bucket=uri.group("bucket") if uri else None, service="s3", understood=tuple(understood),
            missing=("the principal (the console's signed-in identity)",), problems=tuple(problems),
        )  # fmt: skip
    return None


def _last_error(text: str) -> str:
    """From the last AWS error on: a traceback or a CLI log holds earlier ones (retries, the
    exception "during handling of" which another was raised) that did not decide the outcome.
    A CLI line's lead-in (`upload failed: ./x to s3://b/k`) names the object: it is kept."""
    starts = [m.start() for m in _PREFIX_START.finditer(text)]
    if len(starts) < 2:
        return text
    line_start = text.rfind("\n", 0, starts[-1]) + 1
    return text[line_start:]


# The CLI before 2016 ("A client error (AccessDenied) occurred when calling the PutObject operation")
_OLD_CLI = re.compile(r"A client error \(([^)]+)\) occurred when calling the (\w+) operation:?")
_PREFIX_START = re.compile(r"An error occurred \(")


def _enhanced(
    norm: str, code: str | None, op: str | None, m: re.Match[str], understood: list[str], problems: list[str]
) -> ParsedError:
    principal = m.group("principal").rstrip(",.")
    action = m.group("action")
    resource = m.group("resource")
    rest = (m.group("rest") or "").strip()
    service = action.split(":", 1)[0].lower()
    policy_type = explicit = policy_arn = via = None
    reason = rest or None
    im = _IMPLICIT.search(rest)
    em = _EXPLICIT.search(rest)
    if em:
        policy_type = _norm_type(em.group("type"))
        explicit = True
        policy_arn = em.group("arn")
        via = "transitively through a service control policy" if em.group("via") else None
    elif im:
        policy_type = _norm_type(im.group("type"))
        explicit = False
    elif re.search(r"BlockPublicAcls", rest):
        policy_type, explicit = "bpa-acls", True
    elif re.search(r"BlockPublicPolicy", rest):
        policy_type, explicit = "bpa-policy", True
    elif re.search(r"SSE-C|Customer provided keys", rest, re.I):
        policy_type, explicit = "sse-c", True
    understood.append(f"principal {principal}")
    understood.append(f"action {action}")
    if resource:
        understood.append(f"resource {resource}")
    if policy_type:
        understood.append(
            f"{'explicit deny in' if explicit else 'no allow in'} {policy_type}"
            + (f" policy {policy_arn}" if policy_arn else "")
            + (f" ({via})" if via else "")
        )
    bucket = key = None
    res = parse_s3_arn(resource) if resource else None
    if res:
        bucket, key = res.bucket, res.key
    info = parse_principal(principal)
    if info is None:
        problems.append(f"{principal} is not a principal ARN sagewiz recognises")
    if code is None:
        code = "AccessDenied" if service == "s3" else "AccessDeniedException"
    form = "enhanced" if service == "s3" else "other-service"
    missing = []
    if service == "s3" and not bucket:
        missing.append("the bucket (this message form does not name the resource)")
    return ParsedError(
        text=norm, form=form, code=code, operation=op, principal=principal, action=action, resource=resource,
        reason=reason, policy_type=policy_type, explicit=explicit, policy_arn=policy_arn, via=via, bucket=bucket,
        key=key, service=service, understood=tuple(understood), missing=tuple(missing), problems=tuple(problems),
    )  # fmt: skip


def _norm_type(raw: str) -> str:
    t = raw.strip().lower()
    t = re.sub(r"\s+policy$", "", t)
    return POLICY_TYPES.get(t, t)


def _service_of_op(op: str | None) -> str | None:
    if op and action_for_operation(op):
        return "s3"
    return None


def _missing(principal: str | None, action: str | None, bucket: str | None) -> tuple[str, ...]:
    out = []
    if not principal:
        out.append("the principal (who made the request)")
    if not action:
        out.append("the action (which operation failed)")
    if not bucket:
        out.append("the bucket")
    return tuple(out)
