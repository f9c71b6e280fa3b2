"""The one place that builds AWS clients.

Profile, region and endpoint come from flags or the standard AWS variables. Every client gets
adaptive retries and a `sagewiz/<version>` user-agent suffix. Clients are created once and shared
with worker threads (boto3 clients are thread-safe, sessions are not).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from services.errors import ConnectError, InternalError, SagewizError, translate
from services.regions import region_problem
from services.remedy import Remedy, RemedyKind
from services.version import __version__

if TYPE_CHECKING:
    import boto3


@dataclass(frozen=True)
class StaticCredentials:
    """Explicit keys (the sandbox's). Never written anywhere; repr hides the secret."""

    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:
        return f"StaticCredentials(access_key={self.access_key[:4]}…)"


@dataclass(frozen=True)
class AwsTarget:
    """Where and as whom to talk to AWS."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    credentials: StaticCredentials | None = None
    sandbox: bool = False

    @classmethod
    def from_env(
        cls, profile: str | None = None, region: str | None = None, endpoint_url: str | None = None
    ) -> AwsTarget:
        return cls(
            profile=profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or None,
            region=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
            endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
        )

    def with_(self, **changes: Any) -> AwsTarget:
        return replace(self, **changes)


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str
    region: str
    endpoint: str
    profile: str | None
    sandbox: bool

    @property
    def principal_name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


class SessionFactory:
    """Builds and caches boto3 clients for one AwsTarget. Nothing else creates clients."""

    def __init__(self, target: AwsTarget) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._clients: dict[tuple[str, str | None], Any] = {}

    @property
    def region(self) -> str:
        return self.target.region or (self.session.region_name or "")

    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                self._session = self._make_session(self.target.credentials)
            return self._session

    def _make_session(self, creds: StaticCredentials | None) -> boto3.Session:
        import boto3
        import botocore.exceptions as bx

        try:
            core = _botocore_session()
            if creds is not None:
                return boto3.Session(
                    aws_access_key_id=creds.access_key,
                    aws_secret_access_key=creds.secret_key,
                    aws_session_token=creds.token,
                    region_name=self.target.region,
                    botocore_session=core,
                )
            return boto3.Session(
                profile_name=self.target.profile, region_name=self.target.region, botocore_session=core
            )
        except bx.ProfileNotFound as exc:
            raise self._unknown_profile() from exc

    def _unknown_profile(self) -> ConnectError:
        from services.profiles import profile_names

        names = ", ".join(profile_names()) or "none"
        return ConnectError(
            "unknown-profile",
            f"Unknown AWS profile '{self.target.profile}'",
            f"No profile of that name is in the AWS config or credentials files (found: {names}).",
            "Pick a listed profile, or create it with `aws configure --profile NAME`.",
        )

    def config(self, **extra: Any) -> Any:
        from botocore.config import Config

        base = Config(
            retries={"mode": "adaptive", "max_attempts": 1 if self.target.sandbox else 5},
            user_agent_extra=f"sagewiz/{__version__}",
            connect_timeout=5 if self.target.sandbox else 10,
            read_timeout=30 if self.target.sandbox else 60,
        )
        if extra:
            base = base.merge(Config(**extra))
        return base

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        problem = region_problem(region or self.region)
        if problem:
            raise ConnectError("invalid-region", "Invalid region", problem, "Pick a region from the list.")
        sess = self.session
        kwargs: dict[str, Any] = {"region_name": region or self.region, "config": self.config()}
        if self.target.endpoint_url:
            kwargs["endpoint_url"] = self.target.endpoint_url
        import botocore.exceptions as bx

        try:
            client = sess.client(service, **kwargs)
        except bx.ProfileNotFound as exc:
            raise self._unknown_profile() from exc
        except ValueError as exc:  # a credential_process printing something that is not JSON
            raise _unreadable_credentials(self.target, exc) from exc
        except Exception as exc:  # botocore raises several unrelated types here
            raise translate(exc, f"create {service} client") from exc
        if service == "s3control" and self.target.endpoint_url:
            # s3control prepends "<account>." to the host; a custom endpoint (the emulator) has no
            # such names, so strip the label before sending.
            client.meta.events.register("before-sign.s3-control.*", _strip_account_host_label)
        with self._lock:
            self._clients.setdefault(key, client)
            return self._clients[key]

    def for_credentials(self, creds: StaticCredentials) -> SessionFactory:
        """A factory for the same place but another principal (e.g. acting as the execution role)."""
        return SessionFactory(replace(self.target, credentials=creds, profile=None))


_loader_lock = threading.Lock()
_shared_loader: Any = None


def _botocore_session() -> Any:
    """A fresh botocore session sharing one model loader: service models (large JSON files) are
    parsed once per process instead of once per session."""
    import botocore.loaders
    import botocore.session

    global _shared_loader
    with _loader_lock:
        if _shared_loader is None:
            _shared_loader = botocore.loaders.create_loader()
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader)
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_timestamp)
    return core


_tzutc: Any = None


def _timestamp(value: Any) -> Any:
    """botocore's timestamp parser (dateutil's) costs about 0.4 ms a value: half the time of listing
    2,000 objects. AWS's ISO 8601 UTC form is parsed by the stdlib into the same datetime (tzutc);
    anything else goes to botocore's parser."""
    global _tzutc
    if isinstance(value, str) and value.endswith("Z") and value[10:11] == "T":
        from datetime import datetime

        try:
            parsed = datetime.fromisoformat(value[:-1])
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            if _tzutc is None:
                from botocore.utils import tzutc  # dateutil's, as botocore returns

                _tzutc = tzutc()
            return parsed.replace(tzinfo=_tzutc)
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


