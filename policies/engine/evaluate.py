"""AWS policy evaluation logic, one small function per documented step.

Sources (IAM User Guide): "Policy evaluation logic" / "Determining whether a request is allowed or denied
within an account", "Cross-account policy evaluation logic", "Permissions boundaries for IAM entities",
"Session policies", "How IAM roles differ from resource-based policies", "AWS JSON policy elements:
Principal / NotPrincipal", and the AWS Organizations "SCP evaluation" page.

Order of the steps, as documented:
1. Explicit deny in any applicable policy (SCPs, resource-based, identity-based, boundary, session) → Deny.
2. SCPs: every level from the organization root down to the account must allow (principals of the
   management account, and service-linked roles, are exempt).
3. Resource-based policy. Same account: an allow that names the caller itself (an IAM user ARN, a role
   session ARN, a federated-user ARN, or ``*``) is enough on its own; an allow naming the role ARN stands in
   for the identity-based allow but is still limited by the boundary and the session policies; an allow
   naming the account only delegates to the identity policies. Role trust policies (``sts:AssumeRole*``)
   must always allow, even in the same account. Cross account: the resource policy must allow the caller.
4. Identity-based policies must allow (unless 3 already decided).
5. Permissions boundary, if present, must allow.
6. Session policies, if present, must allow; a federated-user session without one is denied.
The account root user is outside steps 4-6 (no identity policies apply to it) but not outside 1-3.

Statement numbers in ``StatementRef`` are 0-based positions in the policy's ``Statement`` array.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .ast import PolicyDocument, PrincipalEntry, Statement
from .conditions import CompiledCondition, all_conditions_hold, compile_conditions
from .context import IAM_ENTITY_TYPES, Principal, Request
from .matching import ActionSet, ResourcePattern, action_service

Outcome = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
Layer = Literal["identity", "permissions_boundary", "scp", "session", "resource", "trust"]

TRUST_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"})

# How specifically a resource-policy Principal named the caller (higher = stronger grant).
ACCOUNT, ROLE, DIRECT = 1, 2, 3

_NO_IDENTITY_TYPES = frozenset({"Root", "AWSService", "WebIdentityUser", "SAMLUser", "Anonymous"})


# ------------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True, slots=True)
class LabelledPolicy:
    """A parsed policy and the label decisions name it by, e.g.
    ``arn:aws:iam::aws:policy/IAMReadOnlyAccess`` or ``inline user/alice/MyPolicy``."""

    label: str
    document: PolicyDocument


@dataclass(frozen=True)
class PolicySet:
    """Every policy that applies to one request.

    ``scps``: one tuple of policies per organization level (root, OUs..., account); None = no organization.
    ``session``: the session policies of the caller's session; None = none were passed.
    ``resource``: the resource-based policy (for ``sts:AssumeRole*`` the role's trust policy).
    ``resource_account_scps``: the resource owner's SCPs; they never bind a caller from another account, and a
    caller from the same account is bound by ``scps``, so evaluation does not read them.
    """

    identity: tuple[LabelledPolicy, ...] = ()
    permissions_boundary: LabelledPolicy | None = None
    scps: tuple[tuple[LabelledPolicy, ...], ...] | None = None
    management_account: str | None = None
    session: tuple[LabelledPolicy, ...] | None = None
    resource: LabelledPolicy | None = None
    resource_account_scps: tuple[tuple[LabelledPolicy, ...], ...] | None = None


# ----------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class StatementRef:
    policy: str  # the LabelledPolicy label
    layer: str
    statement: int  # 0-based index in the Statement array
    sid: str | None


@dataclass(frozen=True, slots=True)
class ConditionNote:
    """How one condition of a deciding statement evaluated."""

    policy: str
    statement: int
    operator: str
    key: str
    request_value: str | tuple[str, ...] | None  # None: the key is absent from the request
    policy_values: tuple[str, ...]
    result: bool

    def __str__(self) -> str:
        value = "absent" if self.request_value is None else repr(self.request_value)
        return (
            f"{self.policy} statement {self.statement}: {self.operator} {self.key} (request: {value}) → {self.result}"
        )


_DENY_PHRASE = {
    "identity": "an identity-based policy",
    "permissions_boundary": "a permissions boundary",
    "scp": "a service control policy",
    "session": "a session policy",
    "resource": "a resource-based policy",
    "trust": "a resource-based policy",
}
_NO_ALLOW_PHRASE = {
    "identity": "identity-based policy",
    "permissions_boundary": "permissions boundary",
    "scp": "service control policy",
    "session": "session policy",
    "resource": "resource-based policy",
    "trust": "role trust policy",
}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    deciding: tuple[StatementRef, ...] = ()
    missing_layer: str | None = None  # ImplicitDeny: the layer that lacked an allow
    action: str = ""
    errors: tuple[str, ...] = ()
    # What condition_notes is computed from (on first access; most callers never look).
    note_source: tuple[object, ...] = field(default=(), compare=False, repr=False)

    @property
    def condition_notes(self) -> tuple[ConditionNote, ...]:
        """For each condition of the deciding statements: the request value and how it evaluated."""
        cached = self.__dict__.get("_notes")
        if cached is None:
            cached = condition_notes(*self.note_source) if self.note_source else ()  # type: ignore[arg-type]
            object.__setattr__(self, "_notes", cached)
        return cached

    @classmethod
    def make(
        cls,
        outcome: Outcome,
        deciding: tuple[StatementRef, ...],
        missing_layer: str | None,
        action: str,
        note_source: tuple[object, ...] = (),
    ) -> Decision:
        """Same as the constructor, minus the cost of a frozen dataclass __init__ (one setattr per field
        through object.__setattr__), which was a measurable share of a decision."""
        decision = object.__new__(cls)
        decision.__dict__.update(
            outcome=outcome,
            deciding=deciding,
            missing_layer=missing_layer,
            action=action,
            errors=(),
            note_source=note_source,
        )
        return decision

    @property
    def allowed(self) -> bool:
        return self.outcome == "Allow"

    def reason(self) -> str:
        """AWS's AccessDenied suffix, naming one policy type, e.g.
        ``because no identity-based policy allows the iam:CreateUser action``."""
        if self.outcome == "ExplicitDeny":
            layer = self.deciding[0].layer if self.deciding else "identity"
            return f"with an explicit deny in {_DENY_PHRASE[layer]}"
        if self.outcome == "ImplicitDeny":
            return f"because no {_NO_ALLOW_PHRASE[self.missing_layer or 'identity']} allows the {self.action} action"
        return ""

    def access_denied_message(self, principal_arn: str, resource: str | None = None) -> str:
        """The whole AccessDenied text; ``resource`` None leaves out the "on resource" part."""
        on = f" on resource: {resource}" if resource else ""
        return f"User: {principal_arn} is not authorized to perform: {self.action}{on} {self.reason()}"


# ---------------------------------------------------------------------------------- compiled policies


class CompiledStatement:
    """A Statement with its matchers built once."""

    __slots__ = (
        "statement",
        "allow",
        "actions",
        "not_actions",
        "resources",
        "not_resources",
        "resource_any",
        "conditions",
        "principals",
        "not_principals",
        "position",
    )

    def __init__(self, statement: Statement, variables: bool, position: int = 0) -> None:
        self.statement = statement
        self.position = position  # in CompiledPolicy.statements
        self.allow = statement.effect == "Allow"
        self.actions = ActionSet(statement.actions or ())
        self.not_actions = ActionSet(statement.not_actions) if statement.not_actions else None
        self.resources = tuple(ResourcePattern(r, variables) for r in statement.resources or ())
        # "*" covers everything; a trust-policy statement (no Resource element) covers the role it is on.
        self.resource_any = (
            "*" in statement.resources if statement.resources is not None else statement.not_resources is None
        )
        self.not_resources = (
            tuple(ResourcePattern(r, variables) for r in statement.not_resources) if statement.not_resources else None
        )
        self.conditions: tuple[CompiledCondition, ...] = compile_conditions(statement.conditions, variables)
        self.principals = statement.principals
        self.not_principals = statement.not_principals

    def matches_action(self, action: str, service: str) -> bool:
        if self.not_actions is not None:
            return not self.not_actions.match(action, service)
        return self.actions.match(action, service)

    def matches_resource(self, resource: str, ctx: Mapping[str, object]) -> bool:
        if self.resource_any:
            return True
        if self.not_resources is not None:
            results = [p.match(resource, ctx) for p in self.not_resources]
            # An unresolved variable makes the element not match, so the statement does not apply.
            return None not in results and not any(results)
        for p in self.resources:  # noqa: SIM110 - hot path: a loop costs no generator per call
            if p.match(resource, ctx):
                return True
        return False

    def matches_conditions(self, ctx: Mapping[str, object]) -> bool:
        return not self.conditions or all_conditions_hold(self.conditions, ctx)


class CompiledPolicy:
    """A document's statements, indexed by the literal service prefix of their actions."""

    __slots__ = ("statements", "by_service", "generic", "ref_cache")

    def __init__(self, document: PolicyDocument) -> None:
        variables = document.variables_enabled
        self.statements = tuple(CompiledStatement(s, variables, i) for i, s in enumerate(document.statements))
        by_service: dict[str, list[CompiledStatement]] = {}
        generic: list[CompiledStatement] = []
        for cs in self.statements:
            services = {action_service(p) for p in cs.statement.actions or ()} if cs.statement.actions else {None}
            if None in services:
                generic.append(cs)  # NotAction, "*", or a wildcard in the service prefix
                continue
            for service in services:
                by_service.setdefault(service, []).append(cs)  # type: ignore[arg-type]
        self.by_service = {k: tuple(v) for k, v in by_service.items()}
        self.generic = tuple(generic)
        self.ref_cache: dict[tuple[str, str], tuple[StatementRef, ...]] = {}

    def candidates(self, service: str) -> Iterable[CompiledStatement]:
        specific = self.by_service.get(service, ())
        if not self.generic:
            return specific
        if not specific:
            return self.generic
        return sorted((*specific, *self.generic), key=lambda cs: cs.statement.index)

    def refs(self, label: str, layer: str) -> tuple[StatementRef, ...]:
        """The StatementRefs of this document's statements under one label and layer (immutable: built once,
        not once per decision or per PolicySet)."""
        found = self.ref_cache.get((label, layer))
        if found is None:
            found = tuple(StatementRef(label, layer, cs.statement.index, cs.statement.sid) for cs in self.statements)
            if len(self.ref_cache) < 64:  # a document has a handful of labels; the bound only guards odd input
                self.ref_cache[label, layer] = found
        return found


# One statement of a layer that matched an action: (is Allow, its hit, the statement when resource or conditions
# remain to be checked, else None).
Row = tuple[bool, "Hit", "CompiledStatement | None"]
# Per action: (Allow hit, Deny hits, None) when the action alone decides the layer (every matching statement has
# Resource "*" and no conditions), else (None, (), rows to check against the resource and context).
ActionEntry = tuple["Hit | None", "tuple[Hit, ...]", "tuple[Row, ...] | None"]

_ACTION_CACHE_SIZE = 4096
_NOTHING: ActionEntry = (None, (), None)
_UNKNOWN: Any = object()  # a service not looked at yet


class LayerIndex:
    """All statements of one layer's policies, by service, in policy then statement order. Built once per PolicySet
    and layer; a service's candidate tuple is built on first use, and so is its shared entry (see ``entry``)."""

    __slots__ = ("layer", "policies", "cache", "service_entries")

    def __init__(self, layer: str, policies: Iterable[LabelledPolicy]) -> None:
        self.layer = layer
        self.policies = [(lp.label, compiled(lp.document)) for lp in policies]
        self.cache: dict[str, tuple[Hit, ...]] = {}
        # Per service: the entry every action of the service shares, when no statement's Action/NotAction tells
        # the service's actions apart (``*``, ``s3:*``, a NotAction naming other services); None when some does.
        self.service_entries: dict[str, ActionEntry | None] = {}

    def candidates(self, service: str) -> tuple[Hit, ...]:
        found = self.cache.get(service)
        if found is None:
            hits: list[Hit] = []
            for label, cp in self.policies:
                statements = cp.candidates(service)
                if statements:
                    refs = cp.refs(label, self.layer)
                    hits.extend([(label, cs, refs[cs.position]) for cs in statements])
            found = tuple(hits)
            if len(self.cache) < 4096:  # services are a few hundred; the bound only guards odd input
                self.cache[service] = found
        return found

    def entry(self, action: str, service: str) -> ActionEntry:
        """What the layer's statements say about one (lowercased) action, before resource and conditions.
        (LayerPlan caches these per action.)"""
        if len(action) > len(service):  # "service:Name" (an action with no colon is its own service)
            shared = self.service_entries.get(service, _UNKNOWN)
            if shared is _UNKNOWN:
                shared = self.shared_entry(action, service)
                if len(self.service_entries) < 4096:
                    self.service_entries[service] = shared
            if shared is not None:
                return shared
        return self.build(action, service)

    def shared_entry(self, action: str, service: str) -> ActionEntry | None:
        """The entry of ``action`` if every ``service:Name`` action gets the same one, else None."""
        for _, cs, _ in self.candidates(service):
            if cs.not_actions is None:
                if not cs.actions.covers_service(service):
                    return None
            elif cs.not_actions.may_match_service(service):
                return None
        return self.build(action, service)

    def build(self, action: str, service: str) -> ActionEntry:
        """The statements whose Action/NotAction match ``action``, in order, as an ActionEntry."""
        rows: list[Row] = []
        static = True  # every matching statement has Resource "*" and no conditions
        allow_decided = False  # an unconditional Allow matched: a later Allow can never be the first
        for hit in self.candidates(service):
            cs = hit[1]
            if cs.allow and allow_decided:
                continue
            if cs.not_actions is None:
                if not cs.actions.match(action, service):
                    continue
            elif cs.not_actions.match(action, service):
                continue
            if cs.resource_any and not cs.conditions:
                rows.append((cs.allow, hit, None))
                allow_decided = allow_decided or cs.allow
            else:
                rows.append((cs.allow, hit, cs))
                static = False
        if not rows:
            found = _NOTHING
        elif static:
            allow: Hit | None = None
            denies: list[Hit] = []
            for is_allow, hit, _ in rows:
                if not is_allow:
                    denies.append(hit)
                elif allow is None:
                    allow = hit
            found = (allow, tuple(denies), None)
        else:
            found = (None, (), tuple(rows))
        return found


def scan_rows(rows: tuple[Row, ...], resource: str, ctx: Mapping[str, object]) -> tuple[Hit | None, tuple[Hit, ...]]:
    """Check the remaining resource and conditions of an action's rows (the engine's hot loop)."""
    allow: Hit | None = None
    denies: tuple[Hit, ...] = ()
    for is_allow, hit, cs in rows:
        if is_allow and allow is not None:
            continue
        if cs is not None:
            if not cs.resource_any and not cs.matches_resource(resource, ctx):
                continue
            for condition in cs.conditions:
                if not condition.evaluate(ctx):
                    break
            else:
                if is_allow:
                    allow = hit
                else:
                    denies += (hit,)
            continue
        if is_allow:
            allow = hit
        else:
            denies += (hit,)
    return allow, denies


def compiled(document: PolicyDocument) -> CompiledPolicy:
    """The document's compiled form, built on first use and cached on the (frozen) document."""
    cached = document.compiled
    if cached is None:
        cached = CompiledPolicy(document)
        object.__setattr__(document, "compiled", cached)
    return cached


# ------------------------------------------------------------------------------------ principal match


def caller_identities(p: Principal) -> tuple[tuple[str, str], ...]:
    """The identities a request carries, most specific first (NotPrincipal must exclude all of them)."""
    if p.type == "AssumedRole":
        return (("arn", p.arn), ("role", p.role_arn or ""), ("account", p.account))
    if p.type == "Root":
        return (("account", p.account),)
    if p.type in IAM_ENTITY_TYPES:
        return (("arn", p.arn), ("account", p.account))
    if p.type == "AWSService":
        return (("service", p.arn),)
    if p.type in ("WebIdentityUser", "SAMLUser"):
        return (("federated", p.provider or p.arn),)
    return ()


def _account_of_entry(value: str) -> str | None:
    if len(value) == 12 and value.isdigit():
        return value
    if value.endswith(":root") and value.startswith("arn:") and ":iam::" in value:
        account = value.split(":")[4]
        return account if len(account) == 12 else None
    return None


def entry_strength(entry: PrincipalEntry, p: Principal) -> int:
    """0 if the Principal entry does not name the caller, else how specifically it does."""
    kind, value = entry.kind, entry.value
    if kind == "*":
        return DIRECT
    if kind == "AWS":
        if p.type not in IAM_ENTITY_TYPES and p.type != "Anonymous":
            return 0
        if value == "*":
            return DIRECT
        if p.type == "Anonymous":
            return 0
        account = _account_of_entry(value)
        if account is not None:
            return ACCOUNT if account == p.account else 0
        if value == p.arn and p.type != "Root":
            return DIRECT
        if p.type == "AssumedRole" and value == p.role_arn:
            return ROLE
        return 0
    if kind == "Service":
        return DIRECT if p.type == "AWSService" and value == p.arn else 0
    if kind == "Federated":
        return DIRECT if p.type in ("WebIdentityUser", "SAMLUser") and value == (p.provider or p.arn) else 0
    if kind == "CanonicalUser":
        return DIRECT if p.canonical_user is not None and value == p.canonical_user else 0
    return 0


def principal_strength(entries: tuple[PrincipalEntry, ...], p: Principal) -> int:
    best = 0
    for entry in entries:
        strength = entry_strength(entry, p)
        if strength > best:
            best = strength
    return best


def _identity_listed(identity: tuple[str, str], entries: tuple[PrincipalEntry, ...]) -> bool:
    kind, value = identity
    for entry in entries:
        if entry.kind == "*" or (entry.kind == "AWS" and entry.value == "*"):
            return True
        if kind == "account" and entry.kind == "AWS" and _account_of_entry(entry.value) == value:
            return True
        if kind in ("arn", "role") and entry.kind == "AWS" and entry.value == value:
            return True
        if (kind, entry.kind) in (("service", "Service"), ("federated", "Federated")) and entry.value == value:
            return True
    return False


def not_principal_applies(cs: CompiledStatement, p: Principal, has_boundary: bool) -> bool:
    """NotPrincipal: the statement applies unless *every* identity of the request is listed (hence AWS's
    advice to list the account and role ARNs too). A Deny with NotPrincipal always applies to an IAM
    principal that has a permissions boundary (documented on the permissions-boundaries page)."""
    entries = cs.not_principals or ()
    if not cs.allow and has_boundary and p.type in ("IAMUser", "AssumedRole"):
        return True
    identities = caller_identities(p)
    if not identities:
        return not any(e.kind == "*" or (e.kind == "AWS" and e.value == "*") for e in entries)
    return not all(_identity_listed(i, entries) for i in identities)


def statement_principal_strength(cs: CompiledStatement, p: Principal, has_boundary: bool) -> int:
    if cs.principals is not None:
        return principal_strength(cs.principals, p)
    if cs.not_principals is not None:
        return DIRECT if not_principal_applies(cs, p, has_boundary) else 0
    return DIRECT  # identity-side policies: the principal is implicit


# ------------------------------------------------------------------------------------- layer matching

Hit = tuple[str, CompiledStatement, StatementRef]  # (policy label, statement, its ref)


@dataclass(slots=True)
class LayerResult:
    layer: str
    denies: list[Hit] = field(default_factory=list)
    allow: Hit | None = None
    allow_strength: int = 0


def statement_applies(cs: CompiledStatement, request: Request) -> bool:
    return (
        cs.matches_action(request.action_lc, request.service)
        and (cs.resource_any or cs.matches_resource(request.resource, request.ctx))
        and cs.matches_conditions(request.ctx)
    )


def match_resource_layer(layer: str, lp: LabelledPolicy, request: Request, has_boundary: bool) -> LayerResult:
    """Resource/trust policy: Principal matters; keep the allow that names the caller most specifically."""
    result = LayerResult(layer)
    p = request.principal
    for cs in compiled(lp.document).candidates(request.service):
        if not statement_applies(cs, request):
            continue
        strength = statement_principal_strength(cs, p, has_boundary)
        if not strength:
            continue
        hit = (lp.label, cs, StatementRef(lp.label, layer, cs.statement.index, cs.statement.sid))
        if not cs.allow:
            result.denies.append(hit)
        elif strength > result.allow_strength:
            result.allow, result.allow_strength = hit, strength
    return result


# -------------------------------------------------------------------------------------- the steps


def is_trust_request(request: Request) -> bool:
    return request.action_lc in TRUST_ACTIONS


def scps_apply(request: Request, policies: PolicySet) -> bool:
    """SCPs bind principals of member accounts (root included), not the management account, service
    principals or service-linked roles."""
    p = request.principal
    if policies.scps is None or p.type not in IAM_ENTITY_TYPES:
        return False
    if policies.management_account is not None and p.account == policies.management_account:
        return False
    return not p.is_service_linked_role_session


def identity_side_applies(request: Request) -> bool:
    return request.principal.type not in _NO_IDENTITY_TYPES


# Per action, every layer's entry: (one per SCP level), identity, boundary (None: none), session (None: none).
PlanEntry = tuple[tuple[ActionEntry, ...], ActionEntry, "ActionEntry | None", "ActionEntry | None"]


class LayerPlan:
    """The indexes of a PolicySet's layers, built once per PolicySet, and what they say about each action."""

    __slots__ = ("scps", "identity", "boundary", "session", "by_action", "by_service", "scp_memo")

    def __init__(
        self,
        scps: tuple[LayerIndex, ...],
        identity: LayerIndex,
        boundary: LayerIndex | None,
        session: LayerIndex | None,
    ) -> None:
        self.scps, self.identity, self.boundary, self.session = scps, identity, boundary, session
        self.by_action: dict[str, PlanEntry] = {}
        self.by_service: dict[str, PlanEntry] = {}
        self.scp_memo: tuple[object, bool] = (None, False)  # (principal, whether the SCPs bind it)

    def entries(self, action: str, service: str) -> PlanEntry:
        """Every layer's entry for one lowercased action, built on first use and kept for the PolicySet's life."""
        found = self.by_action.get(action)
        if found is None:
            named = len(action) > len(service)  # "service:Name" (an action with no colon is its own service)
            # Every layer may answer all of the service's actions with one entry (see LayerIndex.entry).
            found = self.by_service.get(service) if named else None
            if found is None:
                found = (
                    tuple(index.entry(action, service) for index in self.scps),
                    self.identity.entry(action, service),
                    None if self.boundary is None else self.boundary.entry(action, service),
                    None if self.session is None else self.session.entry(action, service),
                )
                if named and len(self.by_service) < 4096 and self.shared(service):
                    self.by_service[service] = found
            if len(self.by_action) >= _ACTION_CACHE_SIZE:
                self.by_action.clear()  # a sweep over the whole catalog: start over rather than grow without bound
            self.by_action[action] = found
        return found

    def shared(self, service: str) -> bool:
        """Whether every layer answers all of the service's actions with one entry (see LayerIndex.entry)."""
        return all(
            index.service_entries.get(service) is not None
            for index in (*self.scps, self.identity, self.boundary, self.session)
            if index is not None
        )


def layer_plan(policies: PolicySet) -> LayerPlan:
    plan: LayerPlan | None = policies.__dict__.get("_plan")
    if plan is None:
        plan = LayerPlan(
            tuple(LayerIndex("scp", level) for level in policies.scps or ()),
            LayerIndex("identity", policies.identity),
            None
            if policies.permissions_boundary is None
            else LayerIndex("permissions_boundary", (policies.permissions_boundary,)),
            None if policies.session is None else LayerIndex("session", policies.session),
        )
        object.__setattr__(policies, "_plan", plan)  # cached outside the dataclass fields
    return plan


def _layer_result(layer: str, entry: ActionEntry, request: Request) -> LayerResult:
    rows = entry[2]
    allow, denies = (entry[0], entry[1]) if rows is None else scan_rows(rows, request.resource, request.ctx)
    return LayerResult(layer, list(denies), allow, DIRECT if allow is not None else 0)


def collect_layers(request: Request, policies: PolicySet) -> dict[str, list[LayerResult]]:
    """Match the request against every applicable layer (the input to all later steps)."""
    plan = layer_plan(policies)
    scp_entries, identity, boundary, session = plan.entries(request.action_lc, request.service)
    identity_side = identity_side_applies(request)
    layers: dict[str, list[LayerResult]] = {}
    if plan.scps and scps_apply(request, policies):
        layers["scp"] = [_layer_result("scp", entry, request) for entry in scp_entries]
    if policies.resource is not None:
        name = "trust" if is_trust_request(request) else "resource"
        has_boundary = plan.boundary is not None and identity_side
        layers["resource"] = [match_resource_layer(name, policies.resource, request, has_boundary)]
    if identity_side:
        layers["identity"] = [_layer_result("identity", identity, request)]
        if boundary is not None:
            layers["permissions_boundary"] = [_layer_result("permissions_boundary", boundary, request)]
        if session is not None:
            layers["session"] = [_layer_result("session", session, request)]
    elif session is not None and request.principal.type == "Root":
        layers["session"] = [_layer_result("session", session, request)]  # AssumeRoot's task policy
    return layers


def explicit_denies(layers: dict[str, list[LayerResult]]) -> list[tuple[str, Hit]]:
    """Step 1: any applicable Deny in any policy decides."""
    return [(r.layer, hit) for results in layers.values() for r in results for hit in r.denies]


def scp_missing_allow(layers: dict[str, list[LayerResult]]) -> bool:
    """Step 2: each SCP level needs an Allow."""
    return any(r.allow is None for r in layers.get("scp", ()))


def _allow(layers: dict[str, list[LayerResult]], name: str) -> LayerResult | None:
    results = layers.get(name)
    return results[0] if results and results[0].allow is not None else None


def resource_grant_strength(layers: dict[str, list[LayerResult]]) -> int:
    result = _allow(layers, "resource")
    return result.allow_strength if result else 0


def session_layer_missing(request: Request, policies: PolicySet, layers: dict[str, list[LayerResult]]) -> bool:
    """Step 6: session policies, if passed, must allow; a federated-user session needs one."""
    if policies.session is not None:
        return _allow(layers, "session") is None
    return request.principal.type == "FederatedUser"


def decide(
    request: Request, policies: PolicySet, layers: dict[str, list[LayerResult]]
) -> tuple[Outcome, list[str], str | None]:
    """Steps 2-6; returns (outcome, layers whose allow decided it, missing layer)."""
    p = request.principal
    scp_used = ["scp"] if "scp" in layers else []
    if scp_missing_allow(layers):
        return "ImplicitDeny", [], "scp"
    resource_name = "trust" if is_trust_request(request) else "resource"
    strength = resource_grant_strength(layers)
    if not identity_side_applies(request):
        if p.type == "Root" and policies.session is not None and not request.is_cross_account:
            # A privileged root session (STS AssumeRoot): its task policy limits it like a session policy.
            if _allow(layers, "session") is None:
                return "ImplicitDeny", [], "session"
            return "Allow", [*scp_used, "session"], None
        return root_or_service_decision(request, strength, scp_used, resource_name)
    cross, trust = request.is_cross_account, is_trust_request(request)
    if not cross and strength == DIRECT:
        return "Allow", [*scp_used, "resource"], None  # same account, names the caller itself
    if (cross or trust) and strength == 0:
        return "ImplicitDeny", [], resource_name  # the resource side must allow
    used = [*scp_used, "resource"] if cross or trust else [*scp_used]
    if _allow(layers, "identity") is not None:
        used.append("identity")
    elif not cross and strength == ROLE:
        used.append("resource")  # same account, not trust: a role-ARN grant stands in for identity
    else:
        return "ImplicitDeny", [], "identity"
    if policies.permissions_boundary is not None:
        if _allow(layers, "permissions_boundary") is None:
            return "ImplicitDeny", [], "permissions_boundary"
        used.append("permissions_boundary")
    if p.is_session or policies.session is not None:
        if session_layer_missing(request, policies, layers):
            return "ImplicitDeny", [], "session"
        if policies.session is not None:
            used.append("session")
    return "Allow", used, None


def root_or_service_decision(
    request: Request, strength: int, scp_used: list[str], resource_name: str
) -> tuple[Outcome, list[str], str | None]:
    """The root user has every permission in its own account; service and federated (web identity/SAML)
    callers have no identity policies, so the resource/trust policy alone decides."""
    p = request.principal
    if p.type == "Root" and not request.is_cross_account and not is_trust_request(request):
        return "Allow", scp_used, None
    if strength:
        return "Allow", [*scp_used, "resource"], None
    return "ImplicitDeny", [], resource_name


def evaluate(request: Request, policies: PolicySet) -> Decision:
    if policies.resource is None and request.principal.type not in _NO_IDENTITY_TYPES:
        return evaluate_identity_side(request, policies)
    layers = collect_layers(request, policies)
    denies = explicit_denies(layers)
    if denies:
        refs = tuple(_ref(layer, hit) for layer, hit in denies)
        return Decision.make("ExplicitDeny", refs, None, request.action, (request, denies))
    outcome, used, missing = decide(request, policies, layers)
    if outcome != "Allow":
        return Decision.make(outcome, (), missing, request.action)
    hits = [(r.layer, r.allow) for name in used for r in layers.get(name, ()) if r.allow is not None]
    refs = tuple(_ref(layer, hit) for layer, hit in hits)
    return Decision.make("Allow", refs, None, request.action, (request, hits))


def evaluate_identity_side(request: Request, policies: PolicySet) -> Decision:
    """``evaluate`` for the common case, with the steps above fused into one pass: no resource-based policy and a
    caller that has identity policies. Same outcome, deciding statements and order as the general path
    (tests/policies/engine/test_fast_path.py compares the two)."""
    plan: LayerPlan | None = policies.__dict__.get("_plan")
    if plan is None:
        plan = layer_plan(policies)
    action = request.action_lc
    entries = plan.by_action.get(action)
    if entries is None:
        entries = plan.entries(action, request.service)
    scp_entries, identity, boundary, session = entries
    resource, ctx, principal = request.resource, request.ctx, request.principal
    denies: list[tuple[str, Hit]] | None = None

    scp_allows: list[Hit | None] = []
    if scp_entries:
        memo = plan.scp_memo
        if memo[0] is principal:
            scps_bind = memo[1]
        else:
            scps_bind = scps_apply(request, policies)
            plan.scp_memo = (principal, scps_bind)
        if scps_bind:
            for entry in scp_entries:
                rows = entry[2]
                allow, found = (entry[0], entry[1]) if rows is None else scan_rows(rows, resource, ctx)
                if found:
                    denies = denies or []
                    denies.extend(("scp", hit) for hit in found)
                scp_allows.append(allow)
    rows = identity[2]
    identity_allow, found = (identity[0], identity[1]) if rows is None else scan_rows(rows, resource, ctx)
    if found:
        denies = denies or []
        denies.extend(("identity", hit) for hit in found)
    boundary_allow = session_allow = None
    if boundary is not None:
        rows = boundary[2]
        boundary_allow, found = (boundary[0], boundary[1]) if rows is None else scan_rows(rows, resource, ctx)
        if found:
            denies = denies or []
            denies.extend(("permissions_boundary", hit) for hit in found)
    if session is not None:
        rows = session[2]
        session_allow, found = (session[0], session[1]) if rows is None else scan_rows(rows, resource, ctx)
        if found:
            denies = denies or []
            denies.extend(("session", hit) for hit in found)

    # Step 1: an explicit deny anywhere.
    if denies:
        refs = tuple(hit[2] for _, hit in denies)
        return Decision.make("ExplicitDeny", refs, None, request.action, (request, denies))
    # Step 2: every SCP level must allow.
    if None in scp_allows:
        return Decision.make("ImplicitDeny", (), "scp", request.action)
    # Step 3: with no resource-based policy, a role trust check or a cross-account request has nothing to allow it.
    if action in TRUST_ACTIONS:
        return Decision.make("ImplicitDeny", (), "trust", request.action)
    if request.resource_account and request.resource_account != principal.account:
        return Decision.make("ImplicitDeny", (), "resource", request.action)
    # Steps 4-6: identity policies, the boundary, the session policies.
    if identity_allow is None:
        return Decision.make("ImplicitDeny", (), "identity", request.action)
    hits: list[tuple[str, Hit]] = [("scp", hit) for hit in scp_allows]  # type: ignore[misc]
    hits.append(("identity", identity_allow))
    if boundary is not None:
        if boundary_allow is None:
            return Decision.make("ImplicitDeny", (), "permissions_boundary", request.action)
        hits.append(("permissions_boundary", boundary_allow))
    if session is not None:
        if session_allow is None:
            return Decision.make("ImplicitDeny", (), "session", request.action)
        hits.append(("session", session_allow))
    elif principal.type == "FederatedUser":
        return Decision.make("ImplicitDeny", (), "session", request.action)
    return Decision.make("Allow", tuple(hit[2] for _, hit in hits), None, request.action, (request, hits))


def _ref(layer: str, hit: Hit) -> StatementRef:
    return hit[2]


def condition_notes(request: Request, hits: list[tuple[str, Hit]]) -> tuple[ConditionNote, ...]:
    notes: list[ConditionNote] = []
    for _, (label, cs, _ref) in hits:
        for cc in cs.conditions:
            c = cc.condition
            notes.append(
                ConditionNote(
                    label,
                    cs.statement.index,
                    c.operator,
                    c.key,
                    request.ctx.get(cc.key),
                    c.values,
                    cc.evaluate(request.ctx),
                )
            )
    return tuple(notes)
