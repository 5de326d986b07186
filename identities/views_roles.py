"""Console pages for IAM roles: list, Create role wizard, detail tabs, and the actions reachable from them.

Views parse input, call the services in ``identities.roles`` and ``policies.services`` (which authorize and
audit), and pick a response. AWS errors are shown inline with AWS's wording; unknown roles, and roles of other
accounts, are 404s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.last_accessed import get_service_last_accessed
from console.decorators import console_page
from console.htmx import confirm_delete, error_status, flash_created, pick_partial, redirect_or_hx
from console.tables import paginate
from core.calls import batch
from core.errors import IamError, InvalidInput, NoSuchEntity
from core.validation import check_input
from identities import instance_profiles, providers, roles, workflows
from identities import role_templates as templates
from identities.models import Role
from identities.pages import policy_choices
from identities.providers import is_service_linked
from identities.sections import Reads
from identities.services import TAGS_PER_RESOURCE, Tag
from policies import services as policy_services
from policies.documents import STARTER_POLICY, pretty
from policies.engine import validate_policy
from policies.models import InlinePolicy, ManagedPolicy, PolicyVersion, RolePolicyAttachment
from policies.simulator import effective_for

ROLE_SORTS = {"name": "name", "created": "created_at", "last_activity": "last_used_at"}
FINDING_TABS = (
    ("SECURITY_WARNING", "Security"),
    ("ERROR", "Errors"),
    ("WARNING", "General"),
    ("SUGGESTION", "Suggestions"),
)
DURATIONS = ((3600, "1 hour"), (7200, "2 hours"), (14400, "4 hours"), (28800, "8 hours"), (43200, "12 hours"))
ROLE_TAB_LABELS = (
    ("permissions", "Permissions"),
    ("trust", "Trust relationships"),
    ("tags", "Tags"),
    ("last_accessed", "Last Accessed"),
    ("effective", "Effective permissions"),
    ("revoke_sessions", "Revoke sessions"),
)
ROLE_TABS = tuple(key for key, _ in ROLE_TAB_LABELS)
REVOKE_ACK = "I acknowledge that I am revoking all active sessions for this role."


def role_url(role: Role, suffix: str = "") -> str:
    return f"/iam/roles/{quote(role.name, safe='')}{suffix}"


def _role_or_404(request: HttpRequest, role_name: str) -> Role:
    try:
        return roles.get_role(request.iam_ctx, role_name=role_name)
    except NoSuchEntity as exc:
        raise Http404(exc.message) from None


def duration_label(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if rest // 60:
        parts.append(f"{rest // 60} minute{'s' if rest // 60 != 1 else ''}")
    if rest % 60:
        parts.append(f"{rest % 60} second{'s' if rest % 60 != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def findings_context(text: str) -> dict:
    """The validation findings panel (``components/findings.html``) for a trust policy."""
    findings = validate_policy(text, kind="trust")
    tabs = [(code, label, [f for f in findings if f.finding_type == code]) for code, label in FINDING_TABS]
    return {"findings": findings, "finding_tabs": tabs, "has_errors": any(f.finding_type == "ERROR" for f in findings)}


def _trust_error(account_id: str, document: str) -> IamError | None:
    """The error CreateRole/UpdateAssumeRolePolicy would return for ``document``, if any."""
    try:
        check_input("iam", "UpdateAssumeRolePolicy", RoleName="x", PolicyDocument=document)
        roles.check_trust_policy(account_id, document)
    except IamError as exc:
        return exc
    return None


def _tags_from(data: QueryDict) -> list[Tag]:
    keys, values = data.getlist("tag_key"), data.getlist("tag_value")
    values += [""] * (len(keys) - len(values))
    return [Tag(k.strip(), v) for k, v in zip(keys, values, strict=False) if k.strip() or v]


def _tags_error(tags: list[Tag]) -> str:
    keys = [t.key.lower() for t in tags]
    if any(not k for k in keys):
        return "Tag keys can't be empty."
    if len(set(keys)) != len(keys):
        return "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    if len(keys) > TAGS_PER_RESOURCE:
        return f"You can add up to {TAGS_PER_RESOURCE} tags."
    if tags:
        try:
            check_input("iam", "TagRole", RoleName="x", Tags=[t.as_dict() for t in tags])
        except IamError as exc:
            return exc.message
    return ""


def _tag_action(tags: list[Tag], action: str) -> bool:
    """Add or remove a tag row; True when ``action`` was one of those."""
    if action == "add_tag":
        tags.append(Tag("", ""))
        return True
    if action.startswith("remove_tag:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(tags):
            del tags[int(index)]
        return True
    return False


# ---- list ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRow:
    role: Role
    trusted: list[str]


def _trusted_labels(role: Role) -> list[str]:
    labels = templates.trusted_entities(role.assume_role_policy)
    if is_service_linked(role):  # "AWS Service: ecs (Service-linked role)", as the console lists it
        labels = [f"{label} (Service-linked role)" for label in labels]
    return labels


@console_page
@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    table = paginate(request, roles.list_roles(request.iam_ctx), search=["name"], sorts=ROLE_SORTS, default_sort="name")
    rows = [RoleRow(role, _trusted_labels(role)) for role in table.rows]
    template = pick_partial(request, "identities/roles/role_list.html", {"role-table"})
    return render(request, template, {"table": table, "rows": rows, "nav": "roles"})


@console_page
@require_http_methods(["GET", "POST"])
def role_delete_selected(request: HttpRequest) -> HttpResponse:
    """Delete the roles selected in the list: a confirm page, then each role with its dependents."""
    data = request.POST if request.method == "POST" else request.GET
    names = [n for n in dict.fromkeys(data.getlist("roles")) if n][:100]
    found = list(roles.list_roles(request.iam_ctx).filter(name__in=names)) if names else []
    if not names:
        roles.list_roles(request.iam_ctx)  # the page reads the account's roles: authorized (and audited) like the list
    word = found[0].name if len(found) == 1 else "delete"
    error = ""
    if request.method == "POST" and found:
        if request.POST.get("confirm", "").strip() != word:
            error = f"To confirm deletion, enter {word} in the text input field."
        else:
            deleted = []
            for role in found:
                try:
                    workflows.delete_role_with_dependents(request.iam_ctx, role_name=role.name)
                except IamError as exc:
                    error = f"{role.name}: {exc.message}"
                    break
                deleted.append(role.name)
            if deleted:
                messages.success(request, f"Role{'s' if len(deleted) != 1 else ''} {', '.join(deleted)} deleted.")
            if not error:
                return redirect_or_hx(request, "/iam/roles")
            found = [r for r in found if r.name not in deleted]
            word = found[0].name if len(found) == 1 else "delete"
    return render(
        request,
        "identities/roles/role_delete.html",
        {
            "roles": found,
            "word": word,
            "error": error,
            "nav": "roles",
            "action": "/iam/roles/delete_selected",
            "cancel": "/iam/roles",
        },
        status=error_status(request, 400) if error else 200,
    )


# ---- create role wizard ----------------------------------------------------------------------------------------


def _flag(data: QueryDict, name: str) -> bool:
    return data.get(name) == "on"


@dataclass
class RoleDraft:
    """The wizard's state, carried between steps in the form itself (nothing is saved until Create role)."""

    entity_type: str = "service"
    service: str = "ec2"
    use_case: str = "ec2"
    account_choice: str = "this"
    account_id: str = ""
    require_external_id: bool = False
    external_id: str = ""
    require_mfa: bool = False
    web_provider: str = "cognito"
    web_audience: str = ""
    oidc_provider: str = ""
    saml_provider: str = ""
    saml_access: str = "console"
    saml_attribute: str = ""
    saml_value: str = ""
    custom_policy: str = templates.CUSTOM_STARTER
    policies: list[str] = field(default_factory=list)
    use_boundary: bool = False
    boundary: str = ""
    role_name: str = ""
    description: str = ""
    tags: list[Tag] = field(default_factory=list)

    @classmethod
    def from_post(cls, data: QueryDict) -> RoleDraft:
        def choice(name: str, allowed: tuple[str, ...], default: str) -> str:
            value = data.get(name, default)
            return value if value in allowed else default

        service = choice("service", tuple(templates.SERVICES_BY_KEY), "ec2")
        use_cases = tuple(u.key for u in templates.SERVICES_BY_KEY[service].use_cases)
        return cls(
            entity_type=choice("entity_type", templates.ENTITY_KEYS, "service"),
            service=service,
            use_case=choice("use_case", use_cases, use_cases[0]),
            account_choice=choice("account_choice", ("this", "another"), "this"),
            account_id=data.get("account_id", "").strip()[:64],
            require_external_id=_flag(data, "require_external_id"),
            external_id=data.get("external_id", "")[:2000],
            require_mfa=_flag(data, "require_mfa"),
            web_provider=choice("web_provider", tuple(templates.WEB_PROVIDERS_BY_KEY), "cognito"),
            web_audience=data.get("web_audience", "")[:2000],
            oidc_provider=data.get("oidc_provider", "")[:512],
            saml_provider=data.get("saml_provider", "")[:2048],
            saml_access=choice("saml_access", ("programmatic", "console"), "console"),
            saml_attribute=data.get("saml_attribute", "")[:200],
            saml_value=data.get("saml_value", "")[:2000],
            custom_policy=data.get("custom_policy", templates.CUSTOM_STARTER)[:200_000],
            policies=[p for p in dict.fromkeys(data.getlist("policies")) if p][:100],
            use_boundary=_flag(data, "use_boundary"),
            boundary=data.get("boundary", ""),
            role_name=data.get("role_name", "").strip(),
            description=data.get("description", ""),
            tags=_tags_from(data),
        )

    @property
    def use_case_obj(self) -> templates.UseCase | None:
        return templates.SERVICES_BY_KEY[self.service].use_case(self.use_case)

    @property
    def instance_profile(self) -> bool:
        return self.entity_type == "service" and bool(self.use_case_obj and self.use_case_obj.instance_profile)

    def trust_policy(self, account_id: str) -> str:
        """The trust policy Step 1 describes; raises TrustInputError for a missing or malformed field."""
        if self.entity_type == "service":
            return templates.service_trust(self.service, self.use_case)[0]
        if self.entity_type == "account":
            return templates.account_trust(
                this_account=account_id,
                other=self.account_choice == "another",
                account_id=self.account_id,
                require_external_id=self.require_external_id,
                external_id=self.external_id,
                require_mfa=self.require_mfa,
            )
        if self.entity_type == "web":
            return templates.web_identity_trust(
                this_account=account_id,
                provider=self.web_provider,
                audience=self.web_audience,
                oidc_provider=self.oidc_provider,
            )
        if self.entity_type == "saml":
            return templates.saml_trust(
                provider_arn=self.saml_provider,
                console_access=self.saml_access == "console",
                attribute=self.saml_attribute,
                value=self.saml_value,
            )
        return self.custom_policy


