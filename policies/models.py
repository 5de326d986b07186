"""Managed policies (AWS managed: ``account`` is null and shared by all accounts; customer managed: owned by an
account), their versions, attachments to users/groups/roles, and inline policies."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from identities.models import Account, AccountScopedQuerySet, Group, IamUser, Role


class ManagedPolicyQuerySet(models.QuerySet):
    def visible_to(self, account_id: str) -> ManagedPolicyQuerySet:
        """What an account sees: its own customer managed policies and every AWS managed one."""
        return self.filter(Q(account_id=account_id) | Q(account__isnull=True))

    def customer_managed(self, account_id: str) -> ManagedPolicyQuerySet:
        return self.filter(account_id=account_id)

    def named(self, name: str) -> ManagedPolicyQuerySet:
        return self.filter(name__lower=name.lower())


class ManagedPolicy(models.Model):
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="policies")
    policy_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    path = models.CharField(max_length=512, default="/")
    arn = models.CharField(max_length=2048, unique=True)
    description = models.CharField(max_length=1000, blank=True, default="")
    default_version_id = models.CharField(max_length=16, default="v1")
    next_version_number = models.PositiveIntegerField(default=2)
    job_function = models.BooleanField(default=False)
    tags = models.JSONField(default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ManagedPolicyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "account", condition=Q(account__isnull=False), name="policy_unique_name"
            )
        ]
        indexes = [models.Index(fields=["account", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_aws_managed(self) -> bool:
        return self.account_id is None

    @property
    def policy_type(self) -> str:
        """The console's Type column."""
        if self.account_id is not None:
            return "Customer managed"
        return "AWS managed - job function" if self.job_function else "AWS managed"


class PolicyVersion(models.Model):
    policy = models.ForeignKey(ManagedPolicy, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=16)
    document = models.TextField()
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint("policy", "version_id", name="version_unique"),
            models.UniqueConstraint("policy", condition=Q(is_default=True), name="one_default_version"),
        ]

    def __str__(self) -> str:
        return f"policy {self.policy_id} {self.version_id}"


class UserPolicyAttachment(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="policy_attachments")
    policy = models.ForeignKey(ManagedPolicy, on_delete=models.PROTECT, related_name="user_attachments")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("user", "policy", name="user_attachment_unique")]
        indexes = [models.Index(fields=["account", "policy"])]

    def __str__(self) -> str:
        return f"policy {self.policy_id} on user {self.user_id}"


class GroupPolicyAttachment(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="policy_attachments")
    policy = models.ForeignKey(ManagedPolicy, on_delete=models.PROTECT, related_name="group_attachments")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("group", "policy", name="group_attachment_unique")]
        indexes = [models.Index(fields=["account", "policy"])]

    def __str__(self) -> str:
        return f"policy {self.policy_id} on group {self.group_id}"


class RolePolicyAttachment(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="policy_attachments")
    policy = models.ForeignKey(ManagedPolicy, on_delete=models.PROTECT, related_name="role_attachments")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("role", "policy", name="role_attachment_unique")]
        indexes = [models.Index(fields=["account", "policy"])]

    def __str__(self) -> str:
        return f"policy {self.policy_id} on role {self.role_id}"


class InlinePolicy(models.Model):
    """An inline policy embedded in exactly one user, group or role."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(IamUser, null=True, blank=True, on_delete=models.CASCADE, related_name="inline_policies")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="inline_policies")
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.CASCADE, related_name="inline_policies")
    name = models.CharField(max_length=128)
    document = models.TextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, group__isnull=True, role__isnull=True)
                    | Q(user__isnull=True, group__isnull=False, role__isnull=True)
                    | Q(user__isnull=True, group__isnull=True, role__isnull=False)
                ),
                name="inline_policy_one_owner",
            ),
            models.UniqueConstraint("user", "name", condition=Q(user__isnull=False), name="inline_user_unique"),
            models.UniqueConstraint("group", "name", condition=Q(group__isnull=False), name="inline_group_unique"),
            models.UniqueConstraint("role", "name", condition=Q(role__isnull=False), name="inline_role_unique"),
        ]

    def __str__(self) -> str:
        return self.name
