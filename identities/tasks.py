"""Celery tasks of the identities app: they only load ids and call into the app's code."""

from __future__ import annotations

from celery import shared_task

from identities import credential_report


@shared_task(name="identities.build_credential_report", ignore_result=True)
def build_credential_report(account_id: str) -> bool:
    """Build the account's pending credential report (enqueued by GenerateCredentialReport once it commits)."""
    return credential_report.build(account_id)
