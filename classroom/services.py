"""Classes as AWS Organizations: one function per action.

AWS actions go through ``iam_call`` under their Organizations names (``organizations:CreatePolicy`` …). Console-only
verbs of the classroom are authorized the same way under names in the same namespace, so an IAM user of the
management account with ``organizations:*`` (or AdministratorAccess) can run the class; they are not AWS actions:
``organizations:ResetAccount``, ``organizations:ResetAccountPassword``, ``organizations:GetHandout``,
``organizations:ClearHandout``, ``organizations:UpdateClass``.

Every lookup of a class is scoped by the caller's account (``class_for``): a student, or any other account, gets
``ClassNotFound`` (the views answer 404) before any authorization happens, so nothing is revealed.

Initial passwords (``create_class``, ``add_students``, ``reset_student_password``) are generated with about 87 bits
of entropy and hashed with a cheap Argon2 setting (``INITIAL_PASSWORD_ARGON2``): a slow hash protects guessable,
human-chosen passwords, and a random one needs none. That is what lets 40 accounts be created in well under a
second. The password must be changed at the first root sign-in, and the new one gets the full cost.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet

from audit.services import build_record, save_record
from classroom import progress
from classroom.errors import (
    AccountNotFoundException,
    ConstraintViolationException,
    DuplicateOrganizationalUnitException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
    OrganizationalUnitNotEmptyException,
    PolicyInUseException,
    PolicyNotAttachedException,
    PolicyNotFoundException,
    TargetNotFoundException,
)
from classroom.models import (
    ACCESS_ROLE_NAME,
    FULL_AWS_ACCESS_DOCUMENT,
    FULL_AWS_ACCESS_ID,
    FULL_AWS_ACCESS_NAME,
    Class,
    Instructor,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgRoot,
    PolicyAttachment,
    ServiceControlPolicy,
    StudentSeat,
)
from console.services import ACCOUNT_NAME_MAX, ROOT_EMAIL_MAX, create_account
from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.db import fetch_prepared
from core.errors import (
    AccessDenied,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ServiceFailure,
    ValidationError,
)
from core.passwords import hash_password, verify_password
from core.secrets import decrypt, encrypt
from identities import workflows
from identities.models import Account, IamUser, Role
from identities.passwords import check_password_policy
from identities.reset import KeptRole, delete_iam_state
from policies.documents import check_document, policy_size
from policies.models import ManagedPolicy, RolePolicyAttachment

if TYPE_CHECKING:
    from classroom.labs import Lab

MAX_STUDENTS = 200
SCP_MAX_SIZE = 5120
ADMINISTRATOR_ACCESS_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
# Argon2 for generated initial passwords only (see the module docstring): ~6 ms a hash instead of ~240 ms.
INITIAL_PASSWORD_ARGON2 = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_ALIAS_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){0,38}[a-z0-9]$|^[a-z0-9]$")


class ClassNotFound(NoSuchEntity):
    """No class with that ID is visible to the caller (views answer 404)."""


# ---------------------------------------------------------------------------------------------- identifiers


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_organization_id() -> str:
    return "o-" + _random(_LOWER_ALNUM, 10)


def new_root_id() -> str:
    return "r-" + _random(_LOWER_ALNUM, 4)


def new_unit_id(root_id: str) -> str:
    return f"ou-{root_id[2:]}-{_random(_LOWER_ALNUM, 8)}"


def new_policy_id() -> str:
    return "p-" + _random(_LOWER_ALNUM, 8)


def new_join_code() -> str:
    return _random(_CODE_ALPHABET, 8)


def format_join_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def generate_initial_password() -> str:
    """``Xk7pq-Rt2mz-Ab9cd``: easy to type from a paper handout, ~87 bits, passes the default password policy."""
    while True:
        password = "-".join(_random(_PASSWORD_ALPHABET, 5) for _ in range(3))
        if (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def _initial_hasher() -> PasswordHasher:
    return PasswordHasher(**getattr(settings, "CLASSROOM_INITIAL_PASSWORD_ARGON2", INITIAL_PASSWORD_ARGON2))


def hash_initial_password(password: str) -> str:
    # verify_password reads the cost from the hash itself, so these verify like any other.
    return _initial_hasher().hash(password)


def access_role_trust_policy(management_account_id: str) -> str:
    return (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'
        + arns.root(management_account_id)
        + '"},"Action":"sts:AssumeRole"}]}'
    )


# ---------------------------------------------------------------------------------------------- instructors


def is_instructor(account_id: str) -> bool:
    # Asked on every console page (the navigation): one prepared query.
    return bool(fetch_prepared(_IS_INSTRUCTOR, [account_id]))


_IS_INSTRUCTOR = f"SELECT 1 FROM {Instructor._meta.db_table} WHERE account_id = %s LIMIT 1"


def sign_up_instructor(*, email: str, password: str, name: str = "") -> Account:
    """Console-only: a new AWS account (its root user is the instructor) allowed to create classes."""
    email, name = email.strip().lower(), name.strip()
    if not email or "@" not in email or len(email) > ROOT_EMAIL_MAX:
        raise InvalidInput("Enter a valid email address.")
    if len(name) > ACCOUNT_NAME_MAX:  # it names the account too
        raise InvalidInput(f"Your name can have at most {ACCOUNT_NAME_MAX} characters.")
    check_password_policy("", password)
    with transaction.atomic():
        account = create_account(email=email, password=password, name=name)  # no name: the email's local part
        Instructor.objects.create(account=account, display_name=name, created_at=clock.now())
    return account


def make_instructor(account: Account, *, display_name: str = "") -> Instructor:
    instructor, _ = Instructor.objects.get_or_create(
        account=account, defaults={"display_name": display_name, "created_at": clock.now()}
    )
    return instructor


# ---------------------------------------------------------------------------------------------- lookups


def class_for(ctx: CallContext, class_id: str) -> Class:
    """The class, only if the caller's account is its management account."""
    found = (
        Class.objects.select_related("organization", "organization__root")
        .filter(organization_id=class_id, organization__management_account_id=ctx.account_id)
        .first()
    )
    if found is None:
        raise ClassNotFound(f"The class {class_id} cannot be found.")
    return found


