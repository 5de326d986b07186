"""The worker fixture's database URL: the subprocess must reach the same database, password included."""

from __future__ import annotations

import dj_database_url

from tests.workers import database_url


def test_the_worker_s_database_url_keeps_the_password():
    settings = {"USER": "iam", "PASSWORD": "p@ss:w/rd%", "HOST": "127.0.0.1", "PORT": 55432, "NAME": "test_iam"}
    url = database_url(settings)
    assert url == "postgresql://iam:p%40ss%3Aw%2Frd%25@127.0.0.1:55432/test_iam"
    parsed = dj_database_url.parse(url)
    assert {k: parsed[k] for k in settings} == settings


def test_without_a_password_or_host_the_url_is_the_local_default():
    assert database_url({"USER": "postgres", "NAME": "test_x"}) == "postgresql://postgres@127.0.0.1:5432/test_x"
