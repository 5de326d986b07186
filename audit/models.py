"""CloudTrail-shaped audit events. A row is written in the same transaction as the change it records
(transactional outbox); ``delivered_at`` is set once the delivery task has processed it."""

from __future__ import annotations

from django.db import models

from identities.models import Account


class AuditEvent(models.Model):
    # No index of its own (Django would add two: btree and varchar_pattern_ops): every index below starts with the
    # account, and each one costs every call's audit INSERT.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.UUIDField(unique=True)
    event_time = models.DateTimeField()
    event_source = models.CharField(max_length=64)
    event_name = models.CharField(max_length=128)
    event_type = models.CharField(max_length=32, default="AwsApiCall")
    read_only = models.BooleanField()
    username = models.CharField(max_length=128, blank=True, default="")
    access_key_id = models.CharField(max_length=128, blank=True, default="")
    resource_type = models.CharField(max_length=64, blank=True, default="")
    resource_name = models.CharField(max_length=2048, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    # The record's ``managementEvent``, as a column: Event history shows management events only, and reading the
    # flag out of every row's JSON record was the default filter of every lookup.
    management_event = models.BooleanField(db_default=True)  # a database default: raw INSERTs may leave it out
    record = models.JSONField()  # the CloudTrail record, secrets excluded
    explanation = models.JSONField(null=True, blank=True)  # the engine's decision, for denied calls
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-event_time", "-id"], name="audit_account_time"),
            # One index per Event history lookup attribute, each ordered newest first.
            models.Index(fields=["account", "event_name", "-event_time", "-id"], name="audit_event_name"),
            models.Index(fields=["account", "username", "-event_time", "-id"], name="audit_username"),
            models.Index(fields=["account", "resource_type", "-event_time", "-id"], name="audit_resource_type"),
            models.Index(fields=["account", "resource_name", "-event_time", "-id"], name="audit_resource_name"),
            models.Index(fields=["account", "event_source", "-event_time", "-id"], name="audit_event_source"),
            models.Index(fields=["account", "read_only", "-event_time", "-id"], name="audit_read_only"),
            models.Index(fields=["account", "access_key_id", "-event_time", "-id"], name="audit_access_key"),
            models.Index(fields=["account", "error_code", "-event_time", "-id"], name="audit_error_code"),
            models.Index(
                fields=["event_time"], condition=models.Q(delivered_at__isnull=True), name="audit_undelivered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_source} {self.event_name} ({self.event_id})"


class ServiceLastAccessed(models.Model):
    """Access-advisor data: when a principal last used a service (filled by event delivery)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    principal_arn = models.CharField(max_length=2048)
    service_namespace = models.CharField(max_length=64)
    last_accessed_at = models.DateTimeField()
    last_authenticated_entity = models.CharField(max_length=2048)

    class Meta:
        constraints = [
            models.UniqueConstraint("account", "principal_arn", "service_namespace", name="last_accessed_unique")
        ]

    def __str__(self) -> str:
        return f"{self.principal_arn} used {self.service_namespace}"


class AccessReport(models.Model):
    """An access-advisor job: GenerateServiceLastAccessedDetails (``kind`` service, ``subject`` the entity's ARN) or
    GenerateOrganizationsAccessReport (``kind`` organizations, ``subject`` the entity path). The report is computed
    when the job is generated, from the same data as the console's Last accessed tab, and read back by JobId."""

    KIND_SERVICE = "service"
    KIND_ORGANIZATIONS = "organizations"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    job_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=16)
    subject = models.CharField(max_length=2048)
    granularity = models.CharField(max_length=16, default="SERVICE_LEVEL")
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField()
    # service: {"services": [ServiceLastAccessed…], "entities": {namespace: [EntityDetails…]}}
    # organizations: {"accessible": int, "details": [AccessDetail…]}
    report = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.kind} report {self.job_id} on {self.subject}"
