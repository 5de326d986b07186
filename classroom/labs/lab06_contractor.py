"""Lab 6: temporary access for a contractor, through a role with a short session and an end date in the policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts
from core import clock
from policies.engine.conditions import to_epoch

USER = "contractor"
ROLE = "ContractorAccess"
BUCKET = "arn:aws:s3:::project-files"
WORK = ("s3:GetObject", f"{BUCKET}/design/plan.pdf")  # what the contractor is hired to do, through the role
MAX_DAYS = 30
MAX_SESSION = 3600


def _at(moment: datetime) -> dict[str, str]:
    return {"aws:CurrentTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(moment.timestamp()))}


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if isinstance(s, dict)]


def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


_END_DATES: WeakKeyDictionary[AccountFacts, list[datetime]] = WeakKeyDictionary()  # per refresh, like the facts


def end_dates(facts: AccountFacts) -> list[datetime]:
    if facts not in _END_DATES:
        _END_DATES[facts] = _read_end_dates(facts)
    return _END_DATES[facts]


def _read_end_dates(facts: AccountFacts) -> list[datetime]:
    """Every date after which a policy of the role or of the contractor stops allowing: a ``DateLessThan``
    (or ``…Equals``) on ``aws:CurrentTime`` in an Allow, or a ``DateGreaterThan`` in a Deny. The trust policy
    counts too: it decides whether the role can still be assumed."""
    documents = [facts.trust_policy(ROLE)]
    documents += [
        facts.policy_document(p)
        for kind, name in (("role", ROLE), ("user", USER))
        for p in facts.attached_policies(kind, name)
    ]
    documents += [*facts.inline_policies("role", ROLE).values(), *facts.inline_policies("user", USER).values()]
    found = []
    for document in documents:
        for statement in _statements(document):
            effect = statement.get("Effect")
            conditions = statement.get("Condition")
            if not isinstance(conditions, dict):
                continue
            for operator, block in conditions.items():
                op = operator.lower().removesuffix("ifexists")
                ends = (effect == "Allow" and op in ("datelessthan", "datelessthanequals")) or (
                    effect == "Deny" and op in ("dategreaterthan", "dategreaterthanequals")
                )
                if not ends or not isinstance(block, dict):
                    continue
                for key, value in block.items():
                    if key.lower() != "aws:currenttime":
                        continue
                    for text in _values(value):
                        epoch = to_epoch(text)
                        if epoch is not None:
                            found.append(datetime.fromtimestamp(epoch, tz=UTC))
    return sorted(found)


def _works_at(facts: AccountFacts, moment: datetime) -> str | None:
    """None if the contractor can get into the role and do the work at ``moment``, else what stops them."""
    context = _at(moment)
    if not facts.can_assume(USER, ROLE, context):
        return f"{USER} cannot assume {ROLE}"
    if not facts.can("role", ROLE, *WORK, context):
        return f"a session of {ROLE} cannot {WORK[0]} on {WORK[1]}"
    return None


def _missing(facts: AccountFacts) -> Outcome | None:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    if facts.role(ROLE) is None:
        return not_yet(f"There is no role named {ROLE} yet.")
    return None


def contractor_can_work(facts: AccountFacts) -> Outcome:
    if (missing := _missing(facts)) is not None:
        return missing
    if (problem := _works_at(facts, clock.now())) is not None:
        return failed(f"Today {problem}.")
    return passed(f"Today {USER} can assume {ROLE} and read the project files.")


def _end_date(facts: AccountFacts) -> tuple[datetime | None, Outcome | None]:
    """The contract's end: the latest end date within the next 30 days, or why there is none."""
    if (missing := _missing(facts)) is not None:
        return None, missing
    dates = end_dates(facts)
    now = clock.now()
    if not dates:
        return None, not_yet(f"No policy of {ROLE} or {USER} has a DateLessThan condition on aws:CurrentTime yet.")
    future = [d for d in dates if d > now]
    if not future:
        return None, failed(f"The end date {dates[-1]:%Y-%m-%d %H:%M} UTC is already past: the contract would be over.")
    soon = [d for d in future if d <= now + timedelta(days=MAX_DAYS)]
    if not soon:
        return None, failed(
            f"The end date {future[0]:%Y-%m-%d} is more than {MAX_DAYS} days away: the contract ends sooner."
        )
    return soon[-1], None


