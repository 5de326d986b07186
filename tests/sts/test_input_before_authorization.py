"""AWS validates a request's input before it authorizes it (issue 14 §1): a caller with no permission at all gets
the ValidationError for a bad session name or duration, not AccessDenied; IAM paths with an empty segment are
refused (IAM identifiers, "Friendly names and paths")."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from console.services import user_principal
from core.context import CallContext
from core.errors import AccessDenied, ValidationError
from core.validation import PATH_MESSAGE
from identities import roles, services
from identities.models import Group, IamUser
from sts import services as sts

ROLE = "arn:aws:iam::111122223333:role/Nobody"


@pytest.fixture
def nobody(root_ctx) -> CallContext:
    return CallContext(user_principal(services.create_user(root_ctx, user_name="nobody")), origin="api")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role_session_name": "a"}, "Member must have length greater than or equal to 2"),
        ({"role_session_name": "x" * 65}, "Member must have length less than or equal to 64"),
        ({"role_session_name": "has space"}, "Member must satisfy regular expression pattern"),
        ({"role_session_name": "ok", "duration_seconds": 899}, "Member must have value greater than or equal to 900"),
        ({"role_session_name": "ok", "duration_seconds": 43201}, "Member must have value less than or equal to 43200"),
    ],
)
def test_assume_role_validates_before_it_authorizes(nobody, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        sts.assume_role(nobody, role_arn=ROLE, **kwargs)
    event = AuditEvent.objects.filter(event_name="AssumeRole").get()
    assert event.error_code == "ValidationError"


def test_root_gets_the_validation_error_first(root_ctx):
    with pytest.raises(ValidationError):
        sts.assume_role(root_ctx, role_arn=ROLE, role_session_name="a")
    with pytest.raises(AccessDenied, match="Roles may not be assumed by root accounts."):
        sts.assume_role(root_ctx, role_arn=ROLE, role_session_name="ok")


def test_a_valid_request_is_then_authorized(nobody):
    with pytest.raises(AccessDenied, match="is not authorized to perform: sts:AssumeRole"):
        sts.assume_role(nobody, role_arn=ROLE, role_session_name="ok")


@pytest.mark.parametrize("path", ["/a//b/", "/a//"])
def test_paths_with_an_empty_segment_are_refused(root_ctx, path):
    with pytest.raises(ValidationError) as info:
        services.create_user(root_ctx, user_name="u", path=path)
    assert info.value.message == PATH_MESSAGE
    with pytest.raises(ValidationError, match="The specified value for path is invalid"):
        services.create_group(root_ctx, group_name="g", path=path)
    trust = '{"Version": "2012-10-17", "Statement": []}'
    with pytest.raises(ValidationError, match="The specified value for path is invalid"):
        roles.create_role(root_ctx, role_name="r", assume_role_policy_document=trust, path=path)
    assert not IamUser.objects.exists() and not Group.objects.exists()


@pytest.mark.parametrize("path", ["a/", "/a", "a"])
def test_paths_must_begin_and_end_with_a_slash(root_ctx, path):
    with pytest.raises(ValidationError, match="Member must satisfy regular expression pattern"):
        services.create_user(root_ctx, user_name="u", path=path)


def test_good_paths_are_kept(root_ctx):
    assert services.create_user(root_ctx, user_name="u", path="/division/team/").path == "/division/team/"
