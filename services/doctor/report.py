"""Renderings of a Diagnosis: plain text (the command's default), the JSON contract, and the
redacted "send to admin" Markdown report.

Redaction (the report leaves the user's machine): secrets only by their known shapes and positions
(access key ids AKIA/ASIA, a secret access key or session token after its label, session tokens by
their prefix); in prose, also assumed-role session names (often e-mail addresses under SSO),
e-mail addresses and IPv4/IPv6 addresses. Policy documents are never altered beyond secrets, so the
policy to attach stays valid; ARNs, bucket and key names, account ids and policy values stay.
"""

from __future__ import annotations

import json
import re
from typing import Any

from services.doctor.model import Diagnosis, Finding
from services.remedy import Face

# Secrets, by their documented shapes and positions only (never a long run of letters as such:
# ARNs, bucket names, keys and policy values must reach the administrator intact).
_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")  # access key ids (long-term, temporary)
_SECRET_AFTER = re.compile(
    r"(?i)(aws_secret_access_key|secret_access_key|secretaccesskey|secret[ _-]?key)"
    r"([\"']?\s*[:=]\s*[\"']?|\s+)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
)
_TOKEN_AFTER = re.compile(
    r"(?i)(aws_session_token|aws_security_token|sessiontoken|session_token|x-amz-security-token)"
    r"([\"']?\s*[:=]\s*[\"']?|\s+)([A-Za-z0-9/+=%]{16,})"
)
_TOKEN_SHAPE = re.compile(r"\b(IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE)[A-Za-z0-9/+=]{20,}")
# Personal details in prose (never inside policy documents): session names, e-mail, IP addresses.
_SESSION = re.compile(r"(arn:[a-z-]+:sts::\d{12}:assumed-role/[^/\s\"`]+/)([^\s\"',)`|]+)")
_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")


def redact_secrets(text: str) -> str:
    """Access key ids, secret access keys and session tokens; nothing else."""
    text = _KEY_ID.sub(lambda m: m.group(1) + "…(redacted)", text)
    text = _SECRET_AFTER.sub(lambda m: m.group(1) + m.group(2) + "(redacted)", text)
    text = _TOKEN_AFTER.sub(lambda m: m.group(1) + m.group(2) + "(redacted)", text)
    return _TOKEN_SHAPE.sub("(redacted session token)", text)


def _mask_ipv6(m: re.Match[str]) -> str:
    import ipaddress

    value = m.group(0)
    if value.count(":") < 2 or not any(c not in ":" for c in value):
        return value
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return value
    groups = value.split(":")
    return ":".join(groups[:2]) + ":x:x"


def redact_prose(text: str) -> str:
    """Secrets, plus what identifies a person or machine in prose: the session name of an
    assumed-role ARN (often an e-mail under SSO), e-mail addresses, IPv4 and IPv6 addresses."""
    text = redact_secrets(text)
    text = _SESSION.sub(r"\1<session>", text)
    text = _IPV4.sub(r"\1.\2.x.x", text)
    text = _IPV6.sub(_mask_ipv6, text)
    return _EMAIL.sub("(e-mail redacted)", text)


def redact(text: str) -> str:
    """Markdown: prose fully redacted, fenced code blocks (policy documents) only for secrets, so
    the policy to attach stays exactly valid."""
    out: list[str] = []
    for n, part in enumerate(re.split(r"(```[a-z]*\n.*?\n```)", text, flags=re.S)):
        out.append(redact_secrets(part) if n % 2 else redact_prose(part))
    return "".join(out)


def to_json(d: Diagnosis) -> str:
    return json.dumps(d.to_json(), indent=2)


def render_text(d: Diagnosis, *, with_trace: bool = False) -> str:
    """The command's text: remedies are rendered as flags and commands (Face.CLI)."""
    lines = [f"sagewiz doctor: {d.verdict.upper()}", f"  {d.headline}" if d.headline else ""]
    lines += [
        f"  principal: {d.principal or '(unknown)'}",
        f"  action:    {d.action or '(unknown)'}",
        f"  resource:  {d.resource or '(unknown)'}",
    ]
    if d.role_arn and d.role_arn != d.principal:
        lines.append(f"  role:      {d.role_arn}")
    if d.findings:
        lines += ["", "Findings (blocking first):"]
        for n, f in enumerate(d.findings, 1):
            lines += _finding_text(n, f)
    if d.missing:
        lines += ["", "What is missing:"] + [f"  - {n.render(Face.CLI)}" for n in d.needs]
    if d.understood:
        lines += ["", "What was understood:"] + [f"  - {u}" for u in d.understood]
    if d.assumptions:
        lines += ["", "Assumptions:"] + [f"  - {a.text}" for a in d.assumptions]
    if d.reads:
        bad = [r for r in d.reads if r.status in ("denied", "error")]
        lines += [
            "",
            f"Evidence: {len(d.reads)} read-only calls"
            + (f", {len(bad)} refused:" if bad else ", all answered"),
        ]
        lines += [f"  - {r.what} ({r.call}): {r.detail}" for r in bad]
    if d.cross_check:
        lines += ["", f"Cross-check: {d.cross_check.message}"]
    if with_trace and d.trace:
        lines += ["", "Statement trace:"] + [f"  {t}" for t in d.trace]
    return "\n".join(line for line in lines if line is not None)


