"""What a restart of ``manage.py standalone`` may skip (issue 16 §3, warm start): ``migrate`` when the database
records every migration on disk, ``collectstatic`` when the static sources are those collected last time. The
launcher itself is driven end to end in tests/console/test_launcher.py (its second boot is a restart)."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.db import connection

from console.embedded import applied_migrations
from console.management.commands.standalone import disk_migrations, static_fingerprint


def _url(name: str) -> str:
    s = connection.settings_dict
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


@pytest.mark.django_db
def test_a_migrated_database_records_every_migration_on_disk():
    on_disk = disk_migrations()
    assert ("identities", "0001_initial") in on_disk and ("sessions", "0001_initial") in on_disk
    assert on_disk <= applied_migrations(_url(connection.settings_dict["NAME"]))


@pytest.mark.django_db
def test_an_empty_database_has_every_migration_to_apply():
    name = f"iam_launcher_empty_{os.getpid()}"
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        assert applied_migrations(_url(name)) == set()
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_static_fingerprint_follows_the_sources(settings, tmp_path):
    (tmp_path / "app.css").write_text("body { color: red }")
    settings.STATICFILES_DIRS = [tmp_path]
    first = static_fingerprint()
    assert first == static_fingerprint()
    (tmp_path / "app.css").write_text("body { color: blue; }")  # another size
    changed = static_fingerprint()
    assert changed != first
    (tmp_path / "new.js").write_text("")
    assert static_fingerprint() != changed
