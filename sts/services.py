"""STS operations: AssumeRole (API and console Switch role), GetSessionToken, GetCallerIdentity.

Authorization of AssumeRole goes through the same engine call as everything else: ``policies.authz`` adds the
role's trust policy as the resource-based policy whenever the action is ``sts:AssumeRole*``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.crypto import salted_hmac

from audit.services import build_record, save_record
from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext, Principal
from core.errors import AccessDenied, IamError, LimitExceeded, ValidationError
from core.secrets import encrypt
from core.validation import check_input
from identities.credentials import verify_mfa_code
from identities.models import AccessKey, Role
from identities.roles import find_role_by_arn
from identities.services import Tag
from policies.documents import check_document, policy_size
from policies.models import ManagedPolicy
from sts.models import TemporaryCredential

SESSION_POLICY_MAX = 2048
CHAINING_MAX = 3600


class InvalidParameterValue(IamError):
    code, status = "InvalidParameterValue", 400


class ExpiredToken(IamError):
    code, status = "ExpiredToken", 400


@dataclass(frozen=True)
class IssuedCredentials:
    credential: TemporaryCredential
    secret_access_key: str  # returned once, never stored in clear
    session_token: str

    @property
    def access_key_id(self) -> str:
        return self.credential.access_key_id

    @property
    def expiration(self) -> datetime:
        return self.credential.expires_at


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_TOKEN_RANDOM, _TOKEN_MAC = 232, 32
_TOKEN_SALT = "iam-classroom.sts.session-token"


def _token_mac(access_key_id: str, random_part: bytes) -> bytes:
    return salted_hmac(_TOKEN_SALT, access_key_id.encode() + b"\0" + random_part, algorithm="sha256").digest()


def new_token(access_key_id: str = "") -> str:
    """A session token: random bytes and a MAC binding them to the session's access key ID, so that a token of a
    session since deleted is still recognised as ours (``token_issued_for``). Only its SHA-256 is stored."""
    random_part = secrets.token_bytes(_TOKEN_RANDOM)
    return base64.b64encode(random_part + _token_mac(access_key_id, random_part)).decode()


def token_issued_for(token: str, access_key_id: str) -> bool:
    """Whether ``token`` is a session token this deployment issued with ``access_key_id``."""
    try:
        raw = base64.b64decode(token, validate=True)
    except ValueError:
        return False
    if len(raw) != _TOKEN_RANDOM + _TOKEN_MAC:
        return False
    return hmac.compare_digest(raw[_TOKEN_RANDOM:], _token_mac(access_key_id, raw[:_TOKEN_RANDOM]))


def mint_credentials(*, issued_at: datetime | None = None, **fields: object) -> IssuedCredentials:
    """A new temporary credential: an ``ASIA`` key ID, a secret (stored encrypted) and a session token bound to the
    key ID (stored as a hash), saved with ``fields`` (account, kind, ARN, expiry, policies…). ``issued_at`` defaults to
    now. The one place STS, federation, instance roles and AssumeRoot make credentials."""
    access_key_id = ids.new_access_key_id("ASIA")
    secret, token = ids.new_secret_access_key(), new_token(access_key_id)
    credential = TemporaryCredential.objects.create(
        access_key_id=access_key_id,
        secret_encrypted=encrypt(secret),
        session_token_hash=token_hash(token),
        issued_at=issued_at or clock.now(),
        **fields,
    )
    return IssuedCredentials(credential, secret, token)


def credentials_record(credential: TemporaryCredential) -> dict[str, str]:
    """The ``credentials`` of a CloudTrail response element: the key ID and expiry, never the secret or the token."""
    return {
        "accessKeyId": credential.access_key_id,
        "expiration": credential.expires_at.strftime("%b %d, %Y, %-I:%M:%S %p"),
    }


def assumed_role_record(credential: TemporaryCredential) -> dict[str, object]:
    """AssumeRole's CloudTrail response element (and its web identity and SAML forms)."""
    return {
        "credentials": credentials_record(credential),
        "assumedRoleUser": {"assumedRoleId": credential.principal_id, "arn": credential.arn},
    }