def get_class(ctx: CallContext, class_id: str) -> Class:
    """DescribeOrganization (the class is the organization)."""
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:DescribeOrganization", classroom.organization.arn, {}, audited=False):
        return classroom


def list_classes(ctx: CallContext) -> QuerySet[Class]:
    """The classes this account manages (nobody else's)."""
    return (
        Class.objects.filter(organization__management_account_id=ctx.account_id)
        .select_related("organization")
        .order_by("-created_at")
    )


def _bump(org: Organization) -> None:
    Organization.objects.filter(pk=org.pk).update(policy_revision=F("policy_revision") + 1)


# ---------------------------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class IssuedSeat:
    seat: StudentSeat
    password: str  # shown once on the handout (also kept encrypted on the seat until changed)


def _check_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > 128:
        raise ValidationError("The class title must be 1 to 128 characters long.")
    return title


def _check_alias_prefix(prefix: str) -> str:
    prefix = prefix.strip().lower()
    if prefix and not _ALIAS_PREFIX.match(prefix):
        raise ValidationError(
            "The alias prefix may contain only lowercase letters, digits and single hyphens, must "
            "start and end with a letter or digit, and be at most 40 characters long."
        )
    return prefix


def create_class(
    ctx: CallContext, *, title: str, students: int, alias_prefix: str = ""
) -> tuple[Class, list[IssuedSeat]]:
    """A class: a new organization managed by the caller's account, FullAWSAccess attached to its root, and
    ``students`` member accounts, each with root credentials and the OrganizationAccountAccessRole."""
    title = _check_title(title)
    prefix = _check_alias_prefix(alias_prefix)
    org_id = new_organization_id()
    org_arn = f"arn:aws:organizations::{ctx.account_id}:organization/{org_id}"
    params = {"title": title, "studentCount": students, "aliasPrefix": prefix or None, "featureSet": "ALL"}
    with iam_call(ctx, "organizations:CreateOrganization", org_arn, params) as call:
        if not 1 <= students <= MAX_STUDENTS:
            raise ValidationError(f"The number of students must be between 1 and {MAX_STUDENTS}.")
        if not is_instructor(ctx.account_id) or _in_an_organization(ctx.account_id):
            raise AccessDenied(
                "Only instructor accounts can create classes (a member account of an organization can't create one)."
            )
        now = clock.now()
        org = Organization.objects.create(id=org_id, management_account_id=ctx.account_id, name=title, created_at=now)
        root = OrgRoot.objects.create(id=new_root_id(), organization=org)
        full = ServiceControlPolicy.objects.create(
            organization=org,
            policy_id=FULL_AWS_ACCESS_ID,
            name=FULL_AWS_ACCESS_NAME,
            aws_managed=True,
            description="Allows access to every operation",
            document=FULL_AWS_ACCESS_DOCUMENT,
            created_at=now,
            updated_at=now,
        )
        PolicyAttachment.objects.create(
            organization=org, policy=full, target_type=PolicyAttachment.ROOT, target_id=root.id, created_at=now
        )
        classroom = Class.objects.create(
            organization=org,
            instructor_account_id=ctx.account_id,
            title=title,
            alias_prefix=prefix,
            join_code=_unused_join_code(),
            created_at=now,
        )
        issued = _create_seats(classroom, range(1, students + 1))
        call.response = {
            "organization": {"id": org.id, "arn": org.arn, "masterAccountId": ctx.account_id, "featureSet": "ALL"},
            "accountIds": [s.seat.account_id for s in issued],
        }
        return classroom, issued


def _in_an_organization(account_id: str) -> bool:
    return OrgAccount.objects.filter(account_id=account_id).exists()


