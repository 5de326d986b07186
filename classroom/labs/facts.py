"""``AccountFacts``: what lab checks may look at in one account, read-only and scoped to that account.

Three sources, as the issue asks: the account's real IAM state (users, groups, roles, policies, credentials),
its audit trail (events since the lab started), and the policy engine (what a principal could do, what a trust
policy admits), through the same evaluation path as the simulator (``policies.simulator``). Lookups are
cached per instance: one refresh builds one ``AccountFacts`` and runs every check of every lab against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from classroom.models import ACCESS_ROLE_NAME, StudentSeat
from core.context import CallContext, Principal
from core.errors import NoSuchEntity
from ec2 import services as ec2
from ec2.instance_credentials import profile_and_role
from ec2.models import Instance
from identities.models import Group, IamUser, InstanceProfile, LoginProfile, MfaDevice, Role
from policies.engine.cli import CaseError, build_policies, build_principal, build_request, evaluate_case
from policies.engine.evaluate import TRUST_ACTIONS, PolicySet, evaluate
from policies.models import InlinePolicy, ManagedPolicy, PolicyVersion
from policies.simulator import Simulation, principal_simulation
from s3 import services as s3
from s3.models import Bucket

Decision = str  # "Allow" | "ExplicitDeny" | "ImplicitDeny"
TEAM_BUCKET_PREFIX = "team-bucket-"


def team_bucket_name(account_id: str) -> str:
    """The labs' team bucket of an account. Bucket names are global per deployment, as in AWS
    (docs/architecture.md), so every student's is its own: ``team-bucket-<account ID>``."""
    return f"{TEAM_BUCKET_PREFIX}{account_id}"


def user_context(user: IamUser) -> CallContext:
    """A call by the user with access keys (no MFA), as the S3 and EC2 services would decide it."""
    return CallContext(
        Principal("IAMUser", user.account_id, user.arn, user.name, user.user_id, user_pk=user.pk), origin="api"
    )


def role_session_context(role: Role, session_name: str) -> CallContext:
    """A call by a session of the role (no session policy), as the S3 and EC2 services would decide it."""
    arn = f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}"
    principal = Principal(
        "AssumedRole", role.account_id, arn, session_name, f"{role.role_id}:{session_name}", role_pk=role.pk
    )
    return CallContext(principal, origin="api")


def _lower(names: Iterable[str]) -> set[str]:
    return {n.lower() for n in names}


