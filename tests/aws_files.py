"""Write AWS config/credentials files for tests (into the isolated paths set by conftest)."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
[default]
region = eu-north-1

[profile ssoprof]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile keys]
region = eu-north-1

[profile assumer]
role_arn = arn:aws:iam::111122223333:role/Admin
source_profile = keys
"""

CREDENTIALS = """\
[keys]
aws_access_key_id = AKIAFAKEFAKEFAKE1234
aws_secret_access_key = not-a-real-secret
"""


def write_aws_files(aws_dir: Path) -> None:
    (aws_dir / "config").write_text(CONFIG)
    (aws_dir / "credentials").write_text(CREDENTIALS)
