"""The hand-written SQL of the user operations against the ORM form of the same statement (issue 13 §5), in-process:
client CPU time and wall time per call, median of 5 runs, each form measured twice alternately.

    .venv/bin/python manage.py with_services --local-defaults -- \\
        .venv/bin/python -m pytest --ds=tests.settings -p tests.conftest bench/orm_forms.py -q -s

Measured: the user lookup by name (with its permissions boundary), DeleteUser's conflict check (the user and its
nine "must delete … first" conditions), and CreateUser's INSERT with DeleteUser's delete of the user and its
dependent rows (statements only, each in its own transaction; the call's authorization and audit row excluded).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef

from core import clock, ids
from core.calls import Call
from core.db import fetch_all_prepared, fetch_prepared
from identities import services as identities
from identities.models import (
    AccessKey,
    GroupMembership,
    IamUser,
    LoginProfile,
    MfaDevice,
    ServiceSpecificCredential,
    SigningCertificate,
    SshPublicKey,
)
from policies.models import InlinePolicy, UserPolicyAttachment
from sts.models import TemporaryCredential


def measure(label: str, call: Callable[[], object], n: int) -> None:
    for _ in range(20):
        call()
    runs = []
    for _ in range(5):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            call()
        runs.append(((time.process_time() - cpu) / n * 1e3, (time.perf_counter() - wall) / n * 1e3))
    print(
        f"\n{label}: CPU {sorted(r[0] for r in runs)[2]:.2f} ms/call, wall {sorted(r[1] for r in runs)[2]:.2f} ms/call"
    )


def orm_user(account_id: str, name: str) -> IamUser | None:
    return IamUser.objects.in_account(account_id).named(name).select_related("permissions_boundary").first()


def orm_delete_check(account_id: str, name: str) -> tuple | None:
    user = OuterRef("pk")
    return (
        IamUser.objects.in_account(account_id)
        .named(name)
        .annotate(
            c1=Exists(LoginProfile.objects.filter(user=user)),
            c2=Exists(AccessKey.objects.filter(user=user)),
            c3=Exists(MfaDevice.objects.filter(user=user, enabled_at__isnull=False)),
            c4=Exists(InlinePolicy.objects.filter(user=user)),
            c5=Exists(UserPolicyAttachment.objects.filter(user=user)),
            c6=Exists(GroupMembership.objects.filter(user=user)),
            c7=Exists(SshPublicKey.objects.filter(user=user)),
            c8=Exists(SigningCertificate.objects.filter(user=user)),
            c9=Exists(ServiceSpecificCredential.objects.filter(user=user)),
        )
        .values_list("pk", "arn", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9")
        .first()
    )


def test_reads(transactional_db, account, root_ctx):
    identities.create_user(root_ctx, user_name="alice")
    a = account.id
    check_sql = identities._delete_check_sql()
    for _ in range(2):
        measure("user lookup, hand-written", lambda: identities._user_or_none(a, "alice"), 400)
        measure("user lookup, ORM select_related", lambda: orm_user(a, "alice"), 400)
        measure(
            "DeleteUser check, hand-written", lambda: fetch_prepared(check_sql, {"account": a, "name": "alice"}), 400
        )
        measure("DeleteUser check, ORM Exists", lambda: orm_delete_check(a, "alice"), 400)


def test_writes(transactional_db, account, root_ctx):
    serial = itertools.count()

    def new_user() -> IamUser:
        i = next(serial)
        return IamUser(
            account_id=account.id,
            user_id=ids.new_id("AIDA"),
            name=f"b{i}",
            arn=f"arn:aws:iam::{account.id}:user/b{i}",
            created_at=clock.now(),
            tags=[],
        )

    def deferred(statement: Callable[[Call], None]) -> None:
        call = Call(root_ctx, "iam:Bench", "*", {})
        statement(call)
        with transaction.atomic():
            results = fetch_all_prepared([(sql, params) for sql, params, _ in call.deferred])
        for (_, _, on_rows), rows in zip(call.deferred, results, strict=True):
            on_rows(rows)

    def hand_written() -> None:
        user = new_user()
        deferred(lambda call: identities._insert_user(user, call))
        deferred(lambda call: identities._delete_user_rows(user.pk, call))

    def orm() -> None:
        user = new_user()
        with transaction.atomic():
            user.save()
        with transaction.atomic():
            TemporaryCredential.objects.filter(user_id=user.pk, kind=TemporaryCredential.KIND_ROLE).update(user=None)
            IamUser.objects.filter(pk=user.pk).delete()

    for _ in range(2):
        measure("CreateUser INSERT + DeleteUser delete, hand-written", hand_written, 100)
        measure("CreateUser INSERT + DeleteUser delete, ORM save()/delete()", orm, 100)