def _unused_join_code() -> str:
    while Class.objects.filter(join_code=(code := new_join_code())).exists():
        pass
    return code


def add_students(ctx: CallContext, class_id: str, *, count: int) -> list[IssuedSeat]:
    """CreateAccount, ``count`` times at once: the next seat numbers of the class."""
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(ctx, "organizations:CreateAccount", org.arn, {"count": count}) as call:
        Class.objects.select_for_update().filter(pk=classroom.pk).first()  # serializes seat numbering
        taken = classroom.seats.count()
        if not count >= 1 or taken + count > MAX_STUDENTS:
            raise LimitExceeded(f"A class can have at most {MAX_STUDENTS} student accounts ({taken} already).")
        start = (classroom.seats.aggregate(n=Max("number"))["n"] or 0) + 1
        issued = _create_seats(classroom, range(start, start + count))
        call.response = {"accountIds": [s.seat.account_id for s in issued]}
        return issued


def _new_account_ids(count: int) -> list[str]:
    wanted: set[str] = set()
    while len(wanted) < count:
        wanted.update(ids.new_account_id() for _ in range(count - len(wanted)))
        wanted -= set(Account.objects.filter(pk__in=list(wanted)).values_list("pk", flat=True))
    return sorted(wanted)


def _create_seats(classroom: Class, numbers: Iterable[int]) -> list[IssuedSeat]:
    """Bulk: accounts, memberships, FullAWSAccess on each account, the access role and seats, in a few queries.
    Runs inside the caller's transaction."""
    org = classroom.organization
    numbers = list(numbers)
    domain = f"{classroom.alias_prefix or org.id}.classroom.local"
    emails = {n: f"student{n:02d}@{domain}" for n in numbers}
    aliases = {n: f"{classroom.alias_prefix}-student{n:02d}" for n in numbers} if classroom.alias_prefix else {}
    taken_email = Account.objects.filter(root_email__in=list(emails.values())).values_list("root_email", flat=True)
    if taken := list(taken_email):
        raise EntityAlreadyExists(f"An account with root email {taken[0]} already exists.")
    if aliases and (
        clash := list(Account.objects.filter(alias__in=list(aliases.values())).values_list("alias", flat=True)[:1])
    ):
        raise EntityAlreadyExists(f"The account alias {clash[0]} is already taken. Choose another alias prefix.")
    admin = ManagedPolicy.objects.filter(arn=ADMINISTRATOR_ACCESS_ARN).first()
    if admin is None:
        raise ServiceFailure(
            "The AWS managed policy AdministratorAccess is not loaded (manage.py load_managed_policies)."
        )
    full = ServiceControlPolicy.objects.get(organization=org, policy_id=FULL_AWS_ACCESS_ID)
    now = clock.now()
    passwords = {n: generate_initial_password() for n in numbers}
    account_ids = dict(zip(numbers, _new_account_ids(len(numbers)), strict=True))
    trust = access_role_trust_policy(org.management_account_id)
    Account.objects.bulk_create(
        [
            Account(
                id=account_ids[n],
                root_email=emails[n],
                root_password_hash=hash_initial_password(passwords[n]),
                alias=aliases.get(n),
                name=f"student{n:02d}",
                created_at=now,
            )
            for n in numbers
        ]
    )
    OrgAccount.objects.bulk_create(
        [OrgAccount(account_id=account_ids[n], organization=org, joined_at=now) for n in numbers]
    )
    PolicyAttachment.objects.bulk_create(
        [
            PolicyAttachment(
                organization=org,
                policy=full,
                target_type=PolicyAttachment.ACCOUNT,
                target_id=account_ids[n],
                created_at=now,
            )
            for n in numbers
        ]
    )
    roles = Role.objects.bulk_create([_access_role(account_ids[n], trust, now) for n in numbers])
    RolePolicyAttachment.objects.bulk_create(
        [RolePolicyAttachment(account_id=role.account_id, role=role, policy=admin, created_at=now) for role in roles]
    )
    seats = StudentSeat.objects.bulk_create(
        [
            StudentSeat(
                account_id=account_ids[n],
                classroom=classroom,
                number=n,
                email=emails[n],
                must_change_password=True,
                handout_password=encrypt(passwords[n]),
                created_at=now,
            )
            for n in numbers
        ]
    )
    _bump(org)
    return [IssuedSeat(seat, passwords[seat.number]) for seat in seats]


def _access_role(account_id: str, trust: str, now) -> Role:  # noqa: ANN001
    return Role(
        account_id=account_id,
        role_id=ids.new_id("AROA"),
        name=ACCESS_ROLE_NAME,
        path="/",
        arn=arns.role(account_id, "/", ACCESS_ROLE_NAME),
        assume_role_policy=trust,
        description="Lets the management account of the organization administer this account.",
        created_at=now,
    )