class AccountFacts:
    def __init__(self, account_id: str, *, since: datetime | None = None, seat: StudentSeat | None = None) -> None:
        self.account_id = account_id
        self.since = since  # the lab's start (the account's last reset): the trail before it does not count
        if seat is not None:  # the caller read it already (with its classroom_id and number)
            self.__dict__["_seat"] = seat
        self._simulations: dict[tuple[str, str], Simulation | None] = {}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per facts object (one refresh): for what several checks of a lab share."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @cached_property
    def _memo(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------------------------------ entities

    def user(self, name: str) -> IamUser | None:
        return self._users_by_name.get(name.lower())

    @cached_property
    def _users_by_name(self) -> dict[str, IamUser]:
        return {u.name.lower(): u for u in IamUser.objects.in_account(self.account_id)}

    def users(self) -> list[IamUser]:
        return list(self._users_by_name.values())

    # A refresh runs every lab's checks, which ask for the same few entities and the partner again and again (45
    # queries per refresh, most of them repeats): each is read once per facts object.

    # A lab account has a handful of groups, roles and policies of its own, and the checks ask for many of them by
    # name: each kind is read whole, once, and looked up by its lower-cased name (IAM names are unique that way).

    def group(self, name: str) -> Group | None:
        return self._groups_by_name.get(name.lower())

    @cached_property
    def _groups_by_name(self) -> dict[str, Group]:
        return {g.name.lower(): g for g in Group.objects.in_account(self.account_id)}

    def role(self, name: str) -> Role | None:
        return self._roles_by_name.get(name.lower())

    @cached_property
    def _roles_by_name(self) -> dict[str, Role]:
        return {r.name.lower(): r for r in Role.objects.in_account(self.account_id)}

    def roles(self, *, include_access_role: bool = False) -> list[Role]:
        roles = Role.objects.in_account(self.account_id).order_by("name")
        if not include_access_role:
            roles = roles.exclude(name=ACCESS_ROLE_NAME)
        return list(roles)

    def customer_policy(self, name: str) -> ManagedPolicy | None:
        return self._customer_policies_by_name.get(name.lower())

    @cached_property
    def _customer_policies_by_name(self) -> dict[str, ManagedPolicy]:
        return {p.name.lower(): p for p in ManagedPolicy.objects.customer_managed(self.account_id)}

    def instance_profile(self, name: str) -> InstanceProfile | None:
        return InstanceProfile.objects.filter(account_id=self.account_id, name__iexact=name).first()

    def instance_profiles_of(self, role_name: str) -> set[str]:
        return set(
            InstanceProfile.objects.filter(account_id=self.account_id, roles__name__iexact=role_name).values_list(
                "name", flat=True
            )
        )

    # ------------------------------------------------------------------------------------------ credentials

    def has_console_password(self, user_name: str) -> bool:
        return LoginProfile.objects.filter(user__account_id=self.account_id, user__name__iexact=user_name).exists()

    def login_profile(self, user_name: str) -> LoginProfile | None:
        return LoginProfile.objects.filter(user__account_id=self.account_id, user__name__iexact=user_name).first()

    def access_key_count(self, user_name: str) -> int:
        user = self.user(user_name)
        return 0 if user is None else user.access_keys.count()

    def has_mfa(self, user_name: str) -> bool:
        return MfaDevice.objects.filter(
            account_id=self.account_id, user__name__iexact=user_name, enabled_at__isnull=False
        ).exists()

    # ------------------------------------------------------------------------------------------ membership

    def members_of(self, group_name: str) -> set[str]:
        return _lower(
            IamUser.objects.in_account(self.account_id)
            .filter(memberships__group__name__iexact=group_name)
            .values_list("name", flat=True)
        )

    def groups_of(self, user_name: str) -> set[str]:
        """Lower-cased names of the user's groups."""
        return _lower(
            Group.objects.in_account(self.account_id)
            .filter(memberships__user__name__iexact=user_name)
            .values_list("name", flat=True)
        )

    # ------------------------------------------------------------------------------------------ policies

    def attached_policies(self, kind: str, name: str) -> list[ManagedPolicy]:
        """Managed policies attached directly to a user, group or role."""
        relation = {
            "user": "user_attachments__user",
            "group": "group_attachments__group",
            "role": "role_attachments__role",
        }[kind]
        return list(
            ManagedPolicy.objects.filter(
                **{f"{relation}__account_id": self.account_id, f"{relation}__name__iexact": name}
            ).order_by("name")
        )

    def attached_policy_names(self, kind: str, name: str) -> set[str]:
        return {p.name for p in self.attached_policies(kind, name)}

    def inline_policies(self, kind: str, name: str) -> dict[str, dict[str, Any]]:
        rows = InlinePolicy.objects.filter(account_id=self.account_id, **{f"{kind}__name__iexact": name})
        return {row.name: _json(row.document) for row in rows}

    def policy_document(self, policy: ManagedPolicy) -> dict[str, Any]:
        version = PolicyVersion.objects.filter(policy=policy, is_default=True).first()
        return {} if version is None else _json(version.document)

    def trust_policy(self, role_name: str) -> dict[str, Any]:
        role = self.role(role_name)
        return {} if role is None else _json(role.assume_role_policy)

    def customer_documents(self) -> list[tuple[str, dict[str, Any] | str]]:
        """Every policy document the account wrote: ``(where, document)`` for the default version of each
        customer managed policy and each inline policy (a text that is not JSON is returned as text)."""
        found: list[tuple[str, dict[str, Any] | str]] = []
        for name, text in PolicyVersion.objects.filter(policy__account_id=self.account_id, is_default=True).values_list(
            "policy__name", "document"
        ):
            found.append((f"policy {name}", _json(text) or text))
        for row in InlinePolicy.objects.filter(account_id=self.account_id).select_related("user", "group", "role"):
            owner = row.user or row.group or row.role
            kind = "user" if row.user_id else "group" if row.group_id else "role"
            found.append((f"inline policy {row.name} of {kind} {owner.name}", _json(row.document) or row.document))
        return found

    # ------------------------------------------------------------------------------------------ the engine

    def _simulation(self, kind: str, name: str) -> Simulation | None:
        key = (kind, name.lower())
        if key not in self._simulations:
            try:
                self._simulations[key] = principal_simulation(self.account_id, kind, name)
            except NoSuchEntity:
                self._simulations[key] = None
        return self._simulations[key]

    def decide(
        self, kind: str, name: str, action: str, resource: str = "*", context: Mapping[str, Any] | None = None
    ) -> Decision:
        """The engine's decision for a user (with its groups and boundary) or a session of a role. Keys the request
        derives from the principal (``aws:username``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``) are filled
        in as AWS would; ``context`` adds the rest (``aws:MultiFactorAuthPresent``, ``aws:CurrentTime``…).
        A principal that does not exist is denied implicitly."""
        simulation = self._simulation(kind, name)
        if simulation is None:
            return "ImplicitDeny"
        principal = simulation.principal
        derived = {
            "aws:PrincipalArn": principal.get("role_arn") or principal["arn"],
            "aws:PrincipalAccount": self.account_id,
            "aws:PrincipalType": principal["type"],
        }
        if kind == "user":
            derived["aws:username"] = principal["name"]
        case = simulation.case("lab", action, resource, {**derived, **(context or {})}, self.account_id)
        return self._evaluate(key=(kind, name.lower()), case=case)

    @cached_property
    def _policy_sets(self) -> dict[tuple[str, str, bool], PolicySet]:
        return {}

    def _evaluate(self, *, key: tuple[str, str], case: dict[str, Any]) -> Decision:
        """``evaluate_case`` with the principal's policies parsed and compiled once per facts object: a large
        managed policy (ReadOnlyAccess) costs milliseconds to parse and compile, and checks ask many questions."""
        try:
            request = build_request(case, build_principal(case["principal"]))
        except CaseError:
            return evaluate_case(case).get("decision", "ImplicitDeny")
        cache_key = (*key, request.action_lc in TRUST_ACTIONS)  # the resource policy parses as trust or not
        policies = self._policy_sets.get(cache_key)
        if policies is None:
            policies = self._policy_sets[cache_key] = build_policies(case, request, [])
        return evaluate(request, policies).outcome

    def can(
        self, kind: str, name: str, action: str, resource: str = "*", context: Mapping[str, Any] | None = None
    ) -> bool:
        return self.decide(kind, name, action, resource, context) == "Allow"

    def trust_admits(
        self,
        role_name: str,
        principal: Mapping[str, str],
        action: str = "sts:AssumeRole",
        context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Whether the role's trust policy lets ``principal`` assume it. ``principal`` is ``{"Service": "ec2…"}``,
        ``{"AWS": "<user, role or root ARN>"}`` or ``{"Federated": "<provider ARN>"}``. An AWS principal is taken
        to be allowed ``sts:AssumeRole*`` by its own policies, so a trust policy that names the whole account
        (which leaves the choice to those policies) admits it; whether a given user of this account really may
        assume the role is ``can_assume``."""
        role = self.role(role_name)
        if role is None:
            return False
        engine_principal, account = _engine_principal(*next(iter(principal.items())))
        case = {
            "id": "trust",
            "principal": engine_principal,
            "identity_policies": [],
            "resource_policy": _json(role.assume_role_policy) or role.assume_role_policy,
            "resource_account": self.account_id,
            "request": {"action": action, "resource": role.arn, "context": dict(context or {})},
        }
        if account:
            case["identity_policies"] = [
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole*", "Resource": "*"}],
                }
            ]
        return evaluate_case(case).get("decision") == "Allow"

    def can_assume(self, user_name: str, role_name: str, context: Mapping[str, Any] | None = None) -> bool:
        """Whether the user may assume the role as AWS decides it in one account: the user's own policies (with
        groups and boundary) and the role's trust policy, together."""
        role, simulation = self.role(role_name), self._simulation("user", user_name)
        if role is None or simulation is None:
            return False
        principal = simulation.principal
        derived = {
            "aws:PrincipalArn": principal["arn"],
            "aws:PrincipalAccount": self.account_id,
            "aws:username": principal["name"],
        }
        case = simulation.case("lab", "sts:AssumeRole", role.arn, {**derived, **(context or {})}, self.account_id)
        case["resource_policy"] = _json(role.assume_role_policy) or role.assume_role_policy
        return evaluate_case(case).get("decision") == "Allow"

    def document_allows(
        self, document: dict[str, Any] | str, action: str, resource: str, context: Mapping[str, Any] | None = None
    ) -> bool:
        """Whether one identity policy document, alone, allows the request (for "no policy allows X" checks)."""
        case = {
            "id": "doc",
            "principal": {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::{self.account_id}:user/lab-probe",
                "account": self.account_id,
                "name": "lab-probe",
            },
            "identity_policies": [document],
            "resource_account": self.account_id,
            "request": {
                "action": action,
                "resource": resource,
                "context": {"aws:username": "lab-probe", **(context or {})},
            },
        }
        return evaluate_case(case).get("decision") == "Allow"

    # ------------------------------------------------------------------------------------------ S3 and EC2

    def bucket(self, name: str) -> Bucket | None:
        """A bucket of this account (another account's bucket of that name is none of the lab's business)."""
        if name not in self._buckets:
            self._buckets[name] = Bucket.objects.in_account(self.account_id).filter(name=name).first()
        return self._buckets[name]

    @cached_property
    def _buckets(self) -> dict[str, Bucket | None]:
        return {}

    def team_bucket(self) -> Bucket | None:
        return self.bucket(team_bucket_name(self.account_id))

    def s3_decision(self, ctx: CallContext, action: str, bucket_name: str, key: str | None = None) -> Decision:
        """What the S3 service's engine decision would be for the caller's ``action`` on this account's bucket (or
        an object of it): its owner, its bucket policy, the object's tags — the call's own decision, not made. A
        bucket the account does not have yet is decided as the account's own bucket with no bucket policy."""
        bucket = self.bucket(bucket_name) or Bucket(name=bucket_name, account_id=self.account_id)
        return str(s3.decision(ctx, action, bucket, key).outcome)

    def user_s3_decision(self, user_name: str, action: str, bucket_name: str, key: str | None = None) -> Decision:
        user = self.user(user_name)
        return "ImplicitDeny" if user is None else self.s3_decision(user_context(user), action, bucket_name, key)

    def bucket_policy_admits(self, bucket_name: str, principal_arn: str, action: str, key: str | None = None) -> bool:
        """Whether the bucket policy of this account's bucket, alone, admits the AWS principal (an account's root,
        a user or a role, of any account) to ``action``: its own account's policies are taken to allow it, so this
        is the bucket's side of a cross-account request."""
        bucket = self.bucket(bucket_name)
        if bucket is None or not bucket.policy:
            return False
        engine_principal, _ = _engine_principal("AWS", principal_arn)
        case = {
            "id": "bucket-policy",
            "principal": engine_principal,
            "identity_policies": [
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            ],
            "resource_policy": _json(bucket.policy) or bucket.policy,
            "resource_account": self.account_id,
            "request": {
                "action": action,
                "resource": s3.bucket_arn(bucket_name) if key is None else s3.object_arn(bucket_name, key),
                "context": {},
            },
        }
        return evaluate_case(case).get("decision") == "Allow"

    def instances(self, *, live: bool = True) -> list[Instance]:
        """The account's instances, oldest first; ``live``: not terminated nor shutting down."""
        if live not in self._instances:
            rows = Instance.objects.filter(account_id=self.account_id).order_by("launched_at", "pk")
            if live:
                rows = rows.exclude(state__in=("terminated", "shutting-down"))
            self._instances[live] = list(rows)
        return self._instances[live]

    @cached_property
    def _instances(self) -> dict[bool, list[Instance]]:
        return {}

    def instance_role(self, instance: Instance) -> Role | None:
        return profile_and_role(instance)[1]

    def instance_context(self, instance: Instance) -> CallContext | None:
        """The call context of the instance's role credentials (the session EC2 names after the instance ID), if
        EC2 may assume the instance's role: the decision those credentials' calls would get, with none issued."""
        role = self.instance_role(instance)
        if role is None or not self.trust_admits(role.name, {"Service": ec2.EC2_PRINCIPAL}):
            return None
        return role_session_context(role, instance.instance_id)

    def instance_decision(
        self, user_name: str, action: str, instance: Instance, tags: Mapping[str, str] | None = None
    ) -> Decision:
        """The EC2 service's engine decision for the user's ``action`` on the instance, with its tags (and the
        request's ``tags``, for CreateTags)."""
        user = self.user(user_name)
        if user is None:
            return "ImplicitDeny"
        request_tags = [ec2.Tag(k, v) for k, v in (tags or {}).items()]
        return str(ec2.instance_decision(user_context(user), action, instance, request_tags).outcome)

    # ------------------------------------------------------------------------------------------ the trail

    def events(
        self, *, name: str | None = None, username: str | None = None, succeeded: bool | None = None
    ) -> QuerySet[AuditEvent]:
        """Audit events of the account since the lab started, oldest first (delivered or not)."""
        events = AuditEvent.objects.filter(account_id=self.account_id)
        if self.since is not None:
            events = events.filter(event_time__gte=self.since)
        if name is not None:
            events = events.filter(event_name=name)
        if username is not None:
            events = events.filter(username__iexact=username)
        # A failed console sign-in carries no errorCode: CloudTrail puts "Failure" in its responseElements.
        failure = ~Q(error_code="") | Q(record__responseElements__ConsoleLogin="Failure")
        if succeeded is True:
            events = events.exclude(failure)
        elif succeeded is False:
            events = events.filter(failure)
        return events.order_by("event_time", "pk")

    # ------------------------------------------------------------------------------------------ the class

    def partner_account_id(self) -> str | None:
        """The lab partner's account: the next student by seat number in the same class, the last seat's partner
        being the first. None outside a class and in a class of one. Checks may ask the partner's account yes/no
        questions (the system runs them) but must never show its contents to the student."""
        return self.memo("partner", self._partner_account_id)

    @cached_property
    def _seat(self) -> StudentSeat | None:
        return StudentSeat.objects.filter(account_id=self.account_id).only("classroom_id", "number").first()

    def _partner_account_id(self) -> str | None:
        seat = self._seat
        if seat is None:
            return None
        seats = StudentSeat.objects.filter(classroom_id=seat.classroom_id)
        partner = (
            seats.filter(number__gt=seat.number).order_by("number").values_list("account_id", flat=True).first()
            or seats.order_by("number").values_list("account_id", flat=True).first()
        )
        return None if partner == self.account_id else partner

    def partner_principals(self, *, include_access_role: bool = True) -> list[str]:
        """The partner account's root and its users and roles (up to 100 each), as a policy of this account may
        name them (labs 7 and 11); ``include_access_role``: the class's OrganizationAccountAccessRole too."""
        partner = self.partner_account_id()
        if partner is None:
            return []

        def read() -> list[str]:
            roles = Role.objects.in_account(partner)
            if not include_access_role:
                roles = roles.exclude(name=ACCESS_ROLE_NAME)
            arns = [f"arn:aws:iam::{partner}:root"]
            arns += IamUser.objects.in_account(partner).order_by("pk").values_list("arn", flat=True)[:100]
            arns += roles.order_by("pk").values_list("arn", flat=True)[:100]
            return arns

        return self.memo(f"partner-principals:{include_access_role}", read)

    def classmates_named_in(self, text: str) -> list[str]:
        """Classmates other than the partner whose account ID ``text`` (a policy) names: one of theirs could get in."""
        seat = self._seat
        if seat is None:
            return []
        partner = self.partner_account_id()
        accounts = StudentSeat.objects.filter(classroom_id=seat.classroom_id).order_by("number")
        return [
            a
            for a in accounts.values_list("account_id", flat=True)
            if a not in (self.account_id, partner) and a in text
        ]


def _engine_principal(kind: str, value: str) -> tuple[dict[str, Any], str]:
    """The engine's principal for a policy ``Principal`` entry (``Service``, ``Federated`` or ``AWS``), and its
    account ("" for a service or a federated identity)."""
    if kind == "Service":
        return {"type": "AWSService", "arn": value}, ""
    if kind == "Federated":
        return {"type": "WebIdentityUser", "arn": value, "provider": value}, ""
    account = value.split(":")[4] if value.count(":") >= 5 else value
    if value.endswith(":root"):
        return {"type": "Root", "arn": value, "account": account}, account
    if ":role/" in value:
        return {
            "type": "AssumedRole",
            "arn": value,
            "account": account,
            "role_arn": value,
            "session_name": "lab",
        }, account
    return {"type": "IAMUser", "arn": value, "account": account, "name": value.rsplit("/", 1)[-1]}, account


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
