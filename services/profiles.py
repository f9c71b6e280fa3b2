"""AWS profiles read from the shared config and credentials files (no boto3 import needed)."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    kind: str  # "sso", "keys", "assume-role", "process", "web-identity", "other"
    region: str | None
    source: str  # which file defines it
    sso_session: str | None = None
    endpoint_url: str | None = None

    @property
    def describe(self) -> str:
        bits = [self.kind]
        if self.region:
            bits.append(self.region)
        return ", ".join(bits)


def config_path() -> Path:
    return Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()


def credentials_path() -> Path:
    return Path(
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials"
    ).expanduser()


def _read(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        # A broken file is reported by boto3 when the profile is used; listing must not crash.
        return configparser.RawConfigParser()
    return parser


def _kind(section: dict[str, str]) -> str:
    if "sso_session" in section or "sso_start_url" in section or "sso_account_id" in section:
        return "sso"
    if "role_arn" in section:
        return "web-identity" if "web_identity_token_file" in section else "assume-role"
    if "credential_process" in section:
        return "process"
    if "aws_access_key_id" in section:
        return "keys"
    return "other"


def list_profiles() -> list[ProfileInfo]:
    """Every profile in the config and credentials files, config first, sorted by name."""
    found: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    cfg = _read(config_path())
    for sect in cfg.sections():
        if sect == "default":
            name = "default"
        elif sect.startswith("profile "):
            name = sect[len("profile ") :].strip()
        else:
            continue  # sso-session and services sections are not profiles
        found.setdefault(name, {}).update(dict(cfg.items(sect)))
        sources[name] = str(config_path())
    creds = _read(credentials_path())
    for sect in creds.sections():
        found.setdefault(sect, {}).update(dict(creds.items(sect)))
        sources.setdefault(sect, str(credentials_path()))
    out = [
        ProfileInfo(
            name=name,
            kind=_kind(values),
            region=values.get("region"),
            source=sources[name],
            sso_session=values.get("sso_session"),
            endpoint_url=values.get("endpoint_url"),
        )
        for name, values in found.items()
    ]
    return sorted(out, key=lambda p: (p.name != "default", p.name))


def profile_names() -> list[str]:
    return [p.name for p in list_profiles()]