def update_class(
    ctx: CallContext, class_id: str, *, join_enabled: bool | None = None, new_join_code: bool = False
) -> Class:
    classroom = class_for(ctx, class_id)
    with iam_call(
        ctx,
        "organizations:UpdateClass",
        classroom.organization.arn,
        {"joinEnabled": join_enabled, "newJoinCode": new_join_code or None},
    ):
        if join_enabled is not None:
            classroom.join_enabled = join_enabled
        if new_join_code:
            classroom.join_code = _unused_join_code()
        classroom.save(update_fields=["join_enabled", "join_code"])
        return classroom


def list_accounts(ctx: CallContext, class_id: str) -> list[StudentSeat]:
    """ListAccounts of the class's organization (the student seats, in seat order)."""
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:ListAccounts", classroom.organization.arn, {}):
        return list(classroom.seats.select_related("account", "account__membership").order_by("number"))


# ---------------------------------------------------------------------------------------------- join by code


def join_class(*, code: str, email: str, password: str, source_ip: str = "", user_agent: str = "") -> Account:
    """A student joins with the class code: a fresh account of their own (they chose the password, so it gets the
    full Argon2 cost and needs no change at first sign-in)."""
    code = code.strip().upper().replace("-", "").replace(" ", "")
    email = email.strip().lower()
    classroom = Class.objects.select_related("organization").filter(join_code=code, join_enabled=True).first()
    if classroom is None or not code:
        raise NoSuchEntity("That class code is not valid, or the class no longer accepts students.")
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput("Enter a valid email address.")
    check_password_policy("", password)
    password_hash = hash_password(password)  # outside the transaction: ~0.25 s of CPU
    org = classroom.organization
    with transaction.atomic():
        Class.objects.select_for_update().filter(pk=classroom.pk).first()
        taken = classroom.seats.count()
        if taken >= MAX_STUDENTS:
            raise LimitExceeded(f"This class already has {MAX_STUDENTS} students.")
        number = (classroom.seats.aggregate(n=Max("number"))["n"] or 0) + 1
        if Account.objects.filter(root_email=email).exists():
            raise EntityAlreadyExists(f"An account with root email {email} already exists. Sign in instead.")
        now = clock.now()
        account = Account.objects.create(
            id=_new_account_ids(1)[0],
            root_email=email,
            root_password_hash=password_hash,
            name=f"student{number:02d}",
            created_at=now,
        )
        OrgAccount.objects.create(
            account=account, organization=org, joined_method=OrgAccount.JOINED_INVITED, joined_at=now
        )
        full = ServiceControlPolicy.objects.get(organization=org, policy_id=FULL_AWS_ACCESS_ID)
        PolicyAttachment.objects.create(
            organization=org, policy=full, target_type=PolicyAttachment.ACCOUNT, target_id=account.id, created_at=now
        )
        _restore_access_role(account.id, org.management_account_id, now)
        StudentSeat.objects.create(
            account=account,
            classroom=classroom,
            number=number,
            email=email,
            joined_via=StudentSeat.JOINED_CODE,
            created_at=now,
        )
        _bump(org)
    return account


# ---------------------------------------------------------------------------------------------- handout


@dataclass(frozen=True)
class HandoutCard:
    number: int
    account_id: str
    display_id: str
    alias: str
    email: str
    password: str  # "" when the student has already replaced it
    joined_via: str
    must_change_password: bool


def handout(ctx: CallContext, class_id: str) -> list[HandoutCard]:
    """The printable cards (console-only verb): decrypted initial passwords of the seats that still have one."""
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:GetHandout", classroom.organization.arn, {}):
        seats = classroom.seats.select_related("account").order_by("number")
        return [
            HandoutCard(
                s.number,
                s.account_id,
                s.account.display_id,
                s.account.alias or "",
                s.account.root_email,
                decrypt(s.handout_password) if s.handout_password else "",
                s.joined_via,
                s.must_change_password,
            )
            for s in seats
        ]


def handout_csv(cards: Sequence[HandoutCard], sign_in_url: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["student", "account_id", "account_alias", "sign_in_url", "email", "initial_password", "must_change_password"]
    )
    for c in cards:
        writer.writerow(
            [
                f"student{c.number:02d}",
                c.account_id,
                c.alias,
                sign_in_url,
                c.email,
                c.password,
                "yes" if c.must_change_password else "no",
            ]
        )
    return out.getvalue()


def clear_handout(ctx: CallContext, class_id: str) -> int:
    """Forget every initial password still stored for the handout (they stay valid until changed)."""
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:ClearHandout", classroom.organization.arn, {}):
        return classroom.seats.exclude(handout_password="").update(handout_password="")


