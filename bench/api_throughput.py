"""Query API throughput: boto3 calls per second against our server and against moto's standalone server, side by
side in one run (the method in ``bench/_against_moto.py``: the caller is an IAM user allowed iam:*).

    .venv/bin/python bench/api_throughput.py [--seconds 3] [--rounds 3] [--users 20] [--profile]

With ``--profile`` our server is sampled by py-spy, if it is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._against_moto import Cases, boto_client, run  # noqa: E402


def seed(iam, users: int) -> None:
    for i in range(users):
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=f"seed{i:03d}")


def cases(iam) -> Cases:
    counter = iter(range(10**9))

    def create_delete() -> None:
        name = f"tmp{next(counter)}"
        iam.create_user(UserName=name)
        iam.delete_user(UserName=name)

    return {
        "ListUsers": (lambda: iam.list_users(), 1),
        "GetUser": (lambda: iam.get_user(UserName="seed000"), 1),
        "CreateUser+DeleteUser": (create_delete, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation, server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (the table shows medians)")
    parser.add_argument("--users", type=int, default=20, help="users in the account (ListUsers lists them all)")
    parser.add_argument("--profile", action="store_true", help="sample our server with py-spy")
    parser.add_argument("--database", default="iam_bench_api", help="the database to (re)create for the run")
    args = parser.parse_args()

    def seeded_cases(iam) -> Cases:
        seed(iam, args.users)
        return cases(iam)

    run(
        database=args.database,
        action="iam:*",
        path="/aws",
        client=lambda endpoint, key: boto_client("iam", endpoint, key),
        cases=seeded_cases,
        rounds=args.rounds,
        seconds=args.seconds,
        profile=args.profile,
    )


if __name__ == "__main__":
    main()
