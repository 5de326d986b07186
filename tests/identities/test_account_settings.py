"""Account settings: the password policy (ranges, every rule at every door, reuse, expiry at sign-in), the account
alias (rules, uniqueness, sign-in URL), their console pages, authorization, audit and cross-account isolation."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import Client

from audit.models import AuditEvent
from console import throttle
from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied, EntityAlreadyExists, InvalidInput, NoSuchEntity, PasswordPolicyViolation
from core.errors import ValidationError as AwsValidationError
from core.passwords import hash_password
from identities import account_settings as settings_services
from identities import services
from identities.models import Account, LoginProfile, PasswordHistory, PasswordPolicy
from identities.passwords import (
    check_password_policy,
    implicit_password_permissions,
    password_expired,
    remember_password,
    sign_in_password_state,
)
from policies import services as policy_services

GOOD = "Str0ng-Passw0rd!"
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture(autouse=True)
def _fresh_throttle():
    throttle.clear_all()
    yield
    throttle.clear_all()


def make_login_user(ctx, name, password=GOOD, *policies):
    services.create_user(ctx, user_name=name)
    services.create_login_profile(ctx, user_name=name, password=password)
    for arn in policies:
        policy_services.attach_user_policy(ctx, user_name=name, policy_arn=arn)
    return services.find_user(ctx.account_id, name)


def ctx_of(user) -> CallContext:
    return CallContext(user_principal(user), user_agent="pytest", origin="console")


def sign_in(account_or_alias, name, password=GOOD, client=None):
    client = client or Client()
    response = client.post(
        f"/signin/{account_or_alias}", {"account": account_or_alias, "username": name, "password": password}
    )
    return client, response


# ---- UpdateAccountPasswordPolicy: ranges, replacement, get/delete ------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "minimum_password_length",
            5,
            "Value '5' at 'minimumPasswordLength' failed to satisfy constraint: "
            "Member must have value greater than or equal to 6",
        ),
        (
            "minimum_password_length",
            129,
            "Value '129' at 'minimumPasswordLength' failed to satisfy constraint: "
            "Member must have value less than or equal to 128",
        ),
        ("max_password_age", 0, "at 'maxPasswordAge' failed to satisfy constraint: Member must have value greater"),
        ("max_password_age", 1096, "at 'maxPasswordAge' failed to satisfy constraint: Member must have value less"),
        ("password_reuse_prevention", 0, "at 'passwordReusePrevention' failed to satisfy constraint"),
        ("password_reuse_prevention", 25, "Member must have value less than or equal to 24"),
    ],
)
def test_policy_ranges_come_from_the_aws_model(root_ctx, field, value, message):
    with pytest.raises(AwsValidationError) as exc:
        settings_services.update_account_password_policy(root_ctx, **{field: value})
    assert exc.value.message.startswith("1 validation error detected: ")
    assert message in exc.value.message
    assert not PasswordPolicy.objects.exists()
    assert AuditEvent.objects.get(event_name="UpdateAccountPasswordPolicy").error_code == "ValidationError"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minimum_password_length", 6),
        ("minimum_password_length", 128),
        ("max_password_age", 1),
        ("max_password_age", 1095),
        ("password_reuse_prevention", 1),
        ("password_reuse_prevention", 24),
    ],
)
def test_policy_range_bounds_are_accepted(root_ctx, field, value):
    policy = settings_services.update_account_password_policy(root_ctx, **{field: value})
    assert getattr(policy, field) == value


def test_update_replaces_the_whole_policy(root_ctx, account):
    settings_services.update_account_password_policy(
        root_ctx,
        minimum_password_length=14,
        require_symbols=True,
        require_numbers=True,
        max_password_age=90,
        password_reuse_prevention=5,
        hard_expiry=True,
        allow_users_to_change_password=True,
    )
    policy = settings_services.update_account_password_policy(root_ctx, require_uppercase_characters=True)
    assert (
        policy.minimum_password_length,
        policy.require_symbols,
        policy.require_numbers,
        policy.max_password_age,
        policy.password_reuse_prevention,
        policy.hard_expiry,
        policy.allow_users_to_change_password,
        policy.require_uppercase_characters,
    ) == (6, False, False, None, None, False, False, True)
    assert PasswordPolicy.objects.filter(account=account).count() == 1
    shape = settings_services.password_policy_shape(settings_services.get_account_password_policy(root_ctx))
    assert shape == {
        "MinimumPasswordLength": 6,
        "RequireSymbols": False,
        "RequireNumbers": False,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False,
        "ExpirePasswords": False,
        "HardExpiry": False,
    }
    event = AuditEvent.objects.filter(event_name="UpdateAccountPasswordPolicy").latest("id")
    assert event.record["requestParameters"]["requireUppercaseCharacters"] is True and event.error_code == ""


def test_without_a_custom_policy_get_and_delete_say_no_such_entity(root_ctx, account):
    expected = f"The Password Policy with domain name {account.id} cannot be found."
    with pytest.raises(NoSuchEntity) as exc:
        settings_services.get_account_password_policy(root_ctx)
    assert exc.value.message == expected
    with pytest.raises(NoSuchEntity) as exc:
        settings_services.delete_account_password_policy(root_ctx)
    assert exc.value.message == "The account policy with name PasswordPolicy cannot be found."  # Delete's own wording
    settings_services.update_account_password_policy(root_ctx, minimum_password_length=10)
    settings_services.delete_account_password_policy(root_ctx)
    assert not PasswordPolicy.objects.exists()


def test_a_user_without_permission_is_denied_and_audited(root_ctx, managed_policies):
    bob = make_login_user(root_ctx, "bob", GOOD, "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    with pytest.raises(AccessDenied) as exc:
        settings_services.update_account_password_policy(ctx_of(bob), minimum_password_length=20)
    assert "is not authorized to perform: iam:UpdateAccountPasswordPolicy" in exc.value.message
    assert not PasswordPolicy.objects.exists()
    assert AuditEvent.objects.get(event_name="UpdateAccountPasswordPolicy").error_code == "AccessDenied"
    with pytest.raises(NoSuchEntity):  # read-only access may read it
        settings_services.get_account_password_policy(ctx_of(bob))


# ---- the policy at every door ---------------------------------------------------------------------------------

RULES = [
    # (policy, password that breaks it, what the message names)
    ({"minimum_password_length": 12}, "Sh0rt-Pw!", "Password should have at least 12 characters"),
    ({"require_uppercase_characters": True}, "n0-upper-case!", "at least one uppercase letter (A-Z)"),
    ({"require_lowercase_characters": True}, "N0-LOWER-CASE!", "at least one lowercase letter (a-z)"),
    ({"require_numbers": True}, "No-Numbers-Here!", "at least one number (0-9)"),
    ({"require_symbols": True}, "NoSymbols1234", "at least one non-alphanumeric character"),
]
ALL_RULES = {
    "minimum_password_length": 12,
    "require_uppercase_characters": True,
    "require_lowercase_characters": True,
    "require_numbers": True,
    "require_symbols": True,
}


def _violation(call) -> str:
    with pytest.raises(PasswordPolicyViolation) as exc:
        call()
    assert exc.value.message.startswith("Password does not conform to the account password policy")
    return exc.value.message


@pytest.mark.parametrize(("policy", "bad", "fragment"), RULES)
def test_create_login_profile_enforces_each_rule(root_ctx, policy, bad, fragment):
    settings_services.update_account_password_policy(root_ctx, **policy)
    services.create_user(root_ctx, user_name="carol")
    message = _violation(lambda: services.create_login_profile(root_ctx, user_name="carol", password=bad))
    assert fragment in message
    assert not LoginProfile.objects.exists()
    assert AuditEvent.objects.get(event_name="CreateLoginProfile").error_code == "PasswordPolicyViolation"
    services.create_login_profile(root_ctx, user_name="carol", password="Vali1d-Passw0rd!")


@pytest.mark.parametrize(("policy", "bad", "fragment"), RULES)
def test_update_login_profile_enforces_each_rule(root_ctx, policy, bad, fragment):
    make_login_user(root_ctx, "carol")
    settings_services.update_account_password_policy(root_ctx, **policy)
    before = LoginProfile.objects.get().password_hash
    assert fragment in _violation(lambda: services.update_login_profile(root_ctx, user_name="carol", password=bad))
    assert LoginProfile.objects.get().password_hash == before


@pytest.mark.parametrize(("policy", "bad", "fragment"), RULES)
def test_change_password_enforces_each_rule(root_ctx, managed_policies, policy, bad, fragment):
    carol = make_login_user(root_ctx, "carol", GOOD, CHANGE_PASSWORD)
    settings_services.update_account_password_policy(root_ctx, **policy)
    assert fragment in _violation(lambda: services.change_password(ctx_of(carol), old_password=GOOD, new_password=bad))
    services.change_password(ctx_of(carol), old_password=GOOD, new_password="An0ther-Passw0rd!")


def test_every_broken_rule_is_listed(root_ctx):
    settings_services.update_account_password_policy(root_ctx, **ALL_RULES)
    message = _violation(lambda: check_password_policy(root_ctx.account_id, "abc"))
    for _, _, fragment in RULES:
        assert (fragment in message) == ("lowercase" not in fragment)  # "abc" has its lowercase letter
    assert message.count(";") == 3


def test_custom_policy_replaces_the_default_rules(root_ctx):
    assert "at least 8 characters" in _violation(lambda: check_password_policy(root_ctx.account_id, "aaaaaa"))
    settings_services.update_account_password_policy(root_ctx, minimum_password_length=6)
    check_password_policy(root_ctx.account_id, "aaaaaa")  # no class rule in this custom policy


def test_default_policy_refuses_the_account_name_and_email(root_ctx, account):
    Account.objects.filter(pk=account.pk).update(name="Classroom-2026!", root_email="Ab1!x@alpha.example")
    message = _violation(lambda: check_password_policy(account.id, "classroom-2026!"))
    assert "account name or email" in message
    assert "account name or email" in _violation(lambda: check_password_policy(account.id, "ab1!x@alpha.example"))
    check_password_policy(account.id, "Classroom-2027!")


def test_default_policy_needs_three_character_classes(root_ctx):
    assert "three of these character types" in _violation(
        lambda: check_password_policy(root_ctx.account_id, "lowercase123")
    )
    check_password_policy(root_ctx.account_id, "Lowercase123")


# ---- reuse prevention -----------------------------------------------------------------------------------------


def _set(ctx, name, password):
    """UpdateLoginProfile plus the history record the lead wires into the services (see remember_password)."""
    services.update_login_profile(ctx, user_name=name, password=password)
    profile = LoginProfile.objects.get(user__name=name)
    if not PasswordHistory.objects.filter(user=profile.user, password_hash=profile.password_hash).exists():
        remember_password(profile.user, profile.password_hash)


def test_reuse_prevention_remembers_the_last_n_passwords(root_ctx):
    carol = make_login_user(root_ctx, "carol", "Passw0rd-One!")
    remember_password(carol, LoginProfile.objects.get(user=carol).password_hash)
    settings_services.update_account_password_policy(root_ctx, password_reuse_prevention=3)
    _set(root_ctx, "carol", "Passw0rd-Two!")
    _set(root_ctx, "carol", "Passw0rd-Three!")
    for old in ("Passw0rd-Three!", "Passw0rd-Two!", "Passw0rd-One!"):
        message = _violation(lambda old=old: services.update_login_profile(root_ctx, user_name="carol", password=old))
        assert "used before" in message and "last 3 passwords" in message
    _set(root_ctx, "carol", "Passw0rd-Four!")
    _set(root_ctx, "carol", "Passw0rd-One!")  # now the 4th most recent: allowed again


def test_the_current_password_counts_even_without_history(root_ctx):
    make_login_user(root_ctx, "carol")
    settings_services.update_account_password_policy(root_ctx, password_reuse_prevention=1)
    assert "used before" in _violation(
        lambda: services.update_login_profile(root_ctx, user_name="carol", password=GOOD)
    )


def test_history_keeps_at_most_24_hashes(root_ctx):
    carol = make_login_user(root_ctx, "carol")
    for i in range(27):
        remember_password(carol, f"hash-{i}")
    assert PasswordHistory.objects.filter(user=carol).count() == 24
    assert not PasswordHistory.objects.filter(password_hash="hash-0").exists()


def test_services_record_password_history(root_ctx, managed_policies):
    carol = make_login_user(root_ctx, "carol", GOOD, CHANGE_PASSWORD)
    services.update_login_profile(root_ctx, user_name="carol", password="Passw0rd-Two!")
    services.change_password(ctx_of(carol), old_password="Passw0rd-Two!", new_password="Passw0rd-Three!")
    assert PasswordHistory.objects.filter(user=carol).count() == 3


# ---- expiry ---------------------------------------------------------------------------------------------------


def _age_password(name, days):
    LoginProfile.objects.filter(user__name=name).update(password_changed_at=clock.now() - timedelta(days=days))
    return LoginProfile.objects.select_related("user").get(user__name=name)


def test_password_expiry_follows_max_password_age(root_ctx):
    make_login_user(root_ctx, "carol")
    profile = _age_password("carol", 31)
    assert not password_expired(profile, None, clock.now())
    assert sign_in_password_state(profile) == "valid"
    policy = settings_services.update_account_password_policy(root_ctx, max_password_age=30)
    assert password_expired(profile, policy, clock.now())  # takes effect at once for old passwords
    assert not password_expired(profile, policy, profile.password_changed_at + timedelta(days=29))
    assert sign_in_password_state(profile) == "expired"
    settings_services.update_account_password_policy(root_ctx, max_password_age=30, hard_expiry=True)
    assert sign_in_password_state(profile) == "hard_expired"
    services.update_login_profile(root_ctx, user_name="carol", password="Res3t-by-Admin!")  # the admin reset
    assert sign_in_password_state(LoginProfile.objects.select_related("user").get(user__name="carol")) == "valid"


def test_an_expired_password_must_be_changed_at_sign_in(root_ctx, managed_policies, account):
    make_login_user(root_ctx, "carol")
    settings_services.update_account_password_policy(root_ctx, max_password_age=30, allow_users_to_change_password=True)
    _age_password("carol", 45)
    client, response = sign_in(account.id, "carol")
    assert response.status_code == 302 and response.url == "/change_password"
    assert client.get("/iam/users").url == "/change_password"
    changed = client.post(
        "/change_password",
        {"old_password": GOOD, "new_password": "Fr3sh-Passw0rd!", "confirm_password": "Fr3sh-Passw0rd!"},
    )
    assert changed.status_code == 302
    _, again = sign_in(account.id, "carol", "Fr3sh-Passw0rd!")
    assert again.url == "/"


def test_hard_expiry_refuses_sign_in_until_an_administrator_resets(root_ctx, account):
    make_login_user(root_ctx, "carol")
    settings_services.update_account_password_policy(root_ctx, max_password_age=30, hard_expiry=True)
    _age_password("carol", 45)
    _, response = sign_in(account.id, "carol")
    assert response.status_code == 400 and "administrator" in plain(response)
    services.update_login_profile(root_ctx, user_name="carol", password="Res3t-by-Admin!")
    _, again = sign_in(account.id, "carol", "Res3t-by-Admin!")
    assert again.status_code == 302


def test_allow_users_to_change_password_flag(root_ctx, other_root_ctx):
    assert not implicit_password_permissions(root_ctx.account_id)
    settings_services.update_account_password_policy(root_ctx, allow_users_to_change_password=True)
    assert implicit_password_permissions(root_ctx.account_id)
    assert not implicit_password_permissions(other_root_ctx.account_id)


# ---- account alias --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "error"),
    [
        ("Alpha-Class", AwsValidationError),  # uppercase
        ("alpha--class", AwsValidationError),  # two hyphens in a row
        ("-alpha", AwsValidationError),  # leading hyphen
        ("alpha-", AwsValidationError),  # trailing hyphen
        ("ab", AwsValidationError),  # too short
        ("a" * 64, AwsValidationError),  # too long
        ("alpha_class", AwsValidationError),  # underscore
        ("123456789012", InvalidInput),  # reads as an account ID
    ],
)
def test_alias_rules(root_ctx, account, alias, error):
    with pytest.raises(error) as exc:
        settings_services.create_account_alias(root_ctx, account_alias=alias)
    if error is AwsValidationError:
        assert "at 'accountAlias' failed to satisfy constraint" in exc.value.message
    account.refresh_from_db()
    assert account.alias is None
    assert AuditEvent.objects.get(event_name="CreateAccountAlias").error_code == error.code


def test_alias_is_unique_across_accounts_and_one_per_account(root_ctx, other_root_ctx, account, other_account):
    settings_services.create_account_alias(root_ctx, account_alias="alpha-class")
    with pytest.raises(EntityAlreadyExists) as exc:
        settings_services.create_account_alias(other_root_ctx, account_alias="alpha-class")
    assert exc.value.message == "The account alias alpha-class already exists."
    assert settings_services.list_account_aliases(other_root_ctx) == []
    settings_services.create_account_alias(root_ctx, account_alias="alpha-2026")  # replaces: still one
    assert settings_services.list_account_aliases(root_ctx) == ["alpha-2026"]
    settings_services.create_account_alias(other_root_ctx, account_alias="alpha-class")  # free again
    with pytest.raises(NoSuchEntity):  # B can't delete A's alias
        settings_services.delete_account_alias(other_root_ctx, account_alias="alpha-2026")
    settings_services.delete_account_alias(root_ctx, account_alias="alpha-2026")
    assert settings_services.list_account_aliases(root_ctx) == []
    with pytest.raises(NoSuchEntity):
        settings_services.delete_account_alias(root_ctx, account_alias="alpha-2026")


def test_users_sign_in_with_the_alias(root_ctx, account):
    make_login_user(root_ctx, "carol")
    settings_services.create_account_alias(root_ctx, account_alias="alpha-class")
    _, response = sign_in("alpha-class", "carol")
    assert response.status_code == 302 and response.url == "/"
    settings_services.delete_account_alias(root_ctx, account_alias="alpha-class")
    _, gone = sign_in("alpha-class", "carol")
    assert gone.status_code == 400


def test_alias_changes_need_permission(root_ctx, managed_policies, account):
    bob = make_login_user(root_ctx, "bob", GOOD, "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    with pytest.raises(AccessDenied):
        settings_services.create_account_alias(ctx_of(bob), account_alias="bobs-alias")
    assert settings_services.list_account_aliases(ctx_of(bob)) == []


# ---- isolation ------------------------------------------------------------------------------------------------


def test_account_b_never_sees_or_uses_a_policy_of_account_a(root_ctx, other_root_ctx):
    settings_services.update_account_password_policy(root_ctx, minimum_password_length=20, require_symbols=True)
    with pytest.raises(NoSuchEntity) as exc:
        settings_services.get_account_password_policy(other_root_ctx)
    assert other_root_ctx.account_id in exc.value.message
    check_password_policy(other_root_ctx.account_id, "Only-12-Chars")  # B still has the IAM default
    with pytest.raises(NoSuchEntity):
        settings_services.delete_account_password_policy(other_root_ctx)
    assert PasswordPolicy.objects.get().minimum_password_length == 20


# ---- pages ----------------------------------------------------------------------------------------------------


def test_account_settings_page_shows_the_default_then_the_custom_policy(root_client):
    page = root_client.get("/iam/account_settings")
    assert page.status_code == 200
    assert "uses the following default password policy" in plain(page)
    assert "Security Token Service (STS)" in plain(page)
    edit = root_client.get("/iam/account_settings/password_policy")
    assert edit.status_code == 200 and 'name="mode" value="default" checked' in edit.content.decode()


def test_edit_policy_form_shows_aws_messages_next_to_the_fields(root_client):
    response = root_client.post(
        "/iam/account_settings/password_policy",
        {
            "mode": "custom",
            "minimum_password_length": "5",
            "expire": "on",
            "max_password_age": "2000",
            "prevent_reuse": "on",
            "password_reuse_prevention": "x",
        },
    )
    assert response.status_code == 400
    text = plain(response)
    assert "Value '5' at 'minimumPasswordLength' failed to satisfy constraint" in text
    assert "Value '2000' at 'maxPasswordAge' failed to satisfy constraint" in text
    assert "Enter a whole number." in text
    assert not PasswordPolicy.objects.exists()


def test_edit_policy_asks_to_confirm_then_saves_and_reverts(root_client, account):
    fields = {
        "mode": "custom",
        "minimum_password_length": "14",
        "require_symbols": "on",
        "require_numbers": "on",
        "expire": "on",
        "max_password_age": "90",
        "hard_expiry": "on",
        "allow_users_to_change_password": "on",
        "prevent_reuse": "on",
        "password_reuse_prevention": "5",
    }
    confirm = root_client.post("/iam/account_settings/password_policy", fields)
    assert confirm.status_code == 200 and "Set custom" in plain(confirm)
    assert not PasswordPolicy.objects.exists()
    saved = root_client.post("/iam/account_settings/password_policy", {**fields, "confirmed": "yes"})
    assert saved.status_code == 302 and saved.url == "/iam/account_settings"
    policy = PasswordPolicy.objects.get(account=account)
    assert (
        policy.minimum_password_length,
        policy.require_symbols,
        policy.require_numbers,
        policy.require_uppercase_characters,
        policy.max_password_age,
        policy.hard_expiry,
        policy.allow_users_to_change_password,
        policy.password_reuse_prevention,
    ) == (14, True, True, False, 90, True, True, 5)
    page = plain(root_client.get("/iam/account_settings"))
    assert "custom password policy" in page and "14 characters" in page and "Expire passwords in 90 days" in page
    edit = root_client.get("/iam/account_settings/password_policy").content.decode()
    assert 'value="custom" checked' in edit and 'name="minimum_password_length" value="14"' in edit
    ask = root_client.post("/iam/account_settings/password_policy", {"mode": "default"})
    assert "Set default" in plain(ask)
    reverted = root_client.post("/iam/account_settings/password_policy", {"mode": "default", "confirmed": "yes"})
    assert reverted.status_code == 302 and not PasswordPolicy.objects.exists()
    names = list(
        AuditEvent.objects.filter(event_name__endswith="AccountPasswordPolicy", error_code="")
        .order_by("id")
        .values_list("event_name", flat=True)
    )
    assert "UpdateAccountPasswordPolicy" in names and names[-1] == "DeleteAccountPasswordPolicy"


def test_alias_pages_create_edit_and_delete(root_client, account):
    assert root_client.get("/iam/account_alias").status_code == 200
    bad = root_client.post("/iam/account_alias", {"account_alias": "Bad--Alias"})
    assert bad.status_code == 400 and "failed to satisfy constraint" in plain(bad)
    made = root_client.post("/iam/account_alias", {"account_alias": "alpha-class"})
    assert made.status_code == 302 and made.url == "/"
    account.refresh_from_db()
    assert account.alias == "alpha-class"
    assert "/signin/alpha-class" in plain(root_client.get("/"))
    edit = root_client.get("/iam/account_alias")
    assert 'value="alpha-class"' in edit.content.decode() and "Edit account alias" in plain(edit)
    root_client.post("/iam/account_alias", {"account_alias": "alpha-2026"})
    account.refresh_from_db()
    assert account.alias == "alpha-2026"
    assert "Delete account alias?" in plain(root_client.get("/iam/account_alias?delete"))
    gone = root_client.post("/iam/account_alias", {"action": "delete"})
    assert gone.status_code == 302
    account.refresh_from_db()
    assert account.alias is None


def test_alias_taken_by_another_account_shows_entity_already_exists(root_client, other_root_ctx):
    settings_services.create_account_alias(other_root_ctx, account_alias="taken-alias")
    response = root_client.post("/iam/account_alias", {"account_alias": "taken-alias"})
    assert response.status_code == 400 and "The account alias taken-alias already exists." in plain(response)


def test_pages_of_a_user_without_permission_show_access_denied(root_ctx, managed_policies, account):
    make_login_user(root_ctx, "dave")
    client, _ = sign_in(account.id, "dave")
    for url in ("/iam/account_settings", "/iam/account_settings/password_policy", "/iam/account_alias"):
        page = client.get(url)  # AWS's AccessDenied and the "Why?" panel, from the console middleware
        assert page.status_code == 403 and "is not authorized to perform: iam:" in plain(page), url
        assert 'data-testid="why-panel"' in page.content.decode()
    denied = client.post(
        "/iam/account_settings/password_policy", {"mode": "custom", "minimum_password_length": "9", "confirmed": "yes"}
    )
    assert denied.status_code == 400 and "iam:UpdateAccountPasswordPolicy" in plain(denied)
    assert client.post("/iam/account_alias", {"account_alias": "dave-alias"}).status_code == 403
    assert not PasswordPolicy.objects.exists() and Account.objects.get(pk=account.pk).alias is None


def test_history_helper_stores_hashes_only(root_ctx):
    carol = make_login_user(root_ctx, "carol")
    remember_password(carol, hash_password("Secr3t-Value!"))
    assert not PasswordHistory.objects.filter(password_hash__contains="Secr3t-Value!").exists()
    assert PasswordHistory.objects.filter(user=carol).latest("pk").password_hash.startswith("$argon2")


def test_allow_users_to_change_password_grants_without_a_policy(root_ctx, managed_policies):
    dave = make_login_user(root_ctx, "dave")  # no policies at all
    erin = make_login_user(root_ctx, "erin")
    settings_services.update_account_password_policy(root_ctx, allow_users_to_change_password=True)
    assert settings_services.get_account_password_policy(ctx_of(dave)).allow_users_to_change_password
    services.change_password(ctx_of(dave), old_password=GOOD, new_password="D4ve-New-Passw0rd!")
    with pytest.raises(AccessDenied):  # only their own password, and nothing else
        services.update_login_profile(ctx_of(dave), user_name="erin", password="Not-Y0urs-To-Set!")
    with pytest.raises(AccessDenied):
        settings_services.update_account_password_policy(ctx_of(dave))
    settings_services.update_account_password_policy(root_ctx)  # flag off again
    with pytest.raises(AccessDenied):
        services.change_password(ctx_of(erin), old_password=GOOD, new_password="Err1n-New-Passw0rd!")