def access_has_end_date(facts: AccountFacts) -> Outcome:
    end, problem = _end_date(facts)
    if problem is not None:
        return problem
    return passed(f"Access ends on {end:%Y-%m-%d %H:%M} UTC, within the next {MAX_DAYS} days.")


def access_ends(facts: AccountFacts) -> Outcome:
    if (missing := _missing(facts)) is not None:
        return missing
    end, _ = _end_date(facts)
    if end is None:
        return not_yet(f"There is no end date within the next {MAX_DAYS} days to try yet.")
    after = end + timedelta(minutes=1)
    if _works_at(facts, after) is None:
        return failed(
            f"After {end:%Y-%m-%d %H:%M} UTC {USER} can still assume {ROLE} and read the project files: "
            "the end date does not stop the work."
        )
    return passed(f"After {end:%Y-%m-%d %H:%M} UTC {USER} can no longer get in.")


def short_sessions(facts: AccountFacts) -> Outcome:
    role = facts.role(ROLE)
    if role is None:
        return not_yet(f"There is no role named {ROLE} yet.")
    if role.max_session_duration > MAX_SESSION:
        hours = role.max_session_duration / 3600
        return failed(
            f"Sessions of {ROLE} may last {hours:g} hours: a session started just before the end date "
            "would outlive the contract by that much."
        )
    return passed(f"Sessions of {ROLE} last at most one hour.")


def no_long_term_keys(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    count = facts.access_key_count(USER)
    if count:
        return failed(
            f"{USER} has {count} access key{'s' if count > 1 else ''}: long-term keys keep working after "
            "the contract ends."
        )
    return passed(f"{USER} has no access keys.")


def contractor_assumed_role(facts: AccountFacts) -> Outcome:
    attempts = facts.events(name="AssumeRole", username=USER).filter(resource_name__iexact=ROLE)
    # One query: succeeded, denied, or none.
    codes = set(attempts.order_by().values_list("error_code", flat=True).distinct())
    if "" in codes:
        return passed(f"The trail shows {USER} assuming {ROLE}.")
    if codes:
        return failed(f"{USER} tried to assume {ROLE} but was denied: Event history shows why.")
    return not_yet(f"The trail shows no AssumeRole of {ROLE} by {USER} since the lab started.")


LAB = Lab(
    number=6,
    slug="contractor-access",
    title="Temporary access for a contractor",
    topic="Temporary credentials: roles, session duration and DateLessThan",
    summary=(
        "A contractor joins for a few weeks to read the files in the project-files S3 bucket. Give them a "
        "role to switch into, with sessions of an hour and access that stops by itself when the contract "
        "ends — no access keys that outlive it."
    ),
    steps=(
        f"Open **Users** and create the user `{USER}` with console access. Do not create access keys.",
        "Open **Roles**, choose **Create role**, then **AWS account** → **This account**. Add a permissions policy "
        f"that lets the role read objects in `project-files`, and name the role `{ROLE}`.",
        "On the role's **Summary**, check that **Maximum session duration** is 1 hour.",
        f"Give `{USER}` permission to assume `{ROLE}` only until the contract's end date: a `DateLessThan` "
        "condition on `aws:CurrentTime`, with a date within the next 30 days.",
        f"Sign in as `{USER}` and use **Switch role** to get into `{ROLE}`.",
    ),
    hints=(
        "Dates in conditions are written like `2030-01-31T00:00:00Z` (UTC).",
        "`sts:AssumeRole` on the role's ARN is the permission the contractor's user needs.",
        'Condition operators go in the statement\'s `Condition` block: `{"DateLessThan": {"aws:CurrentTime": …}}`.',
        "The policy simulator lets you set `aws:CurrentTime` to try a date after the contract.",
    ),
    checks=(
        Check("contractor-can-work", f"{USER} can assume {ROLE} and read the project files today", contractor_can_work),
        Check("end-date", "Access has an end date within the next 30 days", access_has_end_date),
        Check("access-ends", f"After the end date {USER} can no longer get in", access_ends),
        Check("short-sessions", f"Sessions of {ROLE} last at most one hour", short_sessions),
        Check("no-access-keys", f"{USER} has no long-term access keys", no_long_term_keys),
        Check("assumed-role", f"{USER} has assumed {ROLE}", contractor_assumed_role),
    ),
    console_links=(("Users", "/iam/users"), ("Roles", "/iam/roles"), ("Create role", "/iam/roles/create")),
    start="Needs nothing from earlier labs: go on in the same account, or start from an empty account.",
)
