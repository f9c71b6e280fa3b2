"""What the Permissions step shows of what it read: the proof table and the settings table.

Pure functions of the state read (no widgets, no AWS calls), so the screen only places them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from services.permissions.proof import Proof
    from services.permissions.state import PermissionsState


def proof_view(before: Proof | None, now: Proof | None) -> RenderableType:
    """The proof of the role's access: each request and its verdict, before and now once a change was made."""
    if now is None:
        return Text("Not proven yet (p runs the proof).", style="dim")
    if now.method == "unavailable":
        return Text(f"The proof could not run: {now.note}.", style="yellow")
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Action")
    table.add_column("On")
    compare = before is not None and before is not now
    if compare:
        table.add_column("Before")
    table.add_column("Now" if compare else "Result")
    earlier = {(s.action, s.resource): s for s in before.steps} if before is not None and compare else {}
    for step in now.steps:
        cells: list[Any] = [step.action, Text(_short_resource(step.resource))]
        if compare:
            prev = earlier.get((step.action, step.resource))
            cells.append(_verdict(prev) if prev is not None else Text("—", style="dim"))
        cells.append(_verdict(step))
        table.add_row(*cells)
    how = "Real requests as the role" if now.method == "marker-object" else "IAM policy simulator"
    caption = Text(f"{how}, {now.note.removeprefix('as the role, ')}: ", style="dim")
    caption.append(
        "the role can use the bucket" if now.ok else "the role is denied",
        style="bold green" if now.ok else "bold red",
    )
    return Group(table, caption)


def settings_table(st: PermissionsState) -> Table:
    """What was read: Block Public Access, policy status, encryption, ownership, boundary."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    table.add_row(
        "Bucket", Text(f"{st.bucket}" + ("" if st.bucket_exists is not False else " (does not exist)"))
    )
    role = Text(st.role_arn)
    if st.role_given:
        role.append(f" (given as {st.role_given})", style="yellow")
    table.add_row("Role", role)
    for bpa, label in (
        (st.account_bpa, "Block Public Access (account)"),
        (st.bucket_bpa, "Block Public Access (bucket)"),
    ):
        if bpa is None:
            table.add_row(label, Text("could not read", style="yellow"))
        elif bpa.all_on:
            table.add_row(label, Text("on (all four settings)", style="green"))
        else:
            table.add_row(label, Text("off: " + ", ".join(bpa.off), style="yellow"))
    if st.policy_public is None:
        table.add_row("Bucket policy status", Text("could not read", style="yellow"))
    else:
        src = "" if st.policy_public_source == "s3" else " (computed by sagewiz)"
        table.add_row("Bucket policy status", Text(("public" if st.policy_public else "not public") + src))
    enc = st.encryption
    if enc is None:
        table.add_row("Default encryption", Text("could not read", style="yellow"))
    else:
        desc = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}.get(
            enc.algorithm, enc.algorithm
        )
        if enc.kms_key_id:
            desc += f", key {enc.kms_key_id}"
        if enc.default:
            desc += " (not configured: S3's default)"
        table.add_row("Default encryption", Text(desc))
    table.add_row("Object Ownership", Text(st.object_ownership or "not configured"))
    table.add_row(
        "Permissions boundary",
        # A boundary read without an ARN is said as unread rather than shown blank.
        Text(
            (st.boundary.arn or "set, could not read")
            if st.boundary
            else ("set, could not read" if st.has_boundary else "none")
        ),
    )
    for u in st.unreadable:
        table.add_row("Could not read", Text(u.line(), style="yellow"))
    return table


def _short_resource(arn: str) -> str:
    rest = arn.removeprefix("arn:aws:s3:::")
    return "the bucket" if "/" not in rest else f"object {rest.split('/', 1)[1]}"


def _verdict(step: Any) -> Text:
    if step.ok:
        return Text("✓ allowed", style="green")
    return Text(f"✗ {step.detail}", style="red")


def fix_name(fix: str) -> str:
    return {
        "bucket-policy": "the bucket policy merge",
        "role-policy": "the role policy repair",
        "narrow-grant": "narrowing the over-broad grant",
        "narrow-deny": "an exception to the Deny",
        "bpa-on": "turning Block Public Access back on",
    }.get(fix, fix)
