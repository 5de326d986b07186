"""The engine's precompiled path (per-action entries cached per PolicySet, per-service shared entries, the fused
identity-side evaluation) decides exactly as a plain reading of the policies does: every statement of every policy
matched in order, then the documented steps of ``decide``. (Policy sets here have no resource-based policy: that
case takes the general path, which the corpus covers.)"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import LabelledPolicy, PolicySet, Principal, Request, evaluate, parse_policy
from policies.engine.evaluate import (
    DIRECT,
    LayerResult,
    compiled,
    decide,
    explicit_denies,
    identity_side_applies,
    scps_apply,
    statement_applies,
)

ACCOUNT = "111122223333"
ACTION_PATTERNS = [
    "*",
    "s3:*",
    "s3:Get*",
    "S3:GetObject",
    "s3:PutObject",
    "*:Get*",
    "s?:GetObject",
    "iam:*User",
    "iam:GetUser",
    "sts:AssumeRole",
    "ec2:Describe*",
    "kms:*",
]
RESOURCES = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/${aws:username}/*", f"arn:aws:iam::{ACCOUNT}:user/*"]
CONDITIONS = [
    None,
    {"StringEquals": {"aws:username": "alice"}},
    {"StringNotEquals": {"aws:username": ["alice", "carol"]}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["a*"]}},
    {"Null": {"aws:username": "true"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
]
REQUEST_ACTIONS = [
    "s3:GetObject",
    "S3:getobject",
    "s3:PutObject",
    "iam:CreateUser",
    "iam:GetUser",
    "ec2:DescribeInstances",
    "sts:AssumeRole",
    "kms:Decrypt",
    "s3",
    "organizations:LeaveOrganization",
]


@st.composite
def statements(draw: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    s[draw(st.sampled_from(["Action", "Action", "NotAction"]))] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3)
    )
    s[draw(st.sampled_from(["Resource", "Resource", "NotResource"]))] = draw(
        st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2)
    )
    if (condition := draw(st.sampled_from(CONDITIONS))) is not None:
        s["Condition"] = condition
    return s


def documents(kind: str, max_size: int) -> st.SearchStrategy[Any]:
    def parse(docs: list[list[dict[str, Any]]]) -> list[Any]:
        return [
            parse_policy({"Version": "2012-10-17", "Statement": d}, kind=kind)  # type: ignore[arg-type]
            for d in docs
        ]

    return st.lists(st.lists(statements(), min_size=1, max_size=4), min_size=1, max_size=max_size).map(parse)


principals = st.sampled_from(
    [
        Principal("IAMUser", f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "alice"),
        Principal(
            "AssumedRole",
            f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/s",
            ACCOUNT,
            "dev",
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/dev",
            session_name="s",
        ),
        Principal(
            "AssumedRole",
            f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForX/s",
            ACCOUNT,
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
        ),
        Principal("FederatedUser", f"arn:aws:sts::{ACCOUNT}:federated-user/bob", ACCOUNT, "bob"),
        Principal("Root", f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT),
    ]
)


@st.composite
def policy_sets(draw: Any) -> PolicySet:
    identity = draw(documents("identity", 4))
    boundary = draw(st.none() | documents("boundary", 1))
    scps = draw(st.none() | st.lists(documents("scp", 2), min_size=1, max_size=2))
    session = draw(st.none() | documents("session", 2))
    return PolicySet(
        identity=tuple(LabelledPolicy(f"identity[{i}]", d) for i, d in enumerate(identity)),
        permissions_boundary=None if boundary is None else LabelledPolicy("permissions_boundary", boundary[0]),
        scps=None
        if scps is None
        else tuple(
            tuple(LabelledPolicy(f"scps[{level}][{i}]", d) for i, d in enumerate(docs))
            for level, docs in enumerate(scps)
        ),
        management_account=draw(st.sampled_from([None, ACCOUNT, "999988887777"])),
        session=None if session is None else tuple(LabelledPolicy(f"session[{i}]", d) for i, d in enumerate(session)),
    )


contexts = st.fixed_dictionaries(
    {},
    optional={
        "aws:username": st.sampled_from(["alice", "bob"]),
        "aws:MultiFactorAuthPresent": st.sampled_from(["true", "false"]),
        "aws:TagKeys": st.lists(st.sampled_from(["a", "ab", "b"]), max_size=2),
        "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        "s3:prefix": st.sampled_from(["home/alice/x", "home/bob/"]),
    },
)
requests = st.tuples(
    st.sampled_from(REQUEST_ACTIONS),
    st.sampled_from(["*", "arn:aws:s3:::b/alice/k", "arn:aws:s3:::b/k", f"arn:aws:iam::{ACCOUNT}:user/bob"]),
    st.sampled_from([None, None, ACCOUNT, "444455556666"]),
    contexts,
)


def plain_layer(layer: str, labelled: tuple[LabelledPolicy, ...], request: Request) -> LayerResult:
    """Every statement of every policy, in order: all applicable denies and the first applicable allow."""
    result = LayerResult(layer)
    for lp in labelled:
        for cs in compiled(lp.document).statements:
            if not statement_applies(cs, request):
                continue
            hit = (lp.label, cs, None)
            if not cs.allow:
                result.denies.append(hit)  # type: ignore[arg-type]
            elif result.allow is None:
                result.allow, result.allow_strength = hit, DIRECT  # type: ignore[assignment]
    return result


def plain_evaluate(request: Request, policies: PolicySet) -> tuple[str, list[tuple[str, int]], str | None]:
    layers: dict[str, list[LayerResult]] = {}
    if policies.scps is not None and scps_apply(request, policies):
        layers["scp"] = [plain_layer("scp", level, request) for level in policies.scps]
    if identity_side_applies(request):
        layers["identity"] = [plain_layer("identity", policies.identity, request)]
        if policies.permissions_boundary is not None:
            layers["permissions_boundary"] = [
                plain_layer("permissions_boundary", (policies.permissions_boundary,), request)
            ]
        if policies.session is not None:
            layers["session"] = [plain_layer("session", policies.session, request)]
    elif policies.session is not None and request.principal.type == "Root":
        layers["session"] = [plain_layer("session", policies.session, request)]  # AssumeRoot's task policy
    denies = explicit_denies(layers)
    if denies:
        return "ExplicitDeny", [(label, cs.statement.index) for _, (label, cs, _) in denies], None
    outcome, used, missing = decide(request, policies, layers)
    if outcome != "Allow":
        return outcome, [], missing
    hits = [r.allow for name in used for r in layers.get(name, ()) if r.allow is not None]
    return "Allow", [(label, cs.statement.index) for label, cs, _ in hits], None  # type: ignore[misc]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies=policy_sets(), principal=principals, asked=st.lists(requests, min_size=1, max_size=8))
def test_precompiled_evaluation_decides_as_a_plain_reading(
    policies: PolicySet, principal: Principal, asked: list[tuple[str, str, str | None, dict[str, Any]]]
) -> None:
    # Several requests against one PolicySet, some repeated: later ones are answered from the cached entries.
    for action, resource, resource_account, context in [*asked, *asked]:
        request = Request(principal, action, resource, resource_account, context)
        decision = evaluate(request, policies)
        outcome, deciding, missing = plain_evaluate(request, policies)
        assert decision.outcome == outcome, (action, resource, context)
        assert [(r.policy, r.statement) for r in decision.deciding] == deciding
        assert decision.missing_layer == missing
        for note in decision.condition_notes:
            assert any(note.policy == label and note.statement == index for label, index in deciding)


def test_decisions_stay_the_same_while_a_sweep_overflows_the_action_cache() -> None:
    """More distinct actions than one PolicySet keeps entries for (4,096): the first ones, asked again after the
    cache started over, get the same answers."""
    doc = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["svc1:Get*", "svc2:*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "svc1:GetSecret*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "NotAction": "svc3:*",
                    "Resource": "arn:aws:svc9:::only",
                    "Condition": {"StringEquals": {"aws:username": "alice"}},
                },
            ],
        }
    )
    policies = PolicySet(identity=(LabelledPolicy("p", doc),))
    alice = Principal("IAMUser", f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "alice")
    base = Request(alice, "svc1:GetThing", "*", None, {"aws:username": "alice"})
    verbs = ("Get", "GetSecret", "Put")
    actions = [f"svc{i % 4}:{verbs[i % 3]}Thing{i}" for i in range(5000)]

    def outcomes() -> list[tuple[str, str | None]]:
        return [(d.outcome, d.missing_layer) for a in actions for d in (evaluate(base.with_action(a), policies),)]

    first = outcomes()
    assert first == outcomes()
    assert ("ExplicitDeny", None) in first and ("Allow", None) in first and ("ImplicitDeny", "identity") in first
    on_resource = evaluate(base.with_action("svc0:PutThing", "arn:aws:svc9:::only"), policies)
    assert on_resource.outcome == "Allow" and on_resource.deciding[0].statement == 2


def test_an_action_without_a_service_prefix_does_not_share_the_services_answer() -> None:
    """``s3:*`` covers every ``s3:Name`` action, and the engine answers them with one shared entry; an action
    written ``s3`` (no colon) is not one of them, whatever order they are asked in."""
    doc = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    policies = PolicySet(identity=(LabelledPolicy("p", doc),))
    alice = Principal("IAMUser", f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "alice")
    asked = ["s3:GetObject", "s3", "s3:PutObject", "S3", "s3:ListBucket"]
    outcomes = [evaluate(Request(alice, action), policies).outcome for action in asked]
    assert outcomes == ["Allow", "ImplicitDeny", "Allow", "ImplicitDeny", "Allow"]