def _validate_role_step(request: HttpRequest, draft: RoleDraft, step: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    account_id = request.iam_ctx.account_id
    if step >= 1:
        try:
            document = draft.trust_policy(account_id)
        except templates.TrustInputError as exc:
            errors[exc.field] = exc.message
        else:
            if error := _trust_error(account_id, document):
                errors["trust"], errors["trust_code"] = error.message, error.code
    if step >= 2 and draft.use_boundary and not draft.boundary:
        errors["boundary"] = "Choose a policy to use as the permissions boundary."
    if step >= 3:
        if not draft.role_name:
            errors["role_name"] = "Role name is required."
        else:
            try:
                check_input("iam", "CreateRole", RoleName=draft.role_name, AssumeRolePolicyDocument="{}")
            except IamError as exc:
                errors["role_name"] = exc.message
            else:
                if Role.objects.in_account(account_id).named(draft.role_name).exists():
                    errors["role_name"] = f"Role with name {draft.role_name} already exists."
        if draft.description:
            try:
                check_input(
                    "iam", "CreateRole", RoleName="x", AssumeRolePolicyDocument="{}", Description=draft.description
                )
            except IamError as exc:
                errors["description"] = exc.message
        if error := _tags_error(draft.tags):
            errors["tags"] = error
    return errors


def _first_error_step(errors: dict[str, str]) -> int:
    if set(errors) - {"boundary", "role_name", "description", "tags", "general"}:
        return 1
    return 2 if "boundary" in errors else 3


def _wizard_context(request: HttpRequest, draft: RoleDraft, step: int, errors: dict[str, str]) -> dict:
    account_id = request.iam_ctx.account_id
    reads = Reads()  # step 2's pickers list through ListPolicies: a notice when it is refused
    context: dict = {
        "denied": reads.denied,
        "draft": draft,
        "step": step,
        "errors": errors,
        "nav": "roles",
        "account_id": account_id,
        "wizard_steps": ("Select trusted entity", "Add permissions", "Name, review, and create"),
        "entity_types": templates.ENTITY_TYPES,
        "services": templates.SERVICES,
        "service": templates.SERVICES_BY_KEY[draft.service],
        "web_providers": templates.WEB_PROVIDERS,
        "web_provider": templates.WEB_PROVIDERS_BY_KEY[draft.web_provider],
    }
    if step == 1 and draft.entity_type == "custom":
        context.update(findings_context(draft.custom_policy))
    if step == 2:
        data = request.POST
        context["policy_query"] = data.get("policy_query", "")
        context["policy_type"] = data.get("policy_type", "all")
        context["policies"] = policy_choices(
            request, reads, "policies", context["policy_query"], context["policy_type"], draft.policies
        )
        context["boundary_query"] = data.get("boundary_query", "")
        if draft.use_boundary:
            selected = [draft.boundary] if draft.boundary else []
            context["boundary_policies"] = policy_choices(
                request, reads, "boundary", context["boundary_query"], "all", selected
            )
    if step == 3:
        try:
            context["trust_document"] = pretty(draft.trust_policy(account_id))
        except templates.TrustInputError:
            context["trust_document"] = ""
        visible = ManagedPolicy.objects.visible_to(account_id)
        context["chosen_policies"] = list(visible.filter(arn__in=draft.policies).order_by("name"))
        context["chosen_boundary"] = (
            visible.filter(arn=draft.boundary).first() if draft.use_boundary and draft.boundary else None
        )
        context["tags_left"] = max(0, TAGS_PER_RESOURCE - len(draft.tags))
    return context


def _render_wizard(
    request: HttpRequest, draft: RoleDraft, step: int, errors: dict[str, str], status: int = 400
) -> HttpResponse:
    template = pick_partial(request, "identities/roles/role_create.html", {"wizard", "policy-picker"})
    return render(
        request,
        template,
        _wizard_context(request, draft, step, errors),
        status=error_status(request, status) if errors else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def role_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        draft = RoleDraft()
        if request.GET.get("entity_type") in templates.ENTITY_KEYS:
            draft.entity_type = request.GET["entity_type"]
        return _render_wizard(request, draft, 1, {})
    draft = RoleDraft.from_post(request.POST)
    try:
        step = min(max(int(request.POST.get("step", 1)), 1), 3)
    except ValueError:
        step = 1
    action = request.POST.get("action", "refresh")
    errors: dict[str, str] = {}
    if action == "previous":
        step = max(1, step - 1)
    elif action.startswith("goto:") and action[5:] in ("1", "2"):
        step = min(step, int(action[5:]))
    elif _tag_action(draft.tags, action):
        pass
    elif action == "next":
        errors = _validate_role_step(request, draft, step)
        if errors:
            step = min(step, _first_error_step(errors))
        else:
            if step == 1 and not draft.policies and draft.entity_type == "service" and draft.use_case_obj:
                draft.policies = list(draft.use_case_obj.suggested)
            step += 1
    elif action == "create":
        errors = _validate_role_step(request, draft, 3)
        if errors:
            step = _first_error_step(errors)
        else:
            return _create_role(request, draft)
    return _render_wizard(request, draft, step, errors)


def _create_role(request: HttpRequest, draft: RoleDraft) -> HttpResponse:
    ctx = request.iam_ctx
    try:
        role = workflows.create_role_from_wizard(
            ctx,
            role_name=draft.role_name,
            trust_policy=draft.trust_policy(ctx.account_id),
            description=draft.description,
            policies=draft.policies,
            boundary=draft.boundary if draft.use_boundary else None,
            tags=draft.tags,
            instance_profile=draft.instance_profile,
        )
    except IamError as exc:
        field_name = "role_name" if exc.code == "EntityAlreadyExists" or "'roleName'" in exc.message else "general"
        return _render_wizard(request, draft, 3, {field_name: exc.message}, exc.status)
    # AWS returns to the Roles list, the flash offering "View role"
    flash_created(request, f"Role {role.name} created.", role_url(role), "View role")
    return redirect_or_hx(request, "/iam/roles")


@console_page
@require_POST
def trust_validate(request: HttpRequest) -> HttpResponse:
    """The findings panel, refreshed as a trust policy is typed (wizard and Edit trust policy)."""
    text = request.POST.get("custom_policy", request.POST.get("policy_document", ""))[:200_000]
    return render(request, "identities/roles/role_trust.html#validation-findings", findings_context(text))


# ---- detail ----------------------------------------------------------------------------------------------------


def _role_policy_documents(role: Role) -> list[str]:
    managed = PolicyVersion.objects.filter(is_default=True, policy__role_attachments__role=role)
    return [
        *managed.values_list("document", flat=True),
        *InlinePolicy.objects.filter(role=role).values_list("document", flat=True),
    ]


def switch_role_link(request: HttpRequest, role: Role) -> str:
    name = role.path.lstrip("/") + role.name
    return request.build_absolute_uri("/switchrole?" + urlencode({"account": role.account_id, "roleName": name}))


@console_page
@require_GET
def role_detail(request: HttpRequest, role_name: str) -> HttpResponse:
    role = _role_or_404(request, role_name)
    return _render_role_detail(request, role, request.GET.get("tab", "permissions"))


def _render_role_detail(request: HttpRequest, role: Role, tab: str, status: int = 200, **extra: object) -> HttpResponse:
    tab = tab if tab in ROLE_TABS else "permissions"
    ctx = request.iam_ctx
    reads = Reads()
    # Each section reads through its own List* service (authorized and recorded as AWS's console calls are); a
    # section the principal may not read shows a permission notice.
    profiles = reads.attempt(
        "instance_profile", lambda: instance_profiles.list_instance_profiles_for_role(ctx, role_name=role.name)
    )
    profile = profiles[0] if profiles else None
    context = {
        "role": role,
        "tab": tab,
        "tab_labels": ROLE_TAB_LABELS,
        "nav": "roles",
        "url": role_url(role),
        "instance_profile": profile,
        "duration": duration_label(role.max_session_duration),
        "switch_link": switch_role_link(request, role),
        "revoke_ack": REVOKE_ACK,
        "service_linked": is_service_linked(role),
        "denied": reads.denied,
        **extra,
    }
    if tab == "permissions":
        attached = reads.attempt(
            "permissions", lambda: policy_services.list_attached_role_policies(ctx, role_name=role.name)
        )
        inline = reads.attempt("permissions", lambda: policy_services.list_role_policies(ctx, role_name=role.name))
        context["attached"], context["inline"] = attached or [], inline or []
        context["policies_listed"] = attached is not None or inline is not None
        context["policy_count"] = len(context["attached"]) + len(context["inline"])
        context["boundary"] = (
            ManagedPolicy.objects.filter(pk=role.permissions_boundary_id).first()
            if role.permissions_boundary_id
            else None
        )
    elif tab == "tags":
        context["tags"] = reads.attempt("tags", lambda: roles.list_role_tags(ctx, role_name=role.name))
    elif tab == "trust":
        context["trust_document"] = pretty(role.assume_role_policy)
        context["trusted"] = templates.trusted_entities(role.assume_role_policy)
    elif tab == "last_accessed":
        context["last_accessed"], context["all_services"] = get_service_last_accessed(
            request.iam_ctx, arn=role.arn, documents=_role_policy_documents(role)
        )
    elif tab == "effective":
        context["effective"] = effective_for(request.iam_ctx, "role", role.name)
    elif tab == "revoke_sessions":
        context["revoked"] = role.inline_policies.filter(name=roles.REVOKE_POLICY_NAME).first()
    template = pick_partial(request, "identities/roles/role_detail.html", {"role-tab"})
    return render(request, template, context, status=status)


def _back_to_role(request: HttpRequest, role: Role, tab: str) -> HttpResponse:
    return redirect_or_hx(request, role_url(role, f"?tab={tab}"))


@console_page
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, role_name: str) -> HttpResponse:
    """Summary → Edit: description and maximum session duration."""
    role = _role_or_404(request, role_name)
    seconds = role.max_session_duration
    form = {
        "description": role.description,
        "duration": str(seconds) if seconds in dict(DURATIONS) else "custom",
        "custom": str(seconds),
    }
    error = ""
    if request.method == "POST":
        form = {
            "description": request.POST.get("description", "")[:2000],
            "duration": request.POST.get("duration", "3600"),
            "custom": request.POST.get("custom", "").strip()[:20],
        }
        raw = form["custom"] if form["duration"] == "custom" else form["duration"]
        try:
            if not raw.lstrip("-").isdigit():
                raise InvalidInput(
                    "Enter the maximum session duration as a whole number of seconds, "
                    "from 3600 (1 hour) to 43200 (12 hours)."
                )
            roles.update_role(
                request.iam_ctx, role_name=role.name, description=form["description"], max_session_duration=int(raw)
            )
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, f"Role {role.name} updated.")
            return redirect_or_hx(request, role_url(role))
    return render(
        request,
        "identities/roles/role_edit.html",
        {
            "role": role,
            "form": form,
            "durations": DURATIONS,
            "error": error,
            "nav": "roles",
            "url": role_url(role),
        },
        status=error_status(request, 400) if error else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def role_trust(request: HttpRequest, role_name: str) -> HttpResponse:
    """Trust relationships → Edit trust policy."""
    role = _role_or_404(request, role_name)
    document = pretty(role.assume_role_policy)
    error, error_code, status = "", "", 200
    if request.method == "POST":
        document = request.POST.get("policy_document", "")[:200_000]
        try:
            if not document.strip():
                raise InvalidInput("Enter a trust policy.")
            roles.update_assume_role_policy(request.iam_ctx, role_name=role.name, policy_document=document)
        except IamError as exc:
            error, error_code, status = exc.message, exc.code, exc.status
        else:
            messages.success(request, "Trust policy updated.")
            return _back_to_role(request, role, "trust")
    return render(
        request,
        "identities/roles/role_trust.html",
        {
            "role": role,
            "document": document,
            "error": error,
            "error_code": error_code,
            "nav": "roles",
            "url": role_url(role),
            **findings_context(document),
        },
        status=error_status(request, status) if error else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def role_delete(request: HttpRequest, role_name: str) -> HttpResponse:
    role = _role_or_404(request, role_name)
    done, error = confirm_delete(
        request,
        role.name,
        lambda: (
            providers.delete_service_linked_role(request.iam_ctx, role_name=role.name)
            if is_service_linked(role)
            else workflows.delete_role_with_dependents(request.iam_ctx, role_name=role.name)
        ),
        f"Role {role.name} deleted.",
        "/iam/roles",
    )
    if done:
        return done
    return render(
        request,
        "identities/roles/role_delete.html",
        {
            "roles": [role],
            "word": role.name,
            "error": error,
            "nav": "roles",
            "action": role_url(role, "/delete"),
            "cancel": role_url(role),
            "single": True,
        },
        status=error_status(request, 400) if error else 200,
    )


# ---- permissions -----------------------------------------------------------------------------------------------


def _tab_error(request: HttpRequest, role: Role, tab: str, exc: IamError) -> HttpResponse:
    messages.error(request, exc.message)
    return _render_role_detail(request, role, tab, status=error_status(request, exc.status))


@console_page
@require_POST
def role_detach_policy(request: HttpRequest, role_name: str) -> HttpResponse:
    role = _role_or_404(request, role_name)
    try:
        policy_services.detach_role_policy(
            request.iam_ctx, role_name=role.name, policy_arn=request.POST.get("policy_arn", "")
        )
    except IamError as exc:
        return _tab_error(request, role, "permissions", exc)
    messages.success(request, "Policy removed.")
    return _back_to_role(request, role, "permissions")


@console_page
@require_POST
def role_delete_inline_policy(request: HttpRequest, role_name: str) -> HttpResponse:
    role = _role_or_404(request, role_name)
    try:
        policy_services.delete_role_policy(
            request.iam_ctx, role_name=role.name, policy_name=request.POST.get("policy_name", "")
        )
    except IamError as exc:
        return _tab_error(request, role, "permissions", exc)
    messages.success(request, "Policy removed.")
    return _back_to_role(request, role, "permissions")


@console_page
@require_http_methods(["GET", "POST"])
def role_attach_policies(request: HttpRequest, role_name: str) -> HttpResponse:
    """Add permissions → Attach policies."""
    role = _role_or_404(request, role_name)
    selected = [p for p in dict.fromkeys(request.POST.getlist("policies")) if p][:100]
    error = ""
    if request.method == "POST" and request.POST.get("action") == "attach":
        try:
            if not selected:
                raise InvalidInput("Select at least one policy.")
            with batch():
                for arn in selected:
                    policy_services.attach_role_policy(request.iam_ctx, role_name=role.name, policy_arn=arn)
        except IamError as exc:
            error = exc.message
        else:
            count = len(selected)
            messages.success(request, f"{count} polic{'ies' if count != 1 else 'y'} attached to {role.name}.")
            return _back_to_role(request, role, "permissions")
    query, policy_type = request.POST.get("policy_query", ""), request.POST.get("policy_type", "all")
    reads = Reads()
    attached = set(RolePolicyAttachment.objects.filter(role=role).values_list("policy__arn", flat=True))
    policies = [
        p for p in policy_choices(request, reads, "policies", query, policy_type, selected) if p.arn not in attached
    ]
    context = {
        "denied": reads.denied,
        "role": role,
        "url": role_url(role),
        "error": error,
        "nav": "roles",
        "policies": policies,
        "selected": selected,
        "policy_query": query,
        "policy_type": policy_type,
    }
    template = pick_partial(request, "identities/roles/role_attach.html", {"policy-picker"})
    return render(request, template, context, status=error_status(request, 400) if error else 200)


@console_page
@require_http_methods(["GET", "POST"])
def role_inline_policy(request: HttpRequest, role_name: str) -> HttpResponse:
    """Create or edit an inline policy with the JSON editor."""
    role = _role_or_404(request, role_name)
    editing = bool(request.GET.get("name"))
    name = request.POST.get("policy_name", request.GET.get("name", "")).strip()[:256]
    document = request.POST.get("policy_document", "")[:200_000]
    error, error_code, status = "", "", 200
    if request.method == "GET":
        if name:
            try:
                document = pretty(
                    policy_services.get_role_policy(request.iam_ctx, role_name=role.name, policy_name=name).document
                )
            except NoSuchEntity as exc:
                raise Http404(exc.message) from None
        else:
            document = STARTER_POLICY
    else:
        try:
            if not name:
                raise InvalidInput("Enter a policy name.")
            if not document.strip():
                raise InvalidInput("Enter a policy document.")
            policy_services.put_role_policy(
                request.iam_ctx, role_name=role.name, policy_name=name, policy_document=document
            )
        except IamError as exc:
            error, error_code, status = exc.message, exc.code, exc.status
        else:
            messages.success(request, f"Policy {name} saved.")
            return _back_to_role(request, role, "permissions")
    return render(
        request,
        "identities/roles/role_inline_policy.html",
        {
            "role": role,
            "url": role_url(role),
            "policy_name": name,
            "document": document,
            "error": error,
            "error_code": error_code,
            "editing": editing,
            "nav": "roles",
        },
        status=error_status(request, status) if error else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def role_boundary(request: HttpRequest, role_name: str) -> HttpResponse:
    role = _role_or_404(request, role_name)
    error = ""
    action = request.POST.get("action", "")
    if request.method == "POST" and action in ("set", "remove"):
        try:
            if action == "remove":
                roles.delete_role_permissions_boundary(request.iam_ctx, role_name=role.name)
            elif not request.POST.get("boundary"):
                raise InvalidInput("Choose a policy to use as the permissions boundary.")
            else:
                roles.put_role_permissions_boundary(
                    request.iam_ctx, role_name=role.name, permissions_boundary=request.POST["boundary"]
                )
        except IamError as exc:
            error = exc.message
        else:
            messages.success(
                request, "Permissions boundary updated." if action == "set" else "Permissions boundary removed."
            )
            return _back_to_role(request, role, "permissions")
    query = request.POST.get("policy_query", "")
    current = (
        ManagedPolicy.objects.filter(pk=role.permissions_boundary_id).first() if role.permissions_boundary_id else None
    )
    context = {
        "role": role,
        "url": role_url(role),
        "error": error,
        "nav": "roles",
        "policy_query": query,
        "current": current,
    }
    reads = Reads()
    context["policies"] = policy_choices(request, reads, "policies", query, "all", [], 50)
    context["denied"] = reads.denied
    template = pick_partial(request, "identities/roles/role_boundary.html", {"policy-picker"})
    return render(request, template, context, status=error_status(request, 400) if error else 200)


# ---- tags and sessions -----------------------------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def role_tags(request: HttpRequest, role_name: str) -> HttpResponse:
    """Manage tags: the whole set is edited at once, as in the console."""
    role = _role_or_404(request, role_name)
    error = ""
    tags = [Tag(t["Key"], t["Value"]) for t in role.tags]
    if request.method == "POST":
        tags = _tags_from(request.POST)
        if not _tag_action(tags, request.POST.get("action", "save")):
            try:
                if error := _tags_error(tags):
                    raise InvalidInput(error)
                new_keys = {t.key.lower() for t in tags}
                removed = [t["Key"] for t in role.tags if t["Key"].lower() not in new_keys]
                with batch():
                    if removed:
                        roles.untag_role(request.iam_ctx, role_name=role.name, tag_keys=removed)
                    if tags:
                        roles.tag_role(request.iam_ctx, role_name=role.name, tags=tags)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, "Tags saved.")
                return _back_to_role(request, role, "tags")
    template = pick_partial(request, "identities/roles/role_tags.html", {"tags-form"})
    return render(
        request,
        template,
        {
            "role": role,
            "url": role_url(role),
            "tags": tags,
            "error": error,
            "nav": "roles",
            "tags_left": max(0, TAGS_PER_RESOURCE - len(tags)),
        },
        status=error_status(request, 400) if error else 200,
    )


@console_page
@require_POST
def role_revoke_sessions(request: HttpRequest, role_name: str) -> HttpResponse:
    role = _role_or_404(request, role_name)
    if request.POST.get("acknowledge") != "on":
        return _render_role_detail(
            request,
            role,
            "revoke_sessions",
            status=error_status(request, 400),
            revoke_error="Select the checkbox to confirm that you want to revoke all active sessions for this role.",
        )
    try:
        workflows.revoke_role_sessions(request.iam_ctx, role_name=role.name)
    except IamError as exc:
        return _render_role_detail(
            request, role, "revoke_sessions", status=error_status(request, exc.status), revoke_error=exc.message
        )
    messages.success(request, f"All active sessions for {role.name} were revoked.")
    return _back_to_role(request, role, "revoke_sessions")
