"""Fixtures for the Notebook step: fast sandbox transitions, no leftover injected faults."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from services.sandbox.extensions import notebook as nb_ext
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory, StaticCredentials

FAST = 0.4  # seconds a notebook stays Pending in tests (Stopping/Deleting scale from it)


@pytest.fixture(autouse=True)
def fast_notebooks() -> Iterator[None]:
    saved = (nb_ext.TIMINGS.pending, nb_ext.TIMINGS.stopping, nb_ext.TIMINGS.deleting)
    nb_ext.set_timings(FAST)
    nb_ext.clear_faults()
    yield
    nb_ext.clear_faults()
    nb_ext.set_timings(*saved)


def make_user(
    factory: SessionFactory, world: SandboxWorld, name: str, statements: list[dict]
) -> SessionFactory:
    """An IAM user with exactly these statements, and a factory signing as it."""
    iam = factory.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName=f"{name}-policy",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = StaticCredentials(key["AccessKeyId"], key["SecretAccessKey"])
    return SessionFactory(world.target().with_(credentials=creds))
