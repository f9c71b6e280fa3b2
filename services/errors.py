"""Domain errors: what went wrong, said for people, with the AWS error code kept.

Services raise these; front ends decide how to show them. No presentation here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from services.remedy import Face, Remedy, RemedyKind, advice


class SagewizError(Exception):
    """Base of every error a user can meet. `title` is a short headline, `message`
    says what happened, `hint` says what to do next in words that hold for every front end, and
    `remedy` (when there is one) the way out each front end names its own way (a key, a command);
    `advice(face)` joins the two."""

    kind = "error"

    def __init__(
        self,
        title: str,
        message: str = "",
        hint: str = "",
        *,
        code: str | None = None,
        operation: str | None = None,
        details: dict[str, Any] | None = None,
        remedy: Remedy | None = None,
    ) -> None:
        super().__init__(f"{title}: {message}" if message else title)
        self.title = title
        self.message = message
        self.hint = hint
        self.code = code
        self.operation = operation
        self.details = details or {}
        self.remedy = remedy

    def advice(self, face: Face) -> str:
        return advice(self.hint, self.remedy, face)


class ValidationError(SagewizError):
    """Bad input caught before any AWS call. `field` names the input at fault."""

    kind = "validation"

    def __init__(self, field_name: str, message: str, hint: str = "", remedy: Remedy | None = None) -> None:
        super().__init__(f"Invalid {field_name}", message, hint, remedy=remedy)
        self.field = field_name


class ConnectError(SagewizError):
    """The AWS connection could not be made (credentials, profile, region, endpoint)."""

    kind = "connect"

    def __init__(self, reason: str, title: str, message: str = "", hint: str = "", **kw: Any) -> None:
        super().__init__(title, message, hint, **kw)
        self.reason = reason  # one of the ConnectProblem values in services.session


class AccessDeniedError(SagewizError):
    """AWS said no. Carries what the doctor needs to explain why."""

    kind = "access-denied"


class NotFoundError(SagewizError):
    kind = "not-found"


class ThrottledError(SagewizError):
    kind = "throttled"


class QuotaExceededError(SagewizError):
    kind = "quota"


class ConflictError(SagewizError):
    """The resource exists already, or changed under us."""

    kind = "conflict"


class NetworkError(SagewizError):
    kind = "network"


class SandboxUnsupportedError(SagewizError):
    kind = "sandbox-unsupported"


class LocalFileError(SagewizError):
    """A file of this machine that sagewiz needs cannot be used as it is (the journal is a
    folder, a file is not readable): the user fixes it, not AWS."""

    kind = "local-file"


class InternalError(SagewizError):
    """Anything no one foresaw: a bug, or a library failing in a new way. Front ends say so in a
    short line and keep the details (the traceback) in a file, never on the screen."""

    kind = "internal"


class ErrorClass(Enum):
    """Who can fix an error, which decides how a front end reports it (and the command line's exit code)."""

    INPUT = "input"  # what the user gave (a flag, a file, a name, the AWS config): exit 2
    AWS = "aws"  # AWS refused or failed the request: exit 1, with the way to a diagnosis
    INTERNAL = "internal"  # not foreseen: exit 1, with where the details were written


def error_class(err: SagewizError) -> ErrorClass:
    if isinstance(err, (ValidationError, ConnectError, NotFoundError, LocalFileError)):
        return ErrorClass.INPUT
    if isinstance(err, InternalError):
        return ErrorClass.INTERNAL
    return ErrorClass.AWS


def aws_error_text(err: SagewizError) -> str:
    """The error as the AWS CLI and SDKs print it (what `sagewiz doctor` reads), rebuilt from the
    code, the operation and AWS's own message."""
    raw = str(err.details.get("raw") or err.message)
    code = err.code or "AccessDenied"
    operation = err.operation or "an AWS"
    return f"An error occurred ({code}) when calling the {operation} operation: {raw}"


@dataclass(frozen=True)
class ErrorInfo:
    """A plain snapshot of an error, safe to put in a message or JSON."""

    title: str
    message: str
    hint: str
    kind: str
    code: str | None = None
    operation: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    remedy: Remedy | None = None

    @classmethod
    def of(cls, exc: SagewizError) -> ErrorInfo:
        return cls(
            exc.title, exc.message, exc.hint, exc.kind, exc.code, exc.operation, dict(exc.details), exc.remedy
        )

    def advice(self, face: Face) -> str:
        return advice(self.hint, self.remedy, face)


_ACCESS_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "Forbidden",
    "403",
}
_THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
}
_NOT_FOUND_CODES = {
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchEntity",
    "NotFound",
    "404",
    "ResourceNotFound",
    "ResourceNotFoundException",
}
_CREDENTIAL_CODES = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
    "UnrecognizedClientException",
}


def _moto_xml_code(message: str) -> str | None:
    # moto answers JSON-protocol 403s with an XML body botocore cannot parse; the real code is inside.
    import re

    m = re.search(r"<Code>([^<]+)</Code>", message or "")
    return m.group(1) if m else None