def assume_role(
    ctx: CallContext,
    *,
    role_arn: str,
    role_session_name: str,
    duration_seconds: int | None = None,
    external_id: str | None = None,
    serial_number: str | None = None,
    token_code: str | None = None,
    policy: str | None = None,
    policy_arns: Sequence[str] = (),
    tags: Sequence[Tag] = (),
    transitive_tag_keys: Sequence[str] = (),
    source_identity: str | None = None,
    via_console: bool = False,
) -> IssuedCredentials:
    caller = ctx.principal
    params = {
        "roleArn": role_arn,
        "roleSessionName": role_session_name,
        "durationSeconds": duration_seconds,
        "externalId": external_id,
        "serialNumber": serial_number,
        "sourceIdentity": source_identity,
        "policyArns": [{"arn": a} for a in policy_arns] or None,
        "tags": [t.as_dict() for t in tags] or None,
        "transitiveTagKeys": list(transitive_tag_keys) or None,
    }
    condition_context: dict[str, object] = {"sts:RoleSessionName": role_session_name}
    if transitive_tag_keys:
        condition_context["sts:TransitiveTagKeys"] = list(transitive_tag_keys)
    if external_id is not None:
        condition_context["sts:ExternalId"] = external_id
    if source_identity is not None:
        condition_context["sts:SourceIdentity"] = source_identity
    if tags:
        condition_context["aws:TagKeys"] = [t.key for t in tags]
        for tag in tags:
            condition_context[f"aws:RequestTag/{tag.key}"] = tag.value

    def validate() -> None:
        # STS checks the input shape (session name 2-64 characters of [\w+=,.@-], DurationSeconds 900-43200, ...)
        # before anything else: a bad request is a ValidationError whoever sends it and whatever they may do.
        check_input(
            "sts",
            "AssumeRole",
            RoleArn=role_arn,
            RoleSessionName=role_session_name,
            DurationSeconds=duration_seconds,
            ExternalId=external_id,
            SerialNumber=serial_number,
            TokenCode=token_code,
            Policy=policy,
            SourceIdentity=source_identity,
            Tags=[t.as_dict() for t in tags] or None,
            TransitiveTagKeys=list(transitive_tag_keys) or None,
        )

    if caller.is_root and not via_console:
        validate()
        # AWS refuses role assumption with root credentials.
        raise AccessDenied("Roles may not be assumed by root accounts.")
    if token_code is not None or serial_number is not None:
        validate()  # a malformed token code is a ValidationError, not an MFA failure
    mfa_at = _verified_mfa(ctx, serial_number, token_code)
    if mfa_at is not None:
        condition_context["aws:MultiFactorAuthPresent"] = "true"
        condition_context["aws:MultiFactorAuthAge"] = str(int((clock.now() - mfa_at).total_seconds()))
    with iam_call(
        ctx, "sts:AssumeRole", role_arn, params, condition_context=condition_context, validate=validate
    ) as call:
        session_tags, transitive = _chained_tags(caller, tags, transitive_tag_keys)
        role = find_role_by_arn(role_arn)
        if role is None:  # authorization already refused unknown roles; a race with DeleteRole lands here
            raise AccessDenied(
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            )
        chained = caller.type == "AssumedRole"
        duration = session_duration(role, duration_seconds, chained)
        session_arns = session_policy_arns(policy_arns, policy)
        now = clock.now()
        issued = mint_credentials(
            account_id=role.account_id,
            kind=TemporaryCredential.KIND_ROLE,
            role=role,
            user_id=caller.user_pk,
            source_arn=caller.arn,
            session_name=role_session_name,
            arn=arns.assumed_role(role.account_id, role.name, role_session_name),
            principal_id=f"{role.role_id}:{role_session_name}",
            issued_at=now,
            expires_at=now + timedelta(seconds=duration),
            session_policy=policy or "",
            session_policy_arns=session_arns,
            session_tags=session_tags,
            transitive_tag_keys=transitive,
            source_identity=source_identity or "",
            mfa_authenticated_at=mfa_at or (caller.mfa_authenticated_at if via_console else None),
            chained=chained,
            via_console=via_console,
        )
        call.resources = [{"ARN": role.arn, "accountId": role.account_id, "type": "AWS::IAM::Role"}]
        call.response = assumed_role_record(issued.credential)
        return issued


