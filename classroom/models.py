"""Classes as AWS Organizations.

An Organization has one Root (``r-xxxx``), a tree of OrganizationalUnits (``ou-xxxx-xxxxxxxx``), member accounts
(``OrgAccount``: which organization and which parent), and service control policies attached to the root, an OU
or an account. A Class is the classroom face of one organization: its title, join code and student seats.

Deviation from AWS, on purpose: an account may manage several organizations (one per class), so that the SCPs,
reset and handout of one class never touch another. Labs and the progress board hang off ``Class``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from identities.models import Account

FULL_AWS_ACCESS_ID = "p-FullAWSAccess"
FULL_AWS_ACCESS_NAME = "FullAWSAccess"
FULL_AWS_ACCESS_DOCUMENT = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
ACCESS_ROLE_NAME = "OrganizationAccountAccessRole"


class Instructor(models.Model):
    """An account allowed to create classes (signed up at /classroom/signup or by ``create_instructor``)."""

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="instructor")
    display_name = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.display_name or self.account_id


class Organization(models.Model):
    id = models.CharField(primary_key=True, max_length=34)  # o- + 10 lowercase alphanumerics
    management_account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="managed_organizations")
    name = models.CharField(max_length=128)
    feature_set = models.CharField(max_length=16, default="ALL")
    # IAM's features of the organization (ListOrganizationsFeatures): RootCredentialsManagement, RootSessions.
    iam_features = models.JSONField(default=list)
    created_at = models.DateTimeField()
    # Bumped in the same transaction as any change to SCPs, attachments, OUs or membership: the authorizer's
    # cache of SCP levels is keyed by it, so every process sees a change on its next call.
    policy_revision = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.id

    @property
    def arn(self) -> str:
        return f"arn:aws:organizations::{self.management_account_id}:organization/{self.id}"


class OrgRoot(models.Model):
    id = models.CharField(primary_key=True, max_length=32)  # r-xxxx
    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="root")
    name = models.CharField(max_length=16, default="Root")

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def arn(self) -> str:
        org = self.organization
        return f"arn:aws:organizations::{org.management_account_id}:root/{org.id}/{self.id}"


class OrganizationalUnit(models.Model):
    id = models.CharField(primary_key=True, max_length=68)  # ou-xxxx-xxxxxxxx (xxxx: the root's suffix)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=128)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint("organization", "parent", Lower("name"), name="ou_unique_name_in_parent"),
            models.UniqueConstraint(
                "organization", Lower("name"), condition=Q(parent__isnull=True), name="ou_unique_name_under_root"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        org = self.organization
        return f"arn:aws:organizations::{org.management_account_id}:ou/{org.id}/{self.id}"


class OrgAccount(models.Model):
    """Membership: an account belongs to at most one organization, under its root or an OU."""

    JOINED_CREATED, JOINED_INVITED = "CREATED", "INVITED"

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="membership")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    parent_unit = models.ForeignKey(
        OrganizationalUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )  # None: directly under the root
    joined_method = models.CharField(max_length=8, default=JOINED_CREATED)
    joined_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"account {self.account_id} in {self.organization_id}"


class ServiceControlPolicy(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policies")
    policy_id = models.CharField(max_length=130)  # p- + 8 lowercase alphanumerics; p-FullAWSAccess
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=512, blank=True, default="")
    document = models.TextField()
    aws_managed = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint("organization", "policy_id", name="scp_unique_id"),
            models.UniqueConstraint("organization", Lower("name"), name="scp_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        if self.aws_managed:
            return f"arn:aws:organizations::aws:policy/service_control_policy/{self.policy_id}"
        org = self.organization
        return (
            f"arn:aws:organizations::{org.management_account_id}:policy/{org.id}/service_control_policy/"
            f"{self.policy_id}"
        )


class PolicyAttachment(models.Model):
    """An SCP attached to a target: the root (``r-…``), an OU (``ou-…``) or an account (12 digits)."""

    ROOT, UNIT, ACCOUNT = "ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="attachments")
    policy = models.ForeignKey(ServiceControlPolicy, on_delete=models.CASCADE, related_name="attachments")
    target_type = models.CharField(max_length=24)
    target_id = models.CharField(max_length=68)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("policy", "target_id", name="scp_attachment_unique")]
        indexes = [models.Index(fields=["organization", "target_id"])]

    def __str__(self) -> str:
        return f"SCP {self.policy_id} on {self.target_type} {self.target_id}"


class Class(models.Model):
    """A class: one organization, its instructor's (management) account, a title and a join code."""

    organization = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="classroom"
    )
    instructor_account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="classes")
    title = models.CharField(max_length=128)
    alias_prefix = models.CharField(max_length=40, blank=True, default="")
    join_code = models.CharField(max_length=16, unique=True)
    join_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "classes"

    def __str__(self) -> str:
        return self.title


class StudentSeat(models.Model):
    """One student's account in a class.

    ``handout_password``: the generated initial root password, encrypted with ``core.secrets``, kept only until
    the student replaces it (first sign-in) or the instructor clears the handout; "Reset password" makes a new one.
    """

    JOINED_CREATED, JOINED_CODE = "created", "code"

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="seat")
    classroom = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="seats")
    number = models.PositiveIntegerField()
    email = models.EmailField()
    joined_via = models.CharField(max_length=8, default=JOINED_CREATED)
    must_change_password = models.BooleanField(default=False)
    handout_password = models.TextField(blank=True, default="")
    last_reset_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("classroom", "number", name="seat_unique_number")]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"seat {self.number} of class {self.classroom_id}"


class LabProgress(models.Model):
    """The last result of one lab's checks in one account: ``results`` maps each check's key to
    ``{"passed": bool, "message": str}``. Written by ``classroom.progress.refresh`` (after audit delivery and on
    "Check progress"); read by the board in one query, so the board never runs checks itself. A refresh whose
    results are the same only moves ``checked_at``: ``updated_at`` is when they last changed."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="lab_progress")
    lab = models.CharField(max_length=64)  # the lab's slug
    results = models.JSONField(default=dict)
    passed = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)  # first time every check passed (since the reset)
    progressed_at = models.DateTimeField(null=True, blank=True)  # last time one more check passed (the board's "stuck")
    updated_at = models.DateTimeField()  # last time the results changed (the board's poll redraws when it moves)
    checked_at = models.DateTimeField(null=True, blank=True)  # last time the checks ran (None: rows from before it)

    class Meta:
        constraints = [models.UniqueConstraint("account", "lab", name="lab_progress_unique")]

    def __str__(self) -> str:
        return f"{self.lab} of {self.account_id}: {self.passed}/{self.total}"

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def last_checked(self):  # noqa: ANN201 - a datetime
        """When the checks last ran, as the lab panel says ("Checked 5 seconds ago")."""
        return self.checked_at or self.updated_at
