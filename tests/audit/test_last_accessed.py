"""Last Accessed tabs come from delivered audit events."""

from __future__ import annotations

from audit import delivery
from identities import services
from policies import services as policy_services
from tests.console.test_user_signin import make_user, sign_in


def test_user_and_group_last_accessed(root_ctx, root_client, managed_policies, account, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    make_user(root_ctx, "alice", "IAMReadOnlyAccess", "AmazonS3ReadOnlyAccess")
    services.create_group(root_ctx, group_name="readers")
    services.add_user_to_group(root_ctx, group_name="readers", user_name="alice")
    policy_services.attach_group_policy(
        root_ctx, group_name="readers", policy_arn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
    )
    before = root_client.get("/iam/users/alice?tab=last_accessed").content.decode()
    assert "Not accessed in the tracking period" in before and "Amazon S3" in before
    client, _ = sign_in(account.id, "alice")
    client.get("/iam/users")  # alice uses IAM (ListUsers)
    delivery.deliver_pending()
    after = root_client.get("/iam/users/alice?tab=last_accessed").content.decode()
    iam_row = (
        after.split("Identity and Access Management")[1].split("</tr>")[0]
        if "Identity and Access Management" in after
        else after
    )
    assert "ago" in iam_row and "user/alice" in after
    group_page = root_client.get("/iam/groups/readers?tab=last_accessed").content.decode()
    assert "Amazon EC2" in group_page and "user/alice" in group_page


def test_role_sessions_count_as_use_of_the_role(root_ctx, managed_policies, tmp_path, settings):
    import json

    from console.services import user_principal
    from core.context import CallContext
    from identities import roles
    from identities.models import Role
    from sts import services as sts

    settings.DATA_DIR = tmp_path
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{root_ctx.account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    roles.create_role(root_ctx, role_name="Reader", assume_role_policy_document=trust)
    policy_services.attach_role_policy(
        root_ctx, role_name="Reader", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    user = services.create_user(root_ctx, user_name="erin")
    policy_services.put_user_policy(
        root_ctx,
        user_name="erin",
        policy_name="assume",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        ),
    )
    issued = sts.assume_role(
        CallContext(user_principal(user)),
        role_arn=f"arn:aws:iam::{root_ctx.account_id}:role/Reader",
        role_session_name="erin",
    )
    services.list_users(CallContext(sts.principal_for(issued.credential)))
    delivery.deliver_pending()
    role = Role.objects.get(name="Reader")
    assert role.last_used_at is not None
    from audit.models import ServiceLastAccessed

    assert ServiceLastAccessed.objects.filter(principal_arn=role.arn, service_namespace="iam").exists()
