"""The fix for a role that lacks an ability the notebook needs (`services.roles.abilities`): the
ability's own statements, added to sagewiz's inline policy of the role. Every other statement is
kept, and the minimal-change check proves only those grants become allowed."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.change import ROLE_INLINE_POLICY, PolicyChange, PolicyTarget, parse, pretty
from services.permissions.fixes.safety import subject_for, validated, verified
from services.permissions.fixes.shapes import unique_sid
from services.permissions.matcher import as_list
from services.policy.minimal_change import Documents, Permitted
from services.roles.abilities import Ability, check_abilities

ABILITIES_POLICY = "sagewiz-least-privilege"  # the inline policy the Notebook step's role is created with


def abilities_change(
    role_name: str,
    role_arn: str,
    account: str,
    region: str,
    bucket: str,
    inline: list[tuple[str, str]],
    missing: Sequence[Ability],
    *,
    fixes: tuple[str, ...] = (),
) -> PolicyChange:
    """Add the statements of each `missing` ability to the role's sagewiz inline policy (created
    when the role has none). Refused when a Deny in the inline policies would still refuse it;
    checked for minimal change before it is returned."""
    if not missing:
        raise ValidationError("role policy", "the role already has every ability the notebook needs")
    text = next((t for n, t in inline if n == ABILITIES_POLICY), None)
    existing = parse(text)
    doc = copy.deepcopy(existing) if existing is not None else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    out = list(as_list(doc.get("Statement")))
    sids = {str(s.get("Sid")) for s in out if isinstance(s, dict) and s.get("Sid")}
    permitted: list[Permitted] = []
    for ability in missing:
        for grant in ability.grants:
            st = grant.statement()
            if st["Sid"] in sids:
                st["Sid"] = unique_sid(st["Sid"], sids)
            sids.add(st["Sid"])
            out.append(st)
            why = f"companion: so the role can {ability.label}"
            permitted += [Permitted(a, r, why) for a in grant.actions for r in grant.resources]
    doc["Statement"] = out
    after = [(n, t) for n, t in inline if n != ABILITIES_POLICY] + [(ABILITIES_POLICY, pretty(doc))]
    kinds = {a.kind for a in missing}
    if any(not c.has for c in check_abilities(role_arn, account, region, after) if c.ability.kind in kinds):
        raise ValidationError(
            "role policy",
            "an explicit Deny in the role's policies would still refuse what the notebook needs",
            "sagewiz never removes a Deny: its owner must decide whether it still applies.",
        )
    checks = validated(doc, validate.IDENTITY_POLICY, existing)
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=ABILITIES_POLICY),
        title=f"Let role {role_name} run the flow from the notebook",
        reason=(
            "Code in the notebook starts the flow's jobs as the role. Added, each scoped to this account and "
            "region: " + "; ".join(a.label for a in missing) + ". Every other statement is kept as it is."
        ),
        old_text=text,
        new_text=pretty(doc),
        checks=checks,
        fixes=fixes,
    )
    first = missing[0].grants[0]
    subject = subject_for(
        role_arn, bucket, first.actions[0], first.resources[0].replace("*", "sagewiz-check")
    )
    return verified(change, subject, Documents(tuple(inline)), tuple(permitted))
