"""The instance's role really works: credentials of the role in an instance's profile, as EC2 hands them to the
instance through its metadata service (IMDS), and the instance metadata documents themselves.

EC2 assumes the role as the service principal ``ec2.amazonaws.com`` (the role's trust policy must allow it, decided
by the engine like any AssumeRole and recorded as such), naming the session after the instance ID, so the
instance's calls appear in Event history as ``assumed-role/<role>/<instance-id>``. A session is kept with the
instance (``InstanceCredential``) and served again until it is due for rotation; a new association, or the
instance's termination, forgets it. Credentials already handed out stay valid until they expire, as in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing

from core import clock
from core.calls import batch
from core.context import CallContext
from core.errors import IamError
from core.secrets import decrypt, encrypt
from ec2.models import Instance, InstanceCredential
from identities.models import InstanceProfile, Role
from sts.services import assume_role_for_service, principal_for

ROTATE_BEFORE = timedelta(minutes=15)  # AWS makes new credentials available well before the old ones expire
TOKEN_SALT = "iam-classroom.ec2.imds-token"
TOKEN_MAX_TTL = 21600  # IMDSv2: a session token lives 1 to 21,600 seconds


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    token: str
    expiration: datetime
    last_updated: datetime
    role_name: str
    credential_pk: int


class NoCredentials(Exception):
    """Why an instance has no role credentials, in the words of the metadata service's ``Code``/``Message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def profile_and_role(instance: Instance) -> tuple[InstanceProfile | None, Role | None]:
    """The instance's profile (by its ID, in the instance's account) and the role in it, if any."""
    if not instance.profile_id:
        return None, None
    profile = InstanceProfile.objects.in_account(instance.account_id).filter(instance_profile_id=instance.profile_id)
    found = profile.first()
    if found is None:
        return None, None
    return found, found.roles.first()


def role_credentials(instance: Instance) -> RoleCredentials:
    """The credentials the instance's metadata service serves now: the kept session while it is not due for
    rotation, else a new one (an ``AssumeRole`` by ec2.amazonaws.com in the trail)."""
    if instance.state != "running":
        raise NoCredentials("InstanceNotRunning", f"The instance {instance.instance_id} is not running.")
    profile, role = profile_and_role(instance)
    if profile is None:
        raise NoCredentials("InstanceProfileNotFound", "The instance has no IAM instance profile.")
    if role is None:
        raise NoCredentials("InstanceProfileNotFound", f"The instance profile {profile.name} has no role.")
    kept = (
        InstanceCredential.objects.filter(
            instance=instance,
            profile_arn=instance.profile_arn,
            credential__role=role,
            credential__expires_at__gt=clock.now() + ROTATE_BEFORE,
        )
        .select_related("credential")
        .order_by("-credential__expires_at")
        .first()
    )
    if kept is None:
        try:
            with batch():
                issued = assume_role_for_service(
                    service="ec2.amazonaws.com",
                    role=role,
                    role_session_name=instance.instance_id,
                    source_ip="ec2.amazonaws.com",
                )
                kept = InstanceCredential.objects.create(
                    instance=instance,
                    credential=issued.credential,
                    session_token_encrypted=encrypt(issued.session_token),
                    profile_arn=instance.profile_arn,
                )
        except IamError:
            raise NoCredentials(
                "AssumeRoleUnauthorizedAccess",
                f"EC2 cannot assume the role {role.name}. Please see documentation at "
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html.",
            ) from None
    credential = kept.credential
    return RoleCredentials(
        access_key_id=credential.access_key_id,
        secret_access_key=decrypt(credential.secret_encrypted),
        token=decrypt(kept.session_token_encrypted),
        expiration=credential.expires_at,
        last_updated=credential.issued_at,
        role_name=role.name,
        credential_pk=credential.pk,
    )


def instance_context(instance: Instance, *, user_agent: str) -> CallContext:
    """The CallContext of a call made on the instance with its role's credentials (the "Run as this instance"
    panel): the role session, from the instance's address, with its access key ID, as an API call."""
    creds = role_credentials(instance)
    credential = InstanceCredential.objects.select_related("credential").get(credential_id=creds.credential_pk)
    return CallContext(
        principal_for(credential.credential),
        source_ip=instance.private_ip,
        user_agent=user_agent,
        origin="api",
        access_key_id=creds.access_key_id,
    )


# ---- IMDSv2 session tokens ------------------------------------------------------------------------------------


def new_metadata_token(instance: Instance, ttl_seconds: int) -> str:
    """A session token of the instance's metadata service (IMDSv2's PUT /latest/api/token), good for this
    instance only and for ``ttl_seconds``."""
    expires = int((clock.now() + timedelta(seconds=ttl_seconds)).timestamp())
    return signing.dumps({"i": instance.instance_id, "e": expires}, salt=TOKEN_SALT, compress=True)


def metadata_token_valid(instance: Instance, token: str) -> bool:
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return False
    return data.get("i") == instance.instance_id and int(data.get("e", 0)) > clock.now().timestamp()


def machine_key(instance: Instance) -> str:
    """The instance's own key in its metadata address for tools off the console (boto3, the CLI): holding it is
    being on the instance, as a shell on a real instance reaches 169.254.169.254."""
    return signing.Signer(salt="iam-classroom.ec2.imds-address").signature(
        f"{instance.account_id}/{instance.instance_id}"
    )
