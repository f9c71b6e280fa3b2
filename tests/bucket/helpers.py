"""Make a bucket owned by ANOTHER account on the running sandbox server (the squatting case).

moto picks the account per request: MOTO_ACCOUNT_ID in the server's environment first, then the
`x-moto-account-id` header. The sandbox sets the variable, so for one call we lift it, switch IAM
enforcement off (the other account has no users), and send the header.
"""

from __future__ import annotations

import os
from typing import Any

from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.session import AwsTarget, SessionFactory, StaticCredentials

OTHER_ACCOUNT = "999988887777"


def create_foreign_bucket(
    sandbox: Sandbox, world: SandboxWorld, name: str, account: str = OTHER_ACCOUNT
) -> None:
    factory = SessionFactory(
        AwsTarget(
            region=world.region,
            endpoint_url=world.endpoint,
            credentials=StaticCredentials("AKIAOTHERACCOUNT0000", "other-account-secret"),
            sandbox=True,
        )
    )
    s3 = factory.client("s3")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    s3.meta.events.register("before-sign.s3.*", add_header)
    saved = os.environ.pop("MOTO_ACCOUNT_ID", None)
    sandbox.set_auth(False)
    try:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": world.region})
    finally:
        if saved is not None:
            os.environ["MOTO_ACCOUNT_ID"] = saved
        sandbox.set_auth(True)
