"""Practice EC2 instances: records, not machines. An instance belongs to one account (the tenant), has a state,
tags and at most one IAM instance profile association; its role's credentials, once issued for the instance
metadata service, are kept with it (``InstanceCredential``) until they are due for rotation, as EC2 keeps them."""

from __future__ import annotations

from django.db import models

from identities.models import Account, AccountScopedQuerySet
from sts.models import TemporaryCredential


class Instance(models.Model):
    # EC2's state codes (the low byte of InstanceState.Code).
    STATE_CODES = {
        "pending": 0,
        "running": 16,
        "shutting-down": 32,
        "terminated": 48,
        "stopping": 64,
        "stopped": 80,
    }

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    instance_id = models.CharField(max_length=19, unique=True)  # i- and 17 hex digits
    reservation_id = models.CharField(max_length=19)  # r- and 17 hex digits
    ami_launch_index = models.PositiveSmallIntegerField(default=0)
    image_id = models.CharField(max_length=21)
    instance_type = models.CharField(max_length=32)
    state = models.CharField(max_length=16)
    state_transition_reason = models.CharField(max_length=256, blank=True, default="")
    launched_at = models.DateTimeField()
    state_changed_at = models.DateTimeField()
    private_ip = models.CharField(max_length=15)
    tags = models.JSONField(default=list)  # [{"Key": …, "Value": …}], in the order given
    client_token = models.CharField(max_length=64, blank=True, default="")  # RunInstances' idempotency token
    # The IAM instance profile association (at most one per instance, as in AWS). The profile is named by its ARN
    # and ID, not a foreign key: deleting the profile in IAM leaves the association, whose role then has no
    # credentials, as it does in AWS.
    association_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    profile_arn = models.CharField(max_length=2048, blank=True, default="")
    profile_id = models.CharField(max_length=32, blank=True, default="")
    associated_at = models.DateTimeField(null=True, blank=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["account", "launched_at"], name="ec2_instance_account")]

    def __str__(self) -> str:
        return self.instance_id

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:us-east-1:{self.account_id}:instance/{self.instance_id}"

    @property
    def tag_dict(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.tags}

    @property
    def name(self) -> str:
        return self.tag_dict.get("Name", "")


class InstanceCredential(models.Model):
    """The role session EC2 holds for an instance (session name: the instance ID), served by the instance
    metadata service until it is due for rotation. Only here is the session token kept, encrypted, because the
    metadata service must answer with it again; STS stores only its hash."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="credentials")
    credential = models.OneToOneField(TemporaryCredential, on_delete=models.CASCADE, related_name="+")
    session_token_encrypted = models.TextField()
    profile_arn = models.CharField(max_length=2048)  # the association it was issued for

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.credential_id}"
