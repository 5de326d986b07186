"""EC2 Query API throughput: boto3 calls per second against our practice EC2 service and against moto's standalone
server, side by side in one run (the method in ``bench/_against_moto.py``: the caller is an IAM user allowed ec2:*).

    .venv/bin/python bench/ec2_throughput.py [--seconds 3] [--rounds 3] [--instances 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._against_moto import Cases, boto_client, run  # noqa: E402

AMI = "ami-0a3c3a20c09d6f377"


def seed(ec2, instances: int) -> str:
    """``instances`` instances, every other one tagged team=blue; the ID of the first."""
    ids = []
    for i in range(instances):
        team = "blue" if i % 2 == 0 else "red"
        launched = ec2.run_instances(
            ImageId=AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": team}]}],
        )
        ids.append(launched["Instances"][0]["InstanceId"])
    return ids[0]


def cases(ec2, first: str) -> Cases:
    def stop_start() -> None:
        ec2.stop_instances(InstanceIds=[first])
        ec2.start_instances(InstanceIds=[first])

    return {
        "DescribeInstances": (lambda: ec2.describe_instances(), 1),
        "DescribeInstances tag:team": (
            lambda: ec2.describe_instances(Filters=[{"Name": "tag:team", "Values": ["blue"]}]),
            1,
        ),
        "StopInstances+StartInstances": (stop_start, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation, server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (the table shows medians)")
    parser.add_argument("--instances", type=int, default=10, help="instances in the account")
    parser.add_argument("--database", default="iam_bench_ec2", help="the database to (re)create for the run")
    args = parser.parse_args()
    run(
        database=args.database,
        action="ec2:*",
        path="/ec2",
        client=lambda endpoint, key: boto_client("ec2", endpoint, key),
        cases=lambda ec2: cases(ec2, seed(ec2, args.instances)),
        rounds=args.rounds,
        seconds=args.seconds,
    )


if __name__ == "__main__":
    main()
