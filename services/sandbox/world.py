"""The sandbox's world as the rest of sagewiz sees it: where it is served, how to sign in, what it holds.

Kept apart from services.sandbox.server (which boots moto) so the seed, the persisted world and the
emulator's extensions can name it without importing the server that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.session import AwsTarget, StaticCredentials

SANDBOX_REGION = "eu-north-1"
SANDBOX_ACCOUNT = "123456789012"
# The second account: it owns the public sample bucket, as AWS's own account owns
# `sagemaker-sample-files` in AWS (so the Bucket step's squatting guard and cross-account reads
# are exercised). Nobody signs in to it.
SAMPLE_ACCOUNT = "210987654321"


@dataclass(frozen=True)
class SandboxWorld:
    """What the seeded world contains, and how to sign in to it."""

    endpoint: str
    region: str
    account: str
    admin: StaticCredentials
    admin_arn: str
    role_arn: str
    role_name: str
    role_credentials: StaticCredentials | None
    default_bucket: str
    sample_bucket: str
    sample_prefix: str
    seeded: bool
    # Where the world lives (services.sandbox.persist): the time it was seeded (ISO, UTC), the
    # process serving it, and whether this run found it already running (resumed) or seeded it.
    started_at: str = ""
    pid: int = 0
    resumed: bool = False
    in_process: bool = False

    def started_local(self, fmt: str) -> str:
        """When the world was seeded, in local time ("?" when the record's time is unreadable)."""
        from datetime import datetime

        try:
            return datetime.fromisoformat(self.started_at).astimezone().strftime(fmt)
        except ValueError:
            return "?"

    def origin(self) -> str:
        """One line for the header: resumed or fresh, and since when; "" when unknown."""
        if not self.started_at:
            return ""
        when = self.started_local("%H:%M")
        if self.resumed:
            return f"resumed world (started {when})"
        return "fresh world" + (" (this run only)" if self.in_process else "")

    def target(self) -> AwsTarget:
        return AwsTarget(region=self.region, endpoint_url=self.endpoint, credentials=self.admin, sandbox=True)

    def role_target(self) -> AwsTarget:
        """Sign requests as the execution role (IAM is enforced for them)."""
        if self.role_credentials is None:
            raise RuntimeError("this sandbox world has no role credentials")
        return AwsTarget(
            region=self.region, endpoint_url=self.endpoint, credentials=self.role_credentials, sandbox=True
        )


# The endpoint this process's sandbox serves on ("" until it is started). The emulator's own
# extensions (the sandbox trainer signs S3 calls as the role) read it here.
_serving = {"endpoint": ""}


def serving_endpoint() -> str:
    return _serving["endpoint"]


def set_serving_endpoint(url: str) -> None:
    _serving["endpoint"] = url
