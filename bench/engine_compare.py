"""Our policy engine side by side with the open evaluators people use today, on the same requests, in one run:

- ours: ``policies.engine.evaluate`` — identity policies, boundary, SCP, conditions, variables;
- @cloud-copilot/iam-simulate (npm, driven by bench/iam_simulate_bench.cjs under Node) — also complete;
- moto's IAM access-control evaluator (``moto.iam.access_control.IAMPolicy``) — identity policies only, as moto
  evaluates them (no boundaries, SCPs or session policies).

CPU time per decision, median over rounds of the request mix of bench/engine_bench.py (16 requests, a principal
with 10 identity policies). Run:  .venv/bin/python bench/engine_compare.py   (installs iam-simulate with npm into
bench/.out/node on first use).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from engine_bench import ACCOUNT, ALICE, BOUNDARY, CONTEXT, POLICIES, REQUESTS, SCP, build, decisions_bench  # noqa: E402

from policies.engine import LabelledPolicy, PolicySet, parse_policy  # noqa: E402

NODE_DIR = HERE / ".out" / "node"
IAM_SIMULATE = "@cloud-copilot/iam-simulate@0.1.173"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def ours() -> tuple[float, dict[str, int]]:
    median, _, outcomes = decisions_bench(build(), rounds=ROUNDS)
    return median, outcomes


def moto() -> tuple[float, dict[str, int]]:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    policies = [IAMPolicy(json.dumps(doc)) for doc in POLICIES.values()]

    def decide(action: str, resource: str) -> str:
        permitted = False
        for policy in policies:
            result = policy.is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return "ExplicitDeny"
            permitted = permitted or result == PermissionResult.PERMITTED
        return "Allow" if permitted else "ImplicitDeny"

    outcomes: dict[str, int] = {}
    for action, resource, _ in REQUESTS:
        outcome = decide(action, resource)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    samples = []
    for _ in range(ROUNDS):
        start = time.process_time_ns()
        for _ in range(10):
            for action, resource, _ in REQUESTS:
                decide(action, resource)
        samples.append((time.process_time_ns() - start) / (10 * len(REQUESTS)) / 1000)
    return statistics.median(samples), outcomes


def iam_simulate() -> tuple[float, dict[str, int]]:
    if not (NODE_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), IAM_SIMULATE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    spec = {
        "policies": POLICIES,
        "boundary": BOUNDARY,
        "scp": SCP,
        "requests": REQUESTS,
        "context": CONTEXT,
        "principal": ALICE.arn,
        "account": ACCOUNT,
        "rounds": ROUNDS,
    }
    spec_file = HERE / ".out" / "iam_simulate_spec.json"
    spec_file.write_text(json.dumps(spec))
    out = subprocess.run(
        ["node", str(HERE / "iam_simulate_bench.cjs"), str(spec_file)],
        check=True,
        text=True,
        capture_output=True,
        env={**os.environ, "IAM_SIMULATE_DIR": str(NODE_DIR)},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["median_us"], result["outcomes"]


def effective(policies: PolicySet) -> tuple[float, int]:
    """The console's effective-permissions computation (policies/effective.py): every catalog action of every
    service an Allow statement could grant, evaluated by the engine."""
    from policies.effective import effective_permissions

    effective_permissions(ALICE, policies, CONTEXT)
    samples = []
    for _ in range(5):
        fresh = dataclasses.replace(policies)  # as the console does: a new PolicySet per page, documents compiled
        start = time.process_time()
        rows = effective_permissions(ALICE, fresh, CONTEXT)
        samples.append(time.process_time() - start)
    return statistics.median(samples) * 1000, len(rows)


ADMINISTRATOR_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def main() -> None:
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = [
        ("ours (policies.engine)", *ours()),
        ("@cloud-copilot/iam-simulate", *iam_simulate()),
        ("moto IAMPolicy (identity only)", *moto()),
    ]
    print(f"{len(REQUESTS)} requests, principal with {len(POLICIES)} identity policies; CPU µs per decision (median)")
    print(f"{'evaluator':34} {'µs/decision':>12} {'decisions/s':>12}  outcomes")
    for name, median, outcomes in rows:
        print(f"{name:34} {median:12.2f} {1e6 / median:12.0f}  {outcomes}")
    ms, services = effective(build())
    print(f"effective permissions (policies/effective.py): {ms:.0f} ms CPU, {services} services with access")
    admin = PolicySet(identity=(LabelledPolicy("AdministratorAccess", parse_policy(ADMINISTRATOR_ACCESS)),))
    ms, services = effective(admin)
    print(f"  the same for AdministratorAccess alone: {ms:.0f} ms CPU, {services} services with access")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
