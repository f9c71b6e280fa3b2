"""No test sees the AWS or network settings of the shell that runs the suite (tests/conftest.py's
`isolated_env`): an AWS_ENDPOINT_URL_S3 or HTTPS_PROXY left in a developer's shell must not send a
test's calls anywhere but the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Spelled out here rather than taken from conftest, so a gap there is not repeated here.
NETWORK = {
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
    "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE",
}  # fmt: skip
SET_BY_THE_FIXTURE = {"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"}

# Each a kind the fixture once let through: per-service endpoints, FIPS/dual-stack, CA bundles, retries.
PLANTED = {
    "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_SAGEMAKER": "http://127.0.0.1:9",
    "AWS_USE_FIPS_ENDPOINT": "true",
    "AWS_USE_DUALSTACK_ENDPOINT": "true",
    "AWS_CA_BUNDLE": "/nonexistent/ca.pem",
    "AWS_MAX_ATTEMPTS": "7",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "example.invalid",
    "REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem",
    "SSL_CERT_FILE": "/nonexistent/ca.pem",
}


def test_no_aws_or_network_variable_reaches_a_test(tmp_path: Path) -> None:
    leaked = sorted(
        v for v in os.environ if (v.startswith("AWS_") or v in NETWORK) and v not in SET_BY_THE_FIXTURE
    )
    assert leaked == []
    assert os.environ["AWS_CONFIG_FILE"] == str(tmp_path / "aws" / "config")
    assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == str(tmp_path / "aws" / "credentials")
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"


def test_variables_of_the_shell_running_the_suite_are_cleared() -> None:
    """The check above, run by a pytest started from a shell that has them all set: in this
    process the fixture has already cleared them, so only a fresh process can plant them first."""
    here = Path(__file__)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{here}::test_no_aws_or_network_variable_reaches_a_test"],
        env={**os.environ, **PLANTED},
        cwd=here.parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
