"""Who hears about delivered events: lab progress is refreshed after writes (failed ones too), not after reads."""

from __future__ import annotations

import pytest

from audit import delivery
from audit.models import AuditEvent
from audit.signals import events_delivered
from core.errors import IamError
from identities import services


@pytest.fixture
def announced():
    heard: list[set[str]] = []

    def listener(sender, *, account_ids: set[str], **_kwargs) -> None:  # noqa: ANN001
        heard.append(set(account_ids))

    events_delivered.connect(listener, dispatch_uid="test-announced")
    yield heard
    events_delivered.disconnect(dispatch_uid="test-announced")


def test_successful_reads_are_delivered_without_announcing_their_account(
    account, other_account, root_ctx, other_root_ctx, announced, tmp_path, settings
):
    settings.DATA_DIR = tmp_path
    services.list_users(root_ctx)  # a successful read in account alpha
    services.create_user(other_root_ctx, user_name="alice")  # a write in account bravo
    assert AuditEvent.objects.filter(delivered_at__isnull=True).count() == 2

    assert delivery.deliver_pending() == 2
    assert not AuditEvent.objects.filter(delivered_at__isnull=True).exists()  # both delivered (trail, advisor)
    assert announced == [{other_account.id}]


def test_a_failed_read_is_delivered_without_announcing_its_account(account, root_ctx, announced, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    with pytest.raises(IamError):
        services.get_user(root_ctx, user_name="nobody")  # NoSuchEntity: the console's user page does this often
    event = AuditEvent.objects.get()
    assert event.read_only and event.error_code
    assert delivery.deliver([event.pk]) == 1
    assert announced == []


def test_a_failed_write_is_announced(account, root_ctx, announced, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    with pytest.raises(IamError):
        services.delete_user(root_ctx, user_name="nobody")  # a lab may look at refused or failed attempts
    event = AuditEvent.objects.get()
    assert not event.read_only and event.error_code
    assert delivery.deliver([event.pk]) == 1
    assert announced == [{account.id}]


def test_a_batch_of_reads_only_announces_nothing(account, root_ctx, announced, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    services.list_users(root_ctx)
    services.list_groups(root_ctx)
    assert delivery.deliver_pending() == 2
    assert announced == []