def reset_student_password(ctx: CallContext, class_id: str, *, account_id: str) -> str:
    """A new initial root password for a student (to reprint their card); it must be changed at sign-in."""
    classroom = class_for(ctx, class_id)
    seat = classroom.seats.filter(account_id=account_id).first()
    arn = f"arn:aws:organizations::{ctx.account_id}:account/{classroom.pk}/{account_id}"
    with iam_call(ctx, "organizations:ResetAccountPassword", arn, {"accountId": account_id}):
        if seat is None:
            raise AccountNotFoundException(f"The account {account_id} is not a member of this class.")
        password = generate_initial_password()
        Account.objects.filter(pk=account_id).update(root_password_hash=hash_initial_password(password))
        seat.must_change_password = True
        seat.handout_password = encrypt(password)
        seat.save(update_fields=["must_change_password", "handout_password"])
        return password


# ---------------------------------------------------------------------------------------------- root password


def root_password_change_required(account_id: str) -> bool:
    """True while a student's root user still has the generated initial password (check at root sign-in)."""
    return StudentSeat.objects.filter(account_id=account_id, must_change_password=True).exists()


def change_root_password(ctx: CallContext, *, old_password: str, new_password: str) -> None:
    """The root user changes its own password (console-only; AWS logs it as ``PasswordUpdated``)."""
    if not ctx.principal.is_root:
        raise AccessDenied("Only the root user can change the root user's password.")
    if len(new_password) > 128:
        raise ValidationError("The password must be at most 128 characters long.")
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=ctx.account_id)
        if not verify_password(account.root_password_hash, old_password):
            raise InvalidInput("The old password was incorrect.")
        if new_password == old_password:
            raise InvalidInput("The new password must be different from the old password.")
        check_password_policy(ctx.account_id, new_password)
        account.root_password_hash = hash_password(new_password)
        account.save(update_fields=["root_password_hash"])
        StudentSeat.objects.filter(account_id=ctx.account_id).update(must_change_password=False, handout_password="")
        record = build_record(
            ctx,
            event_source="signin.amazonaws.com",
            event_name="PasswordUpdated",
            event_type="AwsConsoleSignIn",
            response_elements={"PasswordUpdated": "Success"},
        )
        save_record(ctx, record)


# ---------------------------------------------------------------------------------------------- reset


StateBuilder = Callable[[list[str]], None]
"""The labs hook: called with the IDs of the accounts just emptied, inside the same transaction, to build a lab's
starting state (bulk-create what the lab needs in all of them at once)."""


def reset_accounts(account_ids: Sequence[str], *, to_state: StateBuilder | None = None, lab: Lab | None = None) -> None:
    """Empty the IAM state of ``account_ids`` in one transaction with bulk deletes (``identities.reset.
    delete_iam_state``: users, groups, roles, instance profiles, customer managed policies, inline policies,
    attachments, unassigned MFA devices, the password policy, the credential report, identity providers, every
    session, access-advisor data and lab progress), then restore OrganizationAccountAccessRole to its original trust
    and AdministratorAccess. Kept: the account, its alias (it is on the handout), the root user's credentials
    (email, password, access keys, MFA device), the organization membership and SCPs, and the audit trail (Event
    history). Unlike ``identities.reset.reset_account_iam`` (the administrator's reset for the next class), the alias
    and the access role stay, and the root user's GetSessionToken sessions end too.

    ``lab``: the reset is to that lab's start, so the labs before it that were completed stay completed (their
    progress rows are put back); a reset to empty forgets every lab.

    No authorization here: callers are ``reset_student_accounts`` (the instructor) and system jobs (labs/board)."""
    account_ids = list(account_ids)
    if not account_ids:
        return
    with transaction.atomic():
        now = clock.now()
        kept = progress.completed_before(account_ids, lab) if lab is not None else []
        delete_iam_state(
            account_ids,
            keep_alias=True,
            keep_root_sessions=False,
            keep_role=KeptRole(ACCESS_ROLE_NAME, ADMINISTRATOR_ACCESS_ARN),
        )
        _restore_access_roles(account_ids, now)
        StudentSeat.objects.filter(account_id__in=account_ids).update(last_reset_at=now)
        progress.restore(kept)
        if to_state is not None:
            to_state(account_ids)


def _restore_access_roles(account_ids: list[str], now) -> None:  # noqa: ANN001
    """OrganizationAccountAccessRole back to how it was made, in every account (re-created where deleted)."""
    managers = dict(
        OrgAccount.objects.filter(account_id__in=account_ids).values_list(
            "account_id", "organization__management_account_id"
        )
    )
    existing = {r.account_id: r for r in Role.objects.filter(account_id__in=account_ids, name=ACCESS_ROLE_NAME)}
    missing = [a for a in account_ids if a not in existing and a in managers]
    for account_id, role in existing.items():
        trust = access_role_trust_policy(managers.get(account_id, ""))
        changed = role.assume_role_policy != trust or role.tags or role.max_session_duration != 3600
        if account_id in managers and changed:
            Role.objects.filter(pk=role.pk).update(assume_role_policy=trust, tags=[], max_session_duration=3600)
    created = Role.objects.bulk_create([_access_role(a, access_role_trust_policy(managers[a]), now) for a in missing])
    admin = ManagedPolicy.objects.filter(arn=ADMINISTRATOR_ACCESS_ARN).first()
    if admin is None:
        return
    attached = set(
        RolePolicyAttachment.objects.filter(
            account_id__in=account_ids, role__name=ACCESS_ROLE_NAME, policy=admin
        ).values_list("account_id", flat=True)
    )
    roles = [*created, *(r for r in existing.values() if r.account_id not in attached)]
    RolePolicyAttachment.objects.bulk_create(
        [
            RolePolicyAttachment(account_id=r.account_id, role=r, policy=admin, created_at=now)
            for r in roles
            if r.account_id not in attached
        ]
    )