def _chained_tags(
    caller: Principal, tags: Sequence[Tag], transitive_tag_keys: Sequence[str]
) -> tuple[list[dict[str, str]], list[str]]:
    """The new session's tags and transitive keys (AWS's "Chaining roles with session tags"): transitive keys must
    name requested tags; a role session's transitive tags pass on to the session it assumes, and may not be set
    again there."""
    requested = {t.key.lower() for t in tags}
    if not {k.lower() for k in transitive_tag_keys} <= requested:
        raise InvalidParameterValue("The specified transitive tag key must be included in the requested tags.")
    inherited: list[dict[str, str]] = []
    inherited_keys: list[str] = []
    if caller.type == "AssumedRole" and caller.session_pk is not None:
        parent = TemporaryCredential.objects.filter(pk=caller.session_pk).first()
        if parent is not None and parent.transitive_tag_keys:
            keys = {k.lower() for k in parent.transitive_tag_keys}
            if keys & requested:
                raise InvalidParameterValue(
                    "One of the specified transitive tag keys can't be set because it conflicts with a transitive "
                    "tag key from the calling session."
                )
            inherited = [t for t in parent.session_tags if t["Key"].lower() in keys]
            inherited_keys = [t["Key"] for t in inherited]
    own_keys = [t.key for t in tags if t.key.lower() in {k.lower() for k in transitive_tag_keys}]
    return [*inherited, *(t.as_dict() for t in tags)], [*inherited_keys, *own_keys]


def session_duration(role: Role, requested: int | None, chained: bool) -> int:
    duration = requested if requested is not None else 3600
    if chained and duration > CHAINING_MAX:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    if duration > role.max_session_duration:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return duration


def session_policy_arns(policy_arns: Sequence[str], policy: str | None) -> list[str]:
    if len(policy_arns) > 10:
        raise ValidationError(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
            "Member must have length less than or equal to 10"
        )
    if policy is not None:
        check_document(policy, kind="session")
    known = set(ManagedPolicy.objects.filter(arn__in=list(policy_arns)).values_list("arn", flat=True))
    for arn in policy_arns:
        if arn not in known:
            raise ValidationError(f"Policy {arn} does not exist or is not attachable.")
    if policy is not None and policy_size(policy) > SESSION_POLICY_MAX:
        raise LimitExceeded("Cannot exceed quota for PolicySize: 2048")
    return list(policy_arns)


def _verified_mfa(ctx: CallContext, serial_number: str | None, token_code: str | None) -> datetime | None:
    if not serial_number and not token_code:
        return None
    if not serial_number or not token_code:
        raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    if not verify_mfa_code(ctx.account_id, ctx.principal.user_pk, serial_number, token_code):
        raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    return clock.now()


def principal_for(credential: TemporaryCredential) -> Principal:
    """The principal a role session acts as. Refuses expired sessions at the moment of use."""
    if credential.expires_at <= clock.now():
        raise ExpiredToken("The security token included in the request is expired")
    if credential.kind == TemporaryCredential.KIND_ROOT_TASK:
        base = Principal.root(credential.account_id)
        return Principal(
            base.type,
            base.account_id,
            base.arn,
            base.name,
            base.principal_id,
            session_pk=credential.pk,
            token_issued_at=credential.issued_at,
        )
    if credential.kind == TemporaryCredential.KIND_FEDERATED:
        return Principal(
            "FederatedUser",
            credential.account_id,
            credential.arn,
            credential.session_name,
            credential.principal_id,
            user_pk=credential.user_id,
            session_pk=credential.pk,
            token_issued_at=credential.issued_at,
        )
    return Principal(
        "AssumedRole",
        credential.account_id,
        credential.arn,
        credential.session_name,
        credential.principal_id,
        role_pk=credential.role_id,
        session_pk=credential.pk,
        mfa_authenticated=credential.mfa_authenticated_at is not None,
        mfa_authenticated_at=credential.mfa_authenticated_at,
        token_issued_at=credential.issued_at,
    )