def _finding_text(n: int, f: Finding) -> list[str]:
    tag = "BLOCKING" if f.blocking else "note"
    out = [f"  {n}. [{tag}] {f.cause}: {f.summary}"]
    out += [f"       evidence: {e}" for e in f.evidence]
    if f.fix:
        remedy = f.fix.remedy
        who = f" ({remedy.render(Face.CLI)})" if remedy else ""
        out.append(f"       fix{who}: {f.fix.description}")
        for c in f.fix.changes if n == 1 else ():
            if c.get("diff"):
                out += ["         " + line for line in str(c["diff"]).splitlines()]
            elif c.get("document") is not None and c.get("call") != "none":
                out.append(f"         {c.get('call')} on {c.get('target')}:")
                out += ["           " + line for line in json.dumps(c["document"], indent=2).splitlines()]
        if n > 1 and f.fix.changes and any(c.get("call") != "none" for c in f.fix.changes):
            out.append("       (the full change is in --json)")
        out += [f"       warning: {w}" for w in f.fix.warnings]
    if f.alternatives:
        out.append(f"       {f.either_text}")
    for a in f.alternatives:
        out.append(f"       alternative: {a.cause}: {a.summary}")
        out += [f"         evidence: {e}" for e in a.evidence]
        if a.fix:
            out.append(f"         fix: {a.fix.description}")
    return out


def admin_report(d: Diagnosis, *, caller: str | None = None, when: str | None = None) -> str:
    """Markdown for someone who can change IAM: who was denied what, the deciding policy and
    statement, the exact policy to attach. Redacted (see the module docstring)."""
    md: list[str] = ["# Access denied: request for a permissions change", ""]
    if when:
        md += [f"_Diagnosed by sagewiz on {when}._", ""]
    md += [
        "| | |",
        "|---|---|",
        f"| Principal | `{d.principal or 'unknown'}` |",
    ]
    if d.role_arn and d.role_arn != d.principal:
        md.append(f"| Role | `{d.role_arn}` |")
    md += [
        f"| Action | `{d.action or 'unknown'}` |",
        f"| Resource | `{d.resource or 'unknown'}` |",
        f"| Verdict | **{d.verdict}** |",
        "",
    ]
    if d.headline:
        md += [d.headline, ""]
    blocking = [f for f in d.findings if f.blocking]
    if blocking:
        md += ["## Why it is denied", ""]
        for f in blocking:
            md.append(f"- **{f.cause}**: {f.summary}")
            md += [f"  - {e}" for e in f.evidence]
            if f.alternatives:
                md.append(f"  - {f.either_text}")
            md += [f"  - alternative, **{a.cause}**: {a.summary}" for a in f.alternatives]
        md.append("")
        first = blocking[0]
        if first.fix:
            md += ["## What to change", "", first.fix.description, ""]
            for c in first.fix.changes:
                if c.get("call") == "none":
                    continue
                md += [f"**{c.get('call')}** on {c.get('target')}:", ""]
                doc = c.get("document")
                if doc is not None:
                    md += ["```json", json.dumps(doc, indent=2), "```", ""]
            if first.fix.warnings:
                md += [f"> {w}" for w in first.fix.warnings] + [""]
        if len(blocking) > 1:
            md += [
                "Other blocking causes above have their own fixes; the first one listed is the smallest safe change.",
                "",
            ]
    notes = [f for f in d.findings if not f.blocking]
    if notes:
        md += ["## Checked and not the cause", ""] + [f"- {f.cause}: {f.summary}" for f in notes] + [""]
    if d.assumptions:
        md += ["## Assumptions", ""] + [f"- {a.text}" for a in d.assumptions] + [""]
    if d.needs:
        md += ["## Missing information", ""] + [f"- {n.render(Face.PLAIN)}" for n in d.needs] + [""]
    md += ["---", "Generated by `sagewiz doctor`; nothing was changed in AWS to produce this report."]
    return redact("\n".join(md)) + "\n"


def json_safe(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))
