"""Shared fixtures: two accounts (isolation is tested everywhere), their root principals, signed-in console
clients, and the AWS managed policy catalog in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:  # Django is imported lazily: the pure engine tests run without it (-p no:django)
    from django.test import Client

    from core.context import CallContext
    from identities.models import Account

# Hypothesis's per-example deadline measures the machine, not the code: with parallel runs on shared cores one
# example took 298 ms against the 200 ms default (and 1.5 ms when replayed), failing the run as "flaky".
hypothesis_settings.register_profile("iam-classroom", deadline=None)
hypothesis_settings.load_profile("iam-classroom")

# The one Celery worker fixture (``worker``) and its marker, for every test module.
pytest_plugins = ["tests.workers"]

# The heaviest modules of the fast subset, marked ``slow`` so that ``make test-fast`` (FAST_MARKERS in the Makefile)
# leaves them out and runs in about a minute; ``make test`` runs them. Chosen from ``--durations`` of the fast
# subset (2026-12-07): page tests rendering every tab, transactional tests (each flushes the database and reloads
# the managed catalog), Hypothesis searches, the import graph, the parameter walk over every operation, class
# resets and labs. What stays fast touches every app: the policy engine and its corpus, each app's services, the
# Query API's signing, wire format and query budgets, sign-in, STS, classroom isolation and SCPs, audit delivery.
SLOW_MODULES = frozenset(
    {
        "tests/test_architecture.py",
        "tests/test_worker_fixture.py",
        "tests/audit/test_event_history.py",
        "tests/audit/test_lock_order.py",
        "tests/audit/test_trail_exactly_once.py",
        "tests/awsapi/test_every_operation_authorized.py",
        "tests/awsapi/test_param_walk.py",
        "tests/awsapi/test_round_trips.py",
        "tests/awsapi/test_wsgi_route.py",
        "tests/classroom/test_board.py",
        "tests/classroom/test_class_trail_times.py",
        "tests/classroom/test_classes.py",
        "tests/classroom/test_labs_ui.py",
        "tests/classroom/test_stuck.py",
        "tests/classroom/labs/test_lab02_developers_group.py",
        "tests/classroom/labs/test_lab03_ec2_role.py",
        "tests/classroom/labs/test_lab04_auditor.py",
        "tests/classroom/labs/test_lab05_mfa_deletes.py",
        "tests/classroom/labs/test_lab06_contractor.py",
        "tests/classroom/labs/test_lab07_cross_account.py",
        "tests/classroom/labs/test_lab08_boundary_delegation.py",
        "tests/classroom/labs/test_lab09_home_folders.py",
        "tests/classroom/labs/test_lab10_privilege_escalation.py",
        "tests/classroom/labs/test_lab_sequence.py",
        "tests/console/test_deploy_settings.py",
        "tests/console/test_signin_throttle.py",
        "tests/console/test_url_personas.py",
        "tests/identities/test_account_settings.py",
        "tests/identities/test_credential_report.py",
        "tests/identities/test_group_pages.py",
        "tests/identities/test_providers.py",
        "tests/identities/test_query_counts.py",
        "tests/identities/test_role_pages.py",
        "tests/identities/test_section_permissions.py",
        "tests/identities/test_user_pages.py",
        "tests/policies/test_gathering.py",
        "tests/policies/test_loading.py",
        "tests/policies/test_policy_pages.py",
        "tests/policies/test_visual_editor.py",
        "tests/policies/catalog/test_catalog_actions.py",
        "tests/policies/catalog/test_catalog_checks_fuzz.py",
        "tests/policies/catalog/test_managed_policy_data.py",
        "tests/policies/catalog/test_policy_summary.py",
        "tests/policies/engine/test_fast_path.py",
        "tests/policies/engine/test_properties.py",
        "tests/sts/test_federation.py",
        "tests/sts/test_idp_migration.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = pytest.mark.slow
    for item in items:
        if item.nodeid.split("::", 1)[0] in SLOW_MODULES:
            item.add_marker(slow)


ROOT_PASSWORD = "Root-Passw0rd!"
ACCOUNT_ID = "111122223333"
OTHER_ACCOUNT_ID = "444455556666"


def _load_catalog() -> None:
    from policies.loading import load_aws_managed_policies
    from policies.models import ManagedPolicy

    if not ManagedPolicy.objects.filter(account__isnull=True).exists():
        load_aws_managed_policies()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the AWS managed policies once per test database; tests run in transactions on top of them."""
    with django_db_blocker.unblock():
        _load_catalog()


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server, serving what production serves: ``/aws`` answered by ``awsapi.wsgi`` in front
    of Django (``console.wsgi``), the console by Django."""
    from awsapi.wsgi import with_query_api

    httpd = live_server.thread.httpd
    httpd.set_app(with_query_api(httpd.get_app()))
    return live_server


@pytest.fixture
def managed_policies(db):
    """The AWS managed catalog, reloaded when a transactional test has flushed it."""
    _load_catalog()


@pytest.fixture
def account(db) -> Account:
    from console.services import create_account

    return create_account(account_id=ACCOUNT_ID, email="root@alpha.example", password=ROOT_PASSWORD, name="alpha")


@pytest.fixture
def other_account(db) -> Account:
    from console.services import create_account

    return create_account(account_id=OTHER_ACCOUNT_ID, email="root@bravo.example", password=ROOT_PASSWORD, name="bravo")


@pytest.fixture
def root_ctx(account: Account) -> CallContext:
    from core.context import CallContext, Principal

    return CallContext(Principal.root(account.id), user_agent="pytest", origin="console")


@pytest.fixture
def other_root_ctx(other_account: Account) -> CallContext:
    from core.context import CallContext, Principal

    return CallContext(Principal.root(other_account.id), user_agent="pytest", origin="console")


def signed_in_client(email: str, password: str = ROOT_PASSWORD) -> Client:
    from django.test import Client

    client = Client()
    response = client.post("/signin", {"email": email, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def root_client(account: Account, managed_policies) -> Client:
    return signed_in_client(account.root_email)


@pytest.fixture
def other_root_client(other_account: Account, managed_policies) -> Client:
    return signed_in_client(other_account.root_email)
