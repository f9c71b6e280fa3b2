"""IAM kinds: a role (with what is attached to it and written inside it) and a managed policy."""

from __future__ import annotations

from typing import Any

from services.journal_events import Change, ResourceChanged, ResourceDeleted
from services.plan import Action
from services.resource_kinds import ResourceKind
from services.resources.documents import as_doc, removed_diff
from services.resources.handler import KindHandler, with_state
from services.resources.record import Resource


class RoleHandler(KindHandler):
    kind = ResourceKind.ROLE

    def read(self, factory: Any, res: Resource) -> Resource:
        d = factory.client("iam").get_role(RoleName=res.id)["Role"]
        return with_state(res, "exists", d.get("Arn", ""))

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        tags: list[dict[str, str]] = factory.client("iam").list_role_tags(RoleName=res.id).get("Tags", [])
        return tags

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        iam = factory.client("iam")
        name = res.id
        role = iam.get_role(RoleName=name)["Role"]
        trust = role.get("AssumeRolePolicyDocument")
        actions: list[Action] = []
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
            for p in page.get("AttachedPolicies", []):
                actions.append(
                    Action(
                        "iam", "detach_role_policy", {"RoleName": name, "PolicyArn": p["PolicyArn"]},
                        f"Detach {p['PolicyName']} from role {name}",
                        undo=f"iam:AttachRolePolicy {p['PolicyArn']}", resource=res.arn,
                        journal=ResourceChanged(res.type, name, change=Change.POLICY_DETACHED,
                                                attributes={"policy_arn": p["PolicyArn"]}),
                    )
                )  # fmt: skip
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
            for pname in page.get("PolicyNames", []):
                doc = iam.get_role_policy(RoleName=name, PolicyName=pname).get("PolicyDocument")
                actions.append(
                    Action(
                        "iam", "delete_role_policy", {"RoleName": name, "PolicyName": pname},
                        f"Delete inline policy {pname} of role {name} (its document is kept in the journal)",
                        diff=removed_diff(doc, f"{name}/{pname}"),
                        undo=f"iam:PutRolePolicy {pname} with the document in the journal", resource=res.arn,
                        journal=ResourceChanged(res.type, name, change=Change.INLINE_POLICY_DELETED,
                                                attributes={"policy_name": pname, "document": as_doc(doc)}),
                    )
                )  # fmt: skip
        for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
            for ip in page.get("InstanceProfiles", []):
                actions.append(
                    Action(
                        "iam", "remove_role_from_instance_profile",
                        {"InstanceProfileName": ip["InstanceProfileName"], "RoleName": name},
                        f"Remove role {name} from instance profile {ip['InstanceProfileName']}", resource=res.arn,
                        journal=ResourceChanged(res.type, name, change=Change.REMOVED_FROM_INSTANCE_PROFILE,
                                                attributes={"instance_profile": ip["InstanceProfileName"]}),
                    )
                )  # fmt: skip
        actions.append(
            Action(
                "iam", "delete_role", {"RoleName": name}, f"Delete IAM role {name}",
                diff=removed_diff(trust, f"{name} trust policy"),
                undo="create the role again with the trust policy kept in the journal", resource=res.arn,
                journal=ResourceDeleted(res.type, name, res.arn, {"trust_policy": as_doc(trust)}),
            )
        )  # fmt: skip
        return actions


class PolicyHandler(KindHandler):
    kind = ResourceKind.POLICY

    def read(self, factory: Any, res: Resource) -> Resource:
        d = factory.client("iam").get_policy(PolicyArn=res.id)["Policy"]
        return with_state(res, "exists", d.get("Arn", ""), detail=f"attached {d.get('AttachmentCount', 0)}x")

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        tags: list[dict[str, str]] = factory.client("iam").list_policy_tags(PolicyArn=res.id).get("Tags", [])
        return tags

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        iam = factory.client("iam")
        arn = res.id
        pol = iam.get_policy(PolicyArn=arn)["Policy"]
        default = pol.get("DefaultVersionId")
        doc = (
            iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"].get("Document")
            if default
            else None
        )
        actions: list[Action] = []
        ents = iam.list_entities_for_policy(PolicyArn=arn)
        for group, key, op in (
            ("PolicyRoles", "RoleName", "detach_role_policy"),
            ("PolicyUsers", "UserName", "detach_user_policy"),
            ("PolicyGroups", "GroupName", "detach_group_policy"),
        ):
            for ent in ents.get(group, []):
                actions.append(
                    Action(
                        "iam", op, {key: ent[key], "PolicyArn": arn}, f"Detach policy {pol['PolicyName']} from {ent[key]}",
                        undo=f"attach {arn} to {ent[key]} again", resource=arn,
                        journal=ResourceChanged(res.type, arn, change=Change.DETACHED, attributes={"from": ent[key]}),
                    )
                )  # fmt: skip
        for v in iam.list_policy_versions(PolicyArn=arn).get("Versions", []):
            if not v.get("IsDefaultVersion"):
                actions.append(
                    Action("iam", "delete_policy_version", {"PolicyArn": arn, "VersionId": v["VersionId"]},
                           f"Delete old version {v['VersionId']} of policy {pol['PolicyName']}", resource=arn)
                )  # fmt: skip
        actions.append(
            Action(
                "iam", "delete_policy", {"PolicyArn": arn}, f"Delete IAM policy {pol['PolicyName']}",
                diff=removed_diff(doc, pol["PolicyName"]), undo="create it again from the document kept in the journal",
                resource=arn, journal=ResourceDeleted(res.type, arn, attributes={"document": as_doc(doc)}),
            )
        )  # fmt: skip
        return actions