def service_model(service: str) -> Any:
    """botocore's model of `service` (operations, shapes, patterns, enums), read through the shared
    loader: every fact sagewiz takes from an API's own description comes from here."""
    return _botocore_session().get_service_model(service)


def _unreadable_credentials(target: AwsTarget, exc: ValueError) -> ConnectError:
    # botocore parses a profile's credential_process output as JSON without catching its error.
    name = target.profile or "default"
    return ConnectError(
        "invalid-credentials",
        "The AWS credentials could not be obtained",
        f"Profile '{name}' gave credentials that cannot be read ({type(exc).__name__}: {str(exc)[:200]}).",
        "If the profile uses credential_process, run that command yourself: it must print one JSON "
        "object with Version, AccessKeyId and SecretAccessKey.",
    )


def endpoint_problem(url: str) -> str | None:
    """None when `url` can serve as an endpoint (http(s)://host[:port][/path]), else why not."""
    from urllib.parse import urlsplit

    from services.terminal_text import echo

    if len(url) > 2048:
        return f"the endpoint URL is {len(url):,} characters long; an endpoint is a short http(s) URL"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return f"{echo(url)} holds spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:
        return f"{echo(url)} is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"{echo(url)} must start with http:// or https://"
    if not parts.hostname:
        return f"{echo(url)} names no host"
    del port
    return None


def connect(factory: SessionFactory) -> Identity:
    """Resolve credentials and call sts:GetCallerIdentity; every failure becomes a ConnectError."""
    import botocore.exceptions as bx

    target = factory.target
    if target.endpoint_url:
        bad = endpoint_problem(target.endpoint_url)
        if bad:
            raise ConnectError(
                "invalid-endpoint",
                "Invalid endpoint URL",
                bad,
                "Give a URL like http://localhost:4566 or https://sts.eu-north-1.amazonaws.com "
                "in --endpoint-url or AWS_ENDPOINT_URL.",
            )
    region = target.region
    if not region:
        try:
            region = factory.session.region_name
        except bx.ProfileNotFound as exc:
            raise factory._unknown_profile() from exc
        except bx.BotoCoreError as exc:  # a config file that cannot be parsed, ...
            raise translate(exc) from exc
    problem = region_problem(region or "")
    if problem:
        raise ConnectError(
            "invalid-region" if region else "no-region",
            "Invalid region" if region else "No region set",
            problem,
            "Pass --region, set AWS_REGION, or add `region = ...` to the profile.",
        )
    try:
        sts = factory.client("sts")
        out = sts.get_caller_identity()
    except ConnectError:
        raise
    except bx.NoCredentialsError as exc:
        raise ConnectError(
            "no-credentials",
            "No AWS credentials found",
            "Neither the environment, the AWS config files nor an instance role provide credentials.",
            "Run `aws configure` or `aws sso login --profile NAME`, pick a profile, or try the sandbox "
            "(`sagewiz --sandbox`) to walk the whole flow without an account.",
        ) from exc
    except (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError) as exc:
        name = target.profile or "default"
        raise ConnectError(
            "sso-expired",
            "Your SSO sign-in has expired",
            f"The cached AWS IAM Identity Center token for profile '{name}' is missing or expired.",
            f"Run:  aws sso login --profile {name}\nthen",
            remedy=Remedy(RemedyKind.RETRY),
        ) from exc
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError) as exc:
        where = target.endpoint_url or f"the AWS endpoint for {region}"
        raise ConnectError(
            "endpoint-unreachable",
            "Cannot reach the endpoint",
            f"Connecting to {where} failed: {exc}",
            "Check the --endpoint-url / AWS_ENDPOINT_URL value and that the server is running, "
            "or check your network connection.",
        ) from exc
    except bx.ClientError as exc:
        err = translate(exc, "GetCallerIdentity")
        if isinstance(err, ConnectError):
            code = err.code or ""
            if "Expired" in code:
                raise ConnectError(
                    "expired-credentials",
                    "The AWS credentials have expired",
                    err.message,
                    "Refresh them (aws sso login, or new temporary keys) and",
                    code=code,
                    remedy=Remedy(RemedyKind.RETRY),
                ) from exc
            raise ConnectError(
                "invalid-credentials",
                "The AWS credentials were refused",
                f"AWS says: {err.message or code}",
                "The access key does not exist or the secret is wrong. Fix the keys with "
                "`aws configure`, or pick another profile.",
                code=code,
            ) from exc
        raise ConnectError(
            "aws-error", err.title, err.message, err.hint, code=err.code, remedy=err.remedy
        ) from exc
    except SagewizError:
        raise
    except ValueError as exc:
        raise _unreadable_credentials(target, exc) from exc
    except Exception as exc:
        err = translate(exc, "GetCallerIdentity")
        if isinstance(err, (ConnectError, InternalError)):
            raise err from exc
        raise ConnectError("aws-error", err.title, err.message, err.hint, remedy=err.remedy) from exc
    return Identity(
        account=out["Account"],
        arn=out["Arn"],
        user_id=out["UserId"],
        region=region or "",
        endpoint=target.endpoint_url or f"https://sts.{region}.amazonaws.com",
        profile=target.profile,
        sandbox=target.sandbox,
    )


def _strip_account_host_label(request: Any, **_: Any) -> None:
    import re

    request.url = re.sub(r"^(https?://)\d{12}\.", r"\1", request.url)
