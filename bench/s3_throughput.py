"""S3 throughput: boto3 GetObject and PutObject of 1 KiB and 1 MiB per second against our ``/s3`` and against
moto's standalone server, side by side in one run.

    .venv/bin/python bench/s3_throughput.py [--seconds 3] [--rounds 3]

The method is ``bench/_against_moto.py``'s (the caller is an IAM user allowed s3:*; object operations are audited
as data events). Path-style addressing, and botocore's ``Expect: 100-continue`` turned off for both (neither server
answers it, so botocore would wait a second before each upload).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._against_moto import Cases, boto_client, run  # noqa: E402

SIZES = {"1 KiB": 1024, "1 MiB": 1024 * 1024}


def client(endpoint: str, key: tuple[str, str]):  # noqa: ANN201 - a botocore client
    from botocore.handlers import add_expect_header

    s3 = boto_client("s3", endpoint, key, s3={"addressing_style": "path"})
    s3.meta.events.unregister("before-call.s3", add_expect_header)
    return s3


def cases(s3) -> Cases:
    s3.create_bucket(Bucket="bench-bucket")
    out: Cases = {}
    for label, size in SIZES.items():
        body = os.urandom(size)
        key = f"object-{size}"
        s3.put_object(Bucket="bench-bucket", Key=key, Body=body)

        def put(key: str = key, body: bytes = body) -> None:
            s3.put_object(Bucket="bench-bucket", Key=key, Body=body)

        def get(key: str = key, size: int = size) -> None:
            assert len(s3.get_object(Bucket="bench-bucket", Key=key)["Body"].read()) == size

        out[f"PutObject {label}"] = (put, 1)
        out[f"GetObject {label}"] = (get, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation, server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (the table shows medians)")
    parser.add_argument("--database", default="iam_bench_s3", help="the database to (re)create for the run")
    args = parser.parse_args()
    # The object bodies of the fresh database go to a fresh directory too (IAM_OBJECT_DIR), removed at the end.
    with tempfile.TemporaryDirectory(prefix="iam-bench-objects-") as objects:
        os.environ["IAM_OBJECT_DIR"] = objects
        run(
            database=args.database,
            action="s3:*",
            path="/s3",
            client=client,
            cases=cases,
            rounds=args.rounds,
            seconds=args.seconds,
            unit="/s",
        )


if __name__ == "__main__":
    main()