def translate(exc: BaseException, operation: str | None = None) -> SagewizError:
    """Turn a botocore/boto3 exception into a SagewizError a person can act on."""
    if isinstance(exc, SagewizError):
        return exc
    import botocore.exceptions as bx

    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "")
        msg = str(err.get("Message") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        op = operation or getattr(exc, "operation_name", None)
        inner = _moto_xml_code(msg)
        if inner:
            code = inner
            import re

            m = re.search(r"<Message>([^<]+)</Message>", msg)
            if m:
                msg = m.group(1)
        if code in _CREDENTIAL_CODES:
            return ConnectError(
                "invalid-credentials",
                "The AWS credentials were refused",
                msg or code,
                "Check the access key and secret, or sign in again (aws sso login / aws configure).",
                code=code,
                operation=op,
            )
        if code in _ACCESS_CODES or (status == 403 and code not in _THROTTLE_CODES):
            return AccessDeniedError(
                "Access denied",
                msg or f"AWS refused {op or 'the request'} (HTTP 403).",
                code=code or "AccessDenied",
                operation=op,
                details={"raw": msg, "status": status},
                remedy=Remedy(RemedyKind.OPEN_DOCTOR),
            )
        if code in _THROTTLE_CODES or status == 429:
            return ThrottledError(
                "AWS is throttling requests",
                msg or code,
                "sagewiz already retried with back-off; wait a minute and try again.",
                code=code,
                operation=op,
            )
        if code == "ResourceLimitExceeded":
            return QuotaExceededError(
                "Service quota reached",
                msg,
                "Stop or delete resources you no longer need, or ask for a quota increase in Service Quotas.",
                code=code,
                operation=op,
            )
        if code in _NOT_FOUND_CODES:
            return NotFoundError("Not found", msg or code, code=code, operation=op)
        if code in {"ResourceInUse", "EntityAlreadyExists", "BucketAlreadyExists", "BucketAlreadyOwnedByYou"}:
            return ConflictError("Already exists", msg or code, code=code, operation=op)
        if code == "NotImplemented" or (
            status == 500 and ("NotImplemented" in msg or "<html" in msg.lower())
        ):
            return SandboxUnsupportedError(
                "Not supported by the emulator",
                f"{op or 'This call'} is not implemented in the sandbox.",
                code=code,
            )
        return SagewizError(f"AWS error {code}" if code else "AWS error", msg, code=code, operation=op)
    if isinstance(exc, bx.NoCredentialsError):
        return ConnectError(
            "no-credentials",
            "No AWS credentials found",
            "Neither the environment, the AWS config files nor an instance role provide credentials.",
            "Run `aws configure` or `aws sso login`, pick a profile, or try `sagewiz --sandbox`.",
        )
    if isinstance(exc, bx.ProfileNotFound):
        return ConnectError(
            "unknown-profile", "Unknown AWS profile", str(exc), "Pick one of the listed profiles."
        )
    if isinstance(exc, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError)):
        return ConnectError(
            "sso-expired", "The SSO sign-in has expired", str(exc), "Sign in again with aws sso login."
        )
    if isinstance(exc, bx.ConfigParseError):
        return ConnectError(
            "broken-config",
            "The AWS config file cannot be read",
            str(exc),
            "Fix the file's syntax (each section is [profile NAME], each line key = value), "
            "or point AWS_CONFIG_FILE at another file.",
        )
    if isinstance(exc, (bx.CredentialRetrievalError, bx.PartialCredentialsError, bx.InvalidConfigError)):
        return ConnectError(
            "invalid-credentials",
            "The AWS credentials could not be obtained",
            str(exc),
            "Check the profile in the AWS config file (its credential_process, keys or role), "
            "or pick another profile.",
        )
    if isinstance(exc, bx.SSLError):
        # An HTTPS endpoint whose certificate this machine does not trust (a company proxy, a
        # private endpoint): the fix is a CA bundle, not the network.
        return NetworkError(
            "The endpoint's certificate is not trusted",
            str(exc),
            "If it is signed by your own CA, point AWS_CA_BUNDLE (or ca_bundle in the AWS config "
            "file) at that CA's certificate; nothing was changed.",
            operation=operation,
        )
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return NetworkError(
            "Cannot reach AWS",
            str(exc),
            "Check the network or the --endpoint-url; nothing was changed.",
            operation=operation,
        )
    if isinstance(exc, bx.ParamValidationError):
        return SagewizError("Invalid request", str(exc), code="ParamValidation", operation=operation)
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        return SandboxUnsupportedError(
            "Unexpected answer from the endpoint",
            "The endpoint answered something that is not an AWS response (the emulator may lack this call).",
            operation=operation,
        )
    if isinstance(exc, NotImplementedError):
        return SandboxUnsupportedError("Not supported by the emulator", str(exc), operation=operation)
    if isinstance(exc, bx.BotoCoreError):
        return SagewizError("AWS client error", str(exc), operation=operation)
    if isinstance(exc, OSError) and exc.filename is not None and not isinstance(exc, ConnectionError):
        from services.terminal_text import echo

        return LocalFileError(
            "A file of this machine cannot be used",
            f"{echo(exc.filename, 200)}: {exc.strerror or type(exc).__name__}",
            "Check the path and its permissions.",
        )
    return InternalError("Unexpected error", f"{type(exc).__name__}: {exc}", operation=operation)


def is_gone(exc: BaseException) -> bool:
    """True when the error says the thing no longer exists (each service words it its own way)."""
    err = translate(exc)
    if isinstance(err, NotFoundError):
        return True
    text = f"{err.code} {err.message}".lower()
    return any(
        s in text for s in ("recordnotfound", "could not find", "does not exist", "not found", "nosuch")
    )