def _restore_access_role(account_id: str, management_account_id: str, now) -> None:  # noqa: ANN001
    role = _access_role(account_id, access_role_trust_policy(management_account_id), now)
    role.save()
    admin = ManagedPolicy.objects.filter(arn=ADMINISTRATOR_ACCESS_ARN).first()
    if admin is None:
        raise ServiceFailure("The AWS managed policy AdministratorAccess is not loaded.")
    RolePolicyAttachment.objects.create(account_id=account_id, role=role, policy=admin, created_at=now)


def reset_student_accounts(
    ctx: CallContext,
    class_id: str,
    *,
    account_ids: Sequence[str] | None = None,
    to_state: StateBuilder | None = None,
    lab: Lab | None = None,
) -> list[str]:
    """Reset one, several or (``None``) all student accounts of the class (console-only verb)."""
    classroom = class_for(ctx, class_id)
    members = set(classroom.seats.values_list("account_id", flat=True))
    chosen = sorted(members) if account_ids is None else list(dict.fromkeys(account_ids))
    with iam_call(
        ctx,
        "organizations:ResetAccount",
        classroom.organization.arn,
        {"accountIds": chosen if account_ids is not None else None, "all": account_ids is None},
    ):
        strangers = [a for a in chosen if a not in members]
        if strangers:
            raise AccountNotFoundException(f"The account {strangers[0]} is not a member of this class.")
        reset_accounts(chosen, to_state=to_state, lab=lab)
        return chosen


# ---------------------------------------------------------------------------------------------- OUs


def _check_name(value: str, what: str, limit: int = 128) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise ValidationError(
            f"1 validation error detected: Value at '{what}' failed to satisfy constraint: Member "
            f"must have length between 1 and {limit}"
        )
    return value


def _parent(classroom: Class, parent_id: str) -> OrganizationalUnit | None:
    """None for the root; the OU for an ``ou-`` ID; TargetNotFound otherwise."""
    if parent_id == classroom.organization.root.id:
        return None
    unit = OrganizationalUnit.objects.filter(organization=classroom.organization, pk=parent_id).first()
    if unit is None:
        raise TargetNotFoundException(f"The parent {parent_id} cannot be found in the organization.")
    return unit


def create_organizational_unit(ctx: CallContext, class_id: str, *, parent_id: str, name: str) -> OrganizationalUnit:
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(ctx, "organizations:CreateOrganizationalUnit", org.arn, {"parentId": parent_id, "name": name}):
        name = _check_name(name, "name")
        parent = _parent(classroom, parent_id)
        if OrganizationalUnit.objects.filter(organization=org, parent=parent, name__iexact=name).exists():
            raise DuplicateOrganizationalUnitException("An OU with the same name already exists.")
        now = clock.now()
        unit = OrganizationalUnit.objects.create(
            id=new_unit_id(org.root.id), organization=org, parent=parent, name=name, created_at=now
        )
        full = ServiceControlPolicy.objects.get(organization=org, policy_id=FULL_AWS_ACCESS_ID)
        PolicyAttachment.objects.create(
            organization=org, policy=full, target_type=PolicyAttachment.UNIT, target_id=unit.id, created_at=now
        )
        _bump(org)
        return unit


def delete_organizational_unit(ctx: CallContext, class_id: str, *, unit_id: str) -> None:
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(ctx, "organizations:DeleteOrganizationalUnit", org.arn, {"organizationalUnitId": unit_id}):
        unit = OrganizationalUnit.objects.filter(organization=org, pk=unit_id).first()
        if unit is None:
            raise TargetNotFoundException(f"The OU {unit_id} cannot be found.")
        if unit.children.exists() or unit.accounts.exists():
            raise OrganizationalUnitNotEmptyException(
                "The OU still contains accounts or OUs. Move or delete them first."
            )
        PolicyAttachment.objects.filter(organization=org, target_id=unit.id).delete()
        unit.delete()
        _bump(org)


def move_account(ctx: CallContext, class_id: str, *, account_id: str, destination_parent_id: str) -> None:
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(
        ctx,
        "organizations:MoveAccount",
        org.arn,
        {"accountId": account_id, "destinationParentId": destination_parent_id},
    ):
        membership = OrgAccount.objects.filter(organization=org, account_id=account_id).first()
        if membership is None:
            raise AccountNotFoundException(f"The account {account_id} is not a member of this organization.")
        membership.parent_unit = _parent(classroom, destination_parent_id)
        membership.save(update_fields=["parent_unit"])
        _bump(org)


