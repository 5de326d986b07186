"""CloudTrail-shaped audit events. A row is written in the same transaction as the change it records
(transactional outbox); ``delivered_at`` is set once the delivery task has processed it."""

from __future__ import annotations

from django.db import models

from identities.models import Account


class AuditEvent(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
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
    record = models.JSONField()  # the CloudTrail record, secrets excluded
    explanation = models.JSONField(null=True, blank=True)  # the engine's decision, for denied calls
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-event_time"], name="audit_account_time")]