def get_caller_identity(ctx: CallContext) -> dict[str, str]:
    """GetCallerIdentity needs no permission and an explicit deny does not block it; like every STS call, it is
    recorded (CloudTrail "captures all API calls for IAM and AWS STS")."""
    p = ctx.principal
    save_record(ctx, build_record(ctx, event_source="sts.amazonaws.com", event_name="GetCallerIdentity"))
    return {"UserId": p.principal_id, "Account": p.account_id, "Arn": p.arn}


def expire_sessions() -> int:
    """Beat: mark sessions past their expiration and record an audit event for each (refusal does not wait
    for this: ``principal_for`` checks the time on every use)."""
    now = clock.now()
    count = 0
    with transaction.atomic():
        due = list(
            TemporaryCredential.objects.select_for_update(skip_locked=True).filter(
                expires_at__lte=now, expired_marked_at__isnull=True
            )[:1000]
        )
        for credential in due:
            system = CallContext(
                Principal(
                    "AssumedRole",
                    credential.account_id,
                    credential.arn,
                    credential.session_name,
                    credential.principal_id,
                ),
                source_ip="AWS Internal",
                user_agent="AWS Internal",
                origin="system",
                access_key_id=credential.access_key_id,
            )
            record = build_record(
                system,
                event_source="sts.amazonaws.com",
                event_name="SessionExpired",
                event_type="AwsServiceEvent",
                additional={"expiration": credential.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            save_record(system, record, resource_arn=credential.role.arn if credential.role_id else "")
            credential.expired_marked_at = now
            credential.save(update_fields=["expired_marked_at"])
            count += 1
    return count


SWITCH_COLORS = {"red": "F2B0A9", "orange": "FBBF93", "yellow": "FAD791", "green": "B7CA9D", "blue": "99BCE3"}


def switch_role(
    user_ctx: CallContext, *, account_id: str, role_name: str, session_seconds_left: int
) -> TemporaryCredential:
    """Console Switch role: AssumeRole as the signed-in IAM user (always with the user's own credentials), the
    session named after the user, lasting the role's maximum but never beyond the console session."""
    user = user_ctx.principal
    if user.type != "IAMUser":
        raise AccessDenied("Root users cannot switch roles. Sign in as an IAM user to switch roles.")
    if len(role_name) > 64:
        raise ValidationError("The role name including its path can't be longer than 64 characters.")
    path, _, name = role_name.rpartition("/")
    role = Role.objects.in_account(account_id).named(name).first() if account_id.isdigit() else None
    role_arn = role.arn if role else arns.role(account_id, f"/{path}/" if path else "/", name)
    if role is not None and _requires_external_id(role):
        raise AccessDenied("Roles that require an external ID can't be used with Switch role in the console.")
    duration = max(900, min(role.max_session_duration if role else 3600, session_seconds_left))
    issued = assume_role(
        user_ctx, role_arn=role_arn, role_session_name=user.name, duration_seconds=duration, via_console=True
    )
    switched = principal_for(issued.credential)
    record = build_record(
        CallContext(switched, source_ip=user_ctx.source_ip, user_agent=user_ctx.user_agent),
        event_source="signin.amazonaws.com",
        event_name="SwitchRole",
        event_type="AwsConsoleSignIn",
        response_elements={"SwitchRole": "Success"},
        additional={"SwitchFrom": user.arn, "RedirectTo": "/"},
    )
    record.pop("sessionCredentialFromConsole", None)
    save_record(
        CallContext(switched, source_ip=user_ctx.source_ip, user_agent=user_ctx.user_agent),
        record,
        resource_arn=role_arn,
    )
    return issued.credential


def _requires_external_id(role: Role) -> bool:
    return "sts:externalid" in role.assume_role_policy.lower()


# ---- GetSessionToken and GetAccessKeyInfo (added for the Query API, issue 6) ----------------------------------

SESSION_TOKEN_DEFAULT = {"Root": 3600, "IAMUser": 43200}
SESSION_TOKEN_MAX = {"Root": 3600, "IAMUser": 129600}


def get_session_token(
    ctx: CallContext,
    *,
    duration_seconds: int | None = None,
    serial_number: str | None = None,
    token_code: str | None = None,
) -> IssuedCredentials:
    """GetSessionToken: temporary credentials that act as the calling user (or root), with MFA when a code is
    given. It needs no permission and no policy can restrict it; session credentials may not call it."""
    caller = ctx.principal
    params = {"durationSeconds": duration_seconds, "serialNumber": serial_number}

    def audit(error: IamError | None = None, response: dict[str, object] | None = None) -> None:
        record = build_record(
            ctx,
            event_source="sts.amazonaws.com",
            event_name="GetSessionToken",
            request_parameters={k: v for k, v in params.items() if v is not None} or None,
            response_elements=response,
            error_code=error.code if error else "",
            error_message=error.message if error else "",
        )
        save_record(ctx, record)

    try:
        if caller.type == "AssumedRole" or caller.session_pk is not None:
            raise AccessDenied("Cannot call GetSessionToken with session credentials")
        check_input(
            "sts", "GetSessionToken", DurationSeconds=duration_seconds, SerialNumber=serial_number, TokenCode=token_code
        )
        duration = duration_seconds if duration_seconds is not None else SESSION_TOKEN_DEFAULT[caller.type]
        duration = min(duration, SESSION_TOKEN_MAX[caller.type])  # root's sessions are capped at one hour
        mfa_at = _verified_mfa(ctx, serial_number, token_code)
    except IamError as exc:
        audit(error=exc)
        raise
    now = clock.now()
    with transaction.atomic():
        issued = mint_credentials(
            account_id=caller.account_id,
            kind=TemporaryCredential.KIND_SESSION_TOKEN,
            user_id=caller.user_pk,
            source_arn=caller.arn,
            arn=caller.arn,
            principal_id=caller.principal_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=duration),
            mfa_authenticated_at=mfa_at,
        )
        audit(response={"credentials": credentials_record(issued.credential)})
    return issued


def get_access_key_info(ctx: CallContext, *, access_key_id: str) -> str:
    """GetAccessKeyInfo: the account that owns a long-term (AKIA…) or temporary (ASIA…) access key."""
    with iam_call(ctx, "sts:GetAccessKeyInfo", "*", {"accessKeyId": access_key_id}):
        check_input("sts", "GetAccessKeyInfo", AccessKeyId=access_key_id)
        account = (
            AccessKey.objects.filter(access_key_id=access_key_id).values_list("account_id", flat=True).first()
            or TemporaryCredential.objects.filter(access_key_id=access_key_id)
            .values_list("account_id", flat=True)
            .first()
        )
        if account is None:
            raise ValidationError(
                f"1 validation error detected: Value '{access_key_id}' at 'accessKeyId' failed "
                "to satisfy constraint: Member must be an access key ID of this partition"
            )
        return account


# ---- A service assuming a role (EC2 for an instance profile's role, issue 17) -----------------------------------

SERVICE_SESSION_SECONDS = 6 * 3600  # what EC2 hands an instance: about six hours, rotated before they expire


def assume_role_for_service(
    *, service: str, role: Role, role_session_name: str, source_ip: str = "", duration_seconds: int | None = None
) -> IssuedCredentials:
    """An AWS service (``ec2.amazonaws.com``) assuming ``role`` for a resource it runs, as EC2 does for an instance
    profile's role: the role's trust policy must allow the service principal (the same engine decision as any
    AssumeRole, recorded with the service as the caller, CloudTrail's ``AWSService`` identity). The session is
    named after the resource (the instance ID); its duration is the service's, not bound by the role's maximum."""
    ctx = CallContext(
        Principal.service(role.account_id, service),
        source_ip=source_ip or service,
        user_agent=service,
        origin="system",
    )
    duration = duration_seconds or SERVICE_SESSION_SECONDS
    params = {"roleArn": role.arn, "roleSessionName": role_session_name, "durationSeconds": duration}
    with iam_call(
        ctx, "sts:AssumeRole", role.arn, params, condition_context={"sts:RoleSessionName": role_session_name}
    ) as call:
        now = clock.now()
        issued = mint_credentials(
            account_id=role.account_id,
            kind=TemporaryCredential.KIND_ROLE,
            role=role,
            source_arn=service,
            session_name=role_session_name,
            arn=arns.assumed_role(role.account_id, role.name, role_session_name),
            principal_id=f"{role.role_id}:{role_session_name}",
            issued_at=now,
            expires_at=now + timedelta(seconds=duration),
        )
        call.resources = [{"ARN": role.arn, "accountId": role.account_id, "type": "AWS::IAM::Role"}]
        call.response = assumed_role_record(issued.credential)
        return issued


# ---- GetFederationToken -----------------------------------------------------------------------------------------

FEDERATION_DEFAULT = 43200
FEDERATION_ROOT_MAX = 3600  # "Sessions obtained using root user credentials are restricted to one hour"


def federated_user_arn(account_id: str, name: str) -> str:
    return f"arn:{arns.PARTITION}:sts::{account_id}:federated-user/{name}"


def get_federation_token(
    ctx: CallContext,
    *,
    name: str,
    duration_seconds: int | None = None,
    policy: str | None = None,
    policy_arns: Sequence[str] = (),
    tags: Sequence[Tag] = (),
) -> IssuedCredentials:
    """GetFederationToken: a federated-user session of the calling IAM user (AWS's "Permissions for
    GetFederationToken"). Its permissions are the intersection of the user's identity policies and the session
    policies passed here; with none passed it has no permissions at all (the engine denies a FederatedUser without a
    session layer), and it can call no IAM or STS operation but GetCallerIdentity (``policies.authz``). It must be
    called with long-term credentials: session credentials are refused. AWS still lets the root user call it
    (discouraged), capped at one hour."""
    caller = ctx.principal
    arn = federated_user_arn(caller.account_id, name or "")
    params = {
        "name": name,
        "durationSeconds": duration_seconds,
        "policyArns": [{"arn": a} for a in policy_arns] or None,
        "tags": [t.as_dict() for t in tags] or None,
    }

    def validate() -> None:
        check_input(
            "sts",
            "GetFederationToken",
            Name=name,
            Policy=policy,
            DurationSeconds=duration_seconds,
            Tags=[t.as_dict() for t in tags] or None,
        )

    if caller.type != "Root" and (caller.type != "IAMUser" or caller.session_pk is not None):
        validate()
        raise AccessDenied("Cannot call GetFederationToken with session credentials")
    if caller.session_pk is not None:  # root's GetSessionToken credentials
        validate()
        raise AccessDenied("Cannot call GetFederationToken with session credentials")
    with iam_call(ctx, "sts:GetFederationToken", arn, params, validate=validate) as call:
        session_arns = session_policy_arns(policy_arns, policy)
        keys = [t.key.lower() for t in tags]
        if len(set(keys)) != len(keys):
            raise InvalidParameterValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        duration = duration_seconds if duration_seconds is not None else FEDERATION_DEFAULT
        if caller.is_root:
            duration = min(duration, FEDERATION_ROOT_MAX)
        now = clock.now()
        issued = mint_credentials(
            account_id=caller.account_id,
            kind=TemporaryCredential.KIND_FEDERATED,
            user_id=caller.user_pk,
            source_arn=caller.arn,
            session_name=name,
            arn=arn,
            principal_id=f"{caller.account_id}:{name}",
            issued_at=now,
            expires_at=now + timedelta(seconds=duration),
            session_policy=policy or "",
            session_policy_arns=session_arns,
            session_tags=[t.as_dict() for t in tags],
        )
        credential = issued.credential
        call.response = {
            "credentials": credentials_record(credential),
            "federatedUser": {"federatedUserId": credential.principal_id, "arn": credential.arn},
        }
        return issued


# ---- GetScopedCredentials ---------------------------------------------------------------------------------------

SCOPE_DOWN_MAX = 3


class InvalidSubjectCredentials(IamError):
    code, status = "InvalidSubjectCredentials", 400


class InsufficientSessionLifetime(IamError):
    code, status = "InsufficientSessionLifetime", 400


def get_scoped_credentials(
    ctx: CallContext,
    *,
    policy: str | None = None,
    duration_seconds: int | None = None,
    scoped_session_description: str | None = None,
) -> tuple[IssuedCredentials, int]:
    """GetScopedCredentials: new temporary credentials for the same identity (same ARN, same session) whose
    permissions are the caller's intersected with ``policy``; calls stack up to three scope-down policies. Only
    temporary credentials may call it; the result never outlives the calling session. Returns the credentials and
    the number of scope-down policies on them."""
    caller = ctx.principal
    params = {
        "durationSeconds": duration_seconds,
        "scopedSessionDescription": scoped_session_description,
    }

    def validate() -> None:
        check_input(
            "sts",
            "GetScopedCredentials",
            Policy=policy,
            DurationSeconds=duration_seconds,
            ScopedSessionDescription=scoped_session_description,
        )

    with iam_call(ctx, "sts:GetScopedCredentials", caller.arn, params, validate=validate) as call:
        if policy is None and duration_seconds is None:
            raise ValidationError("A request must provide at least one of Policy or DurationSeconds.")
        parent = (
            TemporaryCredential.objects.filter(pk=caller.session_pk).first() if caller.session_pk is not None else None
        )
        if parent is None:
            raise InvalidSubjectCredentials(
                "GetScopedCredentials must be called with temporary security credentials, not with long-term "
                "IAM user or root user credentials."
            )
        scopes = list(parent.scope_down_policies)
        if policy is not None:
            session_policy_arns([], policy)  # the same checks as a session policy (grammar, size)
            if len(scopes) >= SCOPE_DOWN_MAX:
                raise ValidationError(
                    f"The session already has {SCOPE_DOWN_MAX} scope-down policies, the most a session can have."
                )
            scopes.append(policy)
        now = clock.now()
        expires = parent.expires_at
        if duration_seconds is not None:
            if now + timedelta(seconds=duration_seconds) > parent.expires_at:
                raise InsufficientSessionLifetime(
                    "The requested DurationSeconds exceeds the remaining lifetime of the calling session."
                )
            expires = now + timedelta(seconds=duration_seconds)
        issued = mint_credentials(
            account_id=parent.account_id,
            kind=parent.kind,
            role=parent.role,
            user=parent.user,
            source_arn=parent.source_arn,
            session_name=parent.session_name,
            arn=parent.arn,
            principal_id=parent.principal_id,
            issued_at=parent.issued_at,  # the same session: aws:TokenIssueTime and revocation follow the original
            expires_at=expires,
            session_policy=parent.session_policy,
            session_policy_arns=parent.session_policy_arns,
            scope_down_policies=scopes,
            session_tags=parent.session_tags,
            transitive_tag_keys=parent.transitive_tag_keys,
            source_identity=parent.source_identity,
            mfa_authenticated_at=parent.mfa_authenticated_at,
            chained=parent.chained,
        )
        call.response = {"credentials": credentials_record(issued.credential), "scopedPoliciesCount": len(scopes)}
        return issued, len(scopes)