@dataclass(frozen=True)
class TreeNode:
    id: str
    name: str
    kind: str  # ROOT | ORGANIZATIONAL_UNIT
    units: list[TreeNode]
    accounts: list[OrgAccount]


def organization_tree(classroom: Class) -> TreeNode:
    """Root → OUs → accounts, from three queries (for pages; the caller has already authorized)."""
    org = classroom.organization
    units = list(OrganizationalUnit.objects.filter(organization=org).order_by("name"))
    members = list(
        OrgAccount.objects.filter(organization=org)
        .select_related("account", "account__seat")
        .order_by("account__seat__number")
    )
    children: dict[str | None, list[OrganizationalUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    accounts: dict[str | None, list[OrgAccount]] = {}
    for m in members:
        accounts.setdefault(m.parent_unit_id, []).append(m)

    def node(unit: OrganizationalUnit) -> TreeNode:
        return TreeNode(
            unit.id,
            unit.name,
            PolicyAttachment.UNIT,
            [node(u) for u in children.get(unit.id, [])],
            accounts.get(unit.id, []),
        )

    return TreeNode(
        org.root.id, "Root", PolicyAttachment.ROOT, [node(u) for u in children.get(None, [])], accounts.get(None, [])
    )


# ---------------------------------------------------------------------------------------------- SCPs


def _policy(classroom: Class, policy_id: str) -> ServiceControlPolicy:
    policy = ServiceControlPolicy.objects.filter(organization=classroom.organization, policy_id=policy_id).first()
    if policy is None:
        raise PolicyNotFoundException(f"The policy {policy_id} cannot be found.")
    return policy


def _check_scp(content: str) -> None:
    check_document(content, kind="scp")  # MalformedPolicyDocument with the engine's message
    if policy_size(content) > SCP_MAX_SIZE:
        raise ConstraintViolationException(
            f"The policy exceeds the maximum size of {SCP_MAX_SIZE} characters (POLICY_CONTENT_LIMIT_EXCEEDED)."
        )


def list_policies(ctx: CallContext, class_id: str) -> list[ServiceControlPolicy]:
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:ListPolicies", classroom.organization.arn, {"filter": "SERVICE_CONTROL_POLICY"}):
        return list(
            ServiceControlPolicy.objects.filter(organization=classroom.organization).order_by("-aws_managed", "name")
        )


def describe_policy(ctx: CallContext, class_id: str, *, policy_id: str) -> ServiceControlPolicy:
    classroom = class_for(ctx, class_id)
    policy = ServiceControlPolicy.objects.filter(organization=classroom.organization, policy_id=policy_id).first()
    arn = policy.arn if policy else classroom.organization.arn
    with iam_call(ctx, "organizations:DescribePolicy", arn, {"policyId": policy_id}):
        return _policy(classroom, policy_id)


def create_policy(
    ctx: CallContext, class_id: str, *, name: str, content: str, description: str = ""
) -> ServiceControlPolicy:
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    params = {"name": name, "description": description or None, "type": "SERVICE_CONTROL_POLICY", "content": content}
    with iam_call(ctx, "organizations:CreatePolicy", org.arn, params) as call:
        name = _check_name(name, "name")
        if len(description) > 512:
            raise ValidationError(
                "1 validation error detected: Value at 'description' failed to satisfy "
                "constraint: Member must have length less than or equal to 512"
            )
        _check_scp(content)
        call.on_conflict = DuplicatePolicyException("A policy with the same name already exists.")
        if ServiceControlPolicy.objects.filter(organization=org, name__iexact=name).exists():
            raise call.on_conflict
        now = clock.now()
        policy = ServiceControlPolicy.objects.create(
            organization=org,
            policy_id=new_policy_id(),
            name=name,
            description=description,
            document=content,
            created_at=now,
            updated_at=now,
        )
        call.response = {
            "policy": {
                "policySummary": {
                    "id": policy.policy_id,
                    "arn": policy.arn,
                    "name": name,
                    "type": "SERVICE_CONTROL_POLICY",
                    "awsManaged": False,
                }
            }
        }
        return policy


def update_policy(
    ctx: CallContext,
    class_id: str,
    *,
    policy_id: str,
    name: str | None = None,
    description: str | None = None,
    content: str | None = None,
) -> ServiceControlPolicy:
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(
        ctx,
        "organizations:UpdatePolicy",
        org.arn,
        {"policyId": policy_id, "name": name, "description": description, "content": content},
    ) as call:
        policy = _policy(classroom, policy_id)
        if policy.aws_managed:
            raise AccessDenied("You can't change an AWS managed policy.")
        if name is not None:
            name = _check_name(name, "name")
            if ServiceControlPolicy.objects.filter(organization=org, name__iexact=name).exclude(pk=policy.pk).exists():
                raise DuplicatePolicyException("A policy with the same name already exists.")
            policy.name = name
        if description is not None:
            policy.description = description[:512]
        if content is not None:
            _check_scp(content)
            policy.document = content
        policy.updated_at = clock.now()
        call.on_conflict = DuplicatePolicyException("A policy with the same name already exists.")
        policy.save()
        _bump(org)
        return policy


def delete_policy(ctx: CallContext, class_id: str, *, policy_id: str) -> None:
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:DeletePolicy", classroom.organization.arn, {"policyId": policy_id}):
        policy = _policy(classroom, policy_id)
        if policy.aws_managed:
            raise AccessDenied("You can't delete an AWS managed policy.")
        if policy.attachments.exists():
            raise PolicyInUseException(
                "The policy is attached to one or more entities. Detach it from every root, OU and account first."
            )
        policy.delete()


def _target(classroom: Class, target_id: str) -> str:
    """The target type of ``target_id`` in this organization, or TargetNotFound."""
    org = classroom.organization
    if target_id == org.root.id:
        return PolicyAttachment.ROOT
    if target_id.startswith("ou-") and OrganizationalUnit.objects.filter(organization=org, pk=target_id).exists():
        return PolicyAttachment.UNIT
    if target_id.isdigit() and OrgAccount.objects.filter(organization=org, account_id=target_id).exists():
        return PolicyAttachment.ACCOUNT
    raise TargetNotFoundException(f"The target {target_id} cannot be found in the organization.")


def attach_policy(ctx: CallContext, class_id: str, *, policy_id: str, target_id: str) -> None:
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(ctx, "organizations:AttachPolicy", org.arn, {"policyId": policy_id, "targetId": target_id}) as call:
        policy = _policy(classroom, policy_id)
        target_type = _target(classroom, target_id)
        call.on_conflict = DuplicatePolicyAttachmentException("The policy is already attached to the target.")
        if PolicyAttachment.objects.filter(policy=policy, target_id=target_id).exists():
            raise call.on_conflict
        PolicyAttachment.objects.create(
            organization=org, policy=policy, target_type=target_type, target_id=target_id, created_at=clock.now()
        )
        _bump(org)


def detach_policy(ctx: CallContext, class_id: str, *, policy_id: str, target_id: str) -> None:
    """DetachPolicy. As in AWS, every root, OU and account keeps at least one SCP: attach another one before
    detaching the last (e.g. FullAWSAccess)."""
    classroom = class_for(ctx, class_id)
    org = classroom.organization
    with iam_call(ctx, "organizations:DetachPolicy", org.arn, {"policyId": policy_id, "targetId": target_id}):
        policy = _policy(classroom, policy_id)
        _target(classroom, target_id)
        attachment = PolicyAttachment.objects.filter(policy=policy, target_id=target_id).first()
        if attachment is None:
            raise PolicyNotAttachedException("The policy is not attached to the target.")
        if PolicyAttachment.objects.filter(organization=org, target_id=target_id).count() == 1:
            raise ConstraintViolationException(
                "You can't detach the last service control policy from a target; attach another one first "
                "(MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)."
            )
        attachment.delete()
        _bump(org)


def attachments_by_target(classroom: Class) -> dict[str, list[ServiceControlPolicy]]:
    """target ID → attached SCPs (for pages, after an authorized read)."""
    found: dict[str, list[ServiceControlPolicy]] = {}
    for att in (
        PolicyAttachment.objects.filter(organization=classroom.organization)
        .select_related("policy")
        .order_by("policy__name")
    ):
        found.setdefault(att.target_id, []).append(att.policy)
    return found


def targets_of(policy: ServiceControlPolicy) -> list[PolicyAttachment]:
    return list(policy.attachments.order_by("target_type", "target_id"))


# ---------------------------------------------------------------------------------------------- instructor's admin

DEFAULT_ADMIN_USER_NAME = "admin"


def administrator_user_names(account_id: str) -> list[str]:
    """The account's IAM users who can sign in to the console and hold AdministratorAccess (directly or through a
    group): the users an instructor can switch into a student's account as (AWS does not let root switch roles)."""
    return list(
        IamUser.objects.in_account(account_id)
        .filter(login_profile__isnull=False)
        .filter(
            Q(policy_attachments__policy__arn=ADMINISTRATOR_ACCESS_ARN)
            | Q(memberships__group__policy_attachments__policy__arn=ADMINISTRATOR_ACCESS_ARN)
        )
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )


def create_instructor_admin(ctx: CallContext, *, user_name: str, password: str) -> IamUser:
    """The instructor's own administrator IAM user in the management account: the console's Create user with a
    custom console password (no reset at first sign-in: the instructor just chose it) and AdministratorAccess
    attached directly. The same AWS calls, authorized and audited one by one, in one transaction."""
    return workflows.create_user_from_wizard(
        ctx, user_name=user_name, password=password, require_reset=False, policies=[ADMINISTRATOR_ACCESS_ARN]
    )
