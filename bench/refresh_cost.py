"""What one lab-progress refresh costs (issue 16): queries, CPU and rows written, for a student account populated as
the classroom load leaves it (``alice`` and ``cli`` with AdministratorAccess and an access key, plus users made by
the Create user wizard with a policy each), in a class of a few students so that the partner exists.

    .venv/bin/python bench/refresh_cost.py        (a fresh database iam_bench_refresh_cost, or BENCH_DATABASE)

Prints, for a refresh after a write (one more user) and for a refresh with nothing changed since the last: queries,
CPU ms (median of the runs, ``time.process_time``) and the progress rows the refresh wrote (``updated_at`` moved).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import django_setup, fresh_database, student_class  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "iam_bench_refresh_cost")
RUNS = int(os.environ.get("BENCH_RUNS", "40"))


def main() -> None:
    django_setup(fresh_database(DATABASE), AUDIT_ENQUEUE_DELIVERY="0")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classroom.models import LabProgress
    from classroom.progress import refresh
    from identities import services as identities
    from policies import services as policies

    _, _, _, root, _ = student_class("Refresh", 3, "refresh")
    account_id = root.account_id
    for i in range(5):
        identities.create_user(root, user_name=f"wizard{i}")
        policies.attach_user_policy(root, user_name=f"wizard{i}", policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    refresh(account_id)  # warm: imports, the engine's compiled managed policies

    def measure(label: str, before_each) -> None:  # noqa: ANN001
        cpu, queries, written = [], [], []
        for n in range(RUNS):
            before_each(n)
            stamps = dict(LabProgress.objects.filter(account_id=account_id).values_list("lab", "updated_at"))
            with CaptureQueriesContext(connection) as captured:
                start = time.process_time()
                refresh(account_id)
                cpu.append((time.process_time() - start) * 1000)
            queries.append(len(captured.captured_queries))
            after = dict(LabProgress.objects.filter(account_id=account_id).values_list("lab", "updated_at"))
            written.append(sum(1 for lab, at in after.items() if stamps.get(lab) != at))
        print(
            f"| {label} | {statistics.median(queries):.0f} | {statistics.median(cpu):.1f} "
            f"| {statistics.median(written):.0f} of {len(after)} |"
        )

    print(f"\nOne refresh of a populated student account ({RUNS} runs, medians)\n")
    print("| refresh | queries | CPU ms | progress rows written |")
    print("| --- | ---: | ---: | ---: |")
    measure("after a write (one more user)", lambda n: identities.create_user(root, user_name=f"extra{n}"))
    measure("nothing changed since the last", lambda n: None)


if __name__ == "__main__":
    main()
