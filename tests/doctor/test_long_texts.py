"""Texts of any length are read whole (streamed), the last AWS error in them is the one diagnosed,
and what the doctor says it assumed is only what it did assume, never a placeholder."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from services.doctor.engine import precheck
from services.doctor.error_window import CHUNK, WINDOW, last_error_text, last_error_window
from services.doctor.model import AssumptionReason, DoctorRequest
from services.doctor.parse import parse_error
from services.flow import doctor
from services.flow.context import FlowContext
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.state import WizardState
from tests.doctor.harness import factory_for, fresh_world
from tui.cli import main

NOISE_LINE = "2024-05-01T10:00:00Z INFO step 1234 loss=0.1234 lr=0.0001 everything is fine here\n"
LAST = (
    "upload failed: ./model.tar.gz to s3://sagemaker-eu-north-1-123456789012/out/model.tar.gz "
    "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied\n"
)
EARLIER = "botocore.exceptions.ClientError: An error occurred (NoSuchKey) when calling the GetObject operation: nope\n"


def _log(size: int, tail: str, head: str = EARLIER) -> str:
    body = NOISE_LINE * (size // len(NOISE_LINE))
    return head + body + tail


def test_an_error_at_the_end_of_a_2mb_log_is_found(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "job.log"
    seed_line = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied\n"
    log.write_text(_log(2_500_000, seed_line))
    assert log.stat().st_size > 2_000_000
    code = main(
        ["doctor", "--sandbox", "--json", "--error-file", str(log), "--key", "ground-truth-demo/images/a.jpg"]
    )
    out = json.loads(capsys.readouterr().out)
    # The file's last error (PutObject), not its first (GetObject), and the seed's first cause.
    assert code == 1 and out["action"] == "s3:PutObject"
    assert out["findings"][0]["cause"] == "identity-wrong-resource"


def test_the_window_holds_the_last_error_of_a_long_stream_followed_by_noise() -> None:
    text = _log(3_000_000, LAST + NOISE_LINE * 40_000)  # 3 MB, the error, 3 MB more of noise
    kept = last_error_window(io.BytesIO(text.encode()))
    assert len(kept) <= WINDOW
    parsed = parse_error(kept)
    assert parsed.operation == "PutObject" and parsed.bucket == "sagemaker-eu-north-1-123456789012"
    assert parsed.key == "out/model.tar.gz"


def test_a_marker_cut_by_a_chunk_boundary_is_found() -> None:
    for cut in range(1, 25):
        pad = "x" * (CHUNK - cut)
        text = pad + LAST + NOISE_LINE * 10
        parsed = parse_error(last_error_window(io.BytesIO(text.encode())))
        assert parsed.operation == "PutObject", cut


def test_memory_stays_small_for_a_20mb_stream() -> None:
    class Noise(io.RawIOBase):
        """20 MB of log lines, then the error: produced as read, never held whole."""

        def __init__(self) -> None:
            self.left = 20_000_000
            self.tail = LAST.encode()

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            if self.left > 0:
                n = min(len(b), self.left)
                line = NOISE_LINE.encode()
                b[:n] = (line * (n // len(line) + 1))[:n]
                self.left -= n
                return n
            n = min(len(b), len(self.tail))
            b[:n], self.tail = self.tail[:n], self.tail[n:]
            return n

    tracemalloc.start()
    kept = last_error_window(io.BufferedReader(Noise(), CHUNK))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert parse_error(kept).operation == "PutObject"
    assert peak < 2_000_000, f"peak {peak:,} bytes"


def test_no_marker_keeps_the_tail_and_short_texts_pass_through() -> None:
    assert last_error_text("Access Denied") == "Access Denied"
    kept = last_error_window(io.BytesIO(b"a" * 100_000 + b"THE END"))
    assert kept.endswith("THE END") and len(kept) == WINDOW


def test_a_traceback_gives_its_last_aws_error() -> None:
    tb = (
        'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n'
        + EARLIER
        + "\nDuring handling of the above exception, another exception occurred:\n\n"
        + "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject "
        "operation: User: arn:aws:sts::123456789012:assumed-role/SageMaker-tt/SageMaker is not authorized "
        'to perform: s3:PutObject on resource: "arn:aws:s3:::b-1/k" because no identity-based policy '
        "allows the s3:PutObject action\n"
    )
    p = parse_error(tb)
    assert (p.operation, p.action, p.bucket, p.policy_type) == (
        "PutObject",
        "s3:PutObject",
        "b-1",
        "identity-based",
    )


def test_an_error_file_that_is_not_a_regular_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--error-file", "/dev/zero"])
    assert code == 2 and "not a regular file" in capsys.readouterr().err


def test_the_bucket_is_missing_only_once() -> None:
    text = (
        "User: arn:aws:iam::123456789012:user/u is not authorized to perform: s3:GetObject "
        "because no identity-based policy allows the s3:GetObject action"
    )
    d = precheck(DoctorRequest(error_text=text), principal_from_caller=False)
    if d is not None:
        assert sum(m.startswith("the bucket") for m in d.missing) <= 1, d.missing


def test_no_placeholder_principal_is_ever_shown(capsys: pytest.CaptureFixture[str]) -> None:
    text = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
    d = precheck(DoctorRequest(error_text=text))
    assert d is not None
    shown = json.dumps([a.text for a in d.assumptions]) + str(d.principal) + " ".join(d.missing)
    assert "precheck" not in shown and "000000000000" not in shown
    main(["doctor", "--error", text])
    out, err = capsys.readouterr()
    assert "precheck" not in out + err and "000000000000" not in out + err


def _ctx(w: SandboxWorld, journal: Any) -> FlowContext:
    return FlowContext(factory_for(w.target()), w.account, w.region, journal, w.admin_arn, sandbox=True)


def test_you_the_caller_only_when_the_caller_filled_the_gap(sandbox: Sandbox, journal: Any) -> None:
    w = fresh_world(sandbox)
    ctx = _ctx(w, journal)
    named = (
        "An error occurred (AccessDenied) when calling the PutObject operation: User: "
        f"arn:aws:sts::{w.account}:assumed-role/SageMaker-tt/SageMaker is not authorized to perform: s3:PutObject "
        f'on resource: "arn:aws:s3:::{w.default_bucket}/ground-truth-demo/a.jpg" because no identity-based policy '
        "allows the s3:PutObject action"
    )
    d = doctor.inspect(ctx, WizardState(), doctor.DoctorChoices(DoctorRequest(error_text=named)))
    principal_said = [a for a in d.assumptions if a.reason.value.startswith("principal-")]
    assert not principal_said and "you, the caller" not in str(d.assumptions)  # it came from the text
    anonymous = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
    req = DoctorRequest(error_text=anonymous, bucket=w.default_bucket, key="ground-truth-demo/a.jpg")
    d2 = doctor.inspect(ctx, WizardState(), doctor.DoctorChoices(req))
    caller = [a for a in d2.assumptions if a.reason is AssumptionReason.PRINCIPAL_IS_CALLER]
    assert len(caller) == 1 and w.admin_arn in caller[0].text
    assert not any(a.reason is AssumptionReason.PRINCIPAL_FROM_WIZARD for a in d2.assumptions)
