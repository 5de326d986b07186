"""Shared set-up for benchmarks: a fresh PostgreSQL database (never the test or dev one) and Django."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def fresh_database(name: str) -> str:
    base = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


def django_setup(database_url: str, **env: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def console_session(account_id: str) -> str:
    """A signed-in console session of the account's root user, written as ``console.sessions.start`` writes it at
    sign-in (sign-in itself is Argon2-bound by design and would measure the password hash); its key."""
    from django.contrib.sessions.backends.db import SessionStore

    from core import clock

    store = SessionStore()
    store.update(
        {
            "iam_account": account_id,
            "iam_principal": "root",
            "iam_user": None,
            "iam_signed_in_at": clock.now().isoformat(),
            "iam_mfa_at": None,
            "iam_must_change_password": False,
        }
    )
    store.create()
    return store.session_key


def student_class(title: str, students: int, alias_prefix: str, password: str = "Bench-password-1234"):  # noqa: ANN201
    """The AWS managed policies, an instructor and a class; in the first student's account the users ``alice`` and
    ``cli`` (AdministratorAccess, with an access key), as the load benchmark's students have them. Returns
    (instructor account, class, issued seats, the first student's root context, cli's new access key)."""
    from classroom import services as classroom
    from core.context import CallContext, Principal
    from identities import credentials
    from identities import services as identities
    from policies import services as policies
    from policies.loading import load_aws_managed_policies

    load_aws_managed_policies()
    instructor = classroom.sign_up_instructor(email="teacher@school.example", password=password)
    teacher = CallContext(Principal.root(instructor.id), user_agent="bench", origin="console")
    klass, issued = classroom.create_class(teacher, title=title, students=students, alias_prefix=alias_prefix)
    root = CallContext(Principal.root(issued[0].seat.account_id), user_agent="bench", origin="console")
    identities.create_user(root, user_name="alice")
    identities.create_user(root, user_name="cli")
    policies.attach_user_policy(root, user_name="cli", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = credentials.create_access_key(root, user_name="cli")
    return instructor, klass, issued, root, key
