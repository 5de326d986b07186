"""Identity providers clicked through in Chromium: add an OpenID Connect provider with the tiles, then a SAML
provider by uploading its metadata file, look at both, and delete one with the type-the-name dialog; then the
account's own classroom identity provider, end to end: add it in IAM, create a role that trusts it, issue a token
and a SAML response and exchange them with boto3, while another account's token for the same role is refused.
Screenshots land in artifacts/screenshots/idp-NN-<step>.png."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError
from playwright.sync_api import Page, expect

from identities.models import OpenIdConnectProvider, SamlProvider
from tests.awsapi.test_federation_api import unsigned_sts
from tests.browser.conftest import htmx_settled, shot
from tests.browser.test_role_scenario import expect_title, nav, sign_in_as_root
from tests.identities.saml_fixtures import metadata

TYPE_DELAY = 25  # ms between keystrokes, as a person types

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_identity_providers_in_the_browser(page: Page, account, tmp_path):
    sign_in_as_root(page, account)
    nav(page, "Identity providers")
    expect_title(page, "Identity providers (0)")

    page.get_by_role("link", name="Add provider").first.click()
    expect_title(page, "Add an Identity provider")
    page.get_by_role("radio", name=re.compile("^OpenID Connect")).check()
    expect(page.get_by_label("Provider URL")).to_be_visible()  # the tile swapped the fields in
    htmx_settled(page)
    page.get_by_label("Provider URL").fill("https://token.actions.githubusercontent.com")
    page.get_by_label("Audience").fill("sts.amazonaws.com")
    shot(page, "idp-01-add-oidc")
    page.get_by_role("button", name="Add provider").click()

    expect_title(page, "token.actions.githubusercontent.com")
    expect(page.get_by_test_id("provider-type")).to_have_text("OpenID Connect")
    page.get_by_label("New audience").fill("my-app")
    page.get_by_role("button", name="Add audience").click()
    expect(page.get_by_test_id("audiences")).to_contain_text("my-app")
    shot(page, "idp-02-oidc-detail")

    nav(page, "Identity providers")
    page.get_by_role("link", name="Add provider").first.click()
    file = tmp_path / "okta-metadata.xml"
    file.write_text(metadata())
    page.get_by_label("Provider name").fill("Okta")
    page.get_by_label("Metadata document").set_input_files(str(file))
    page.get_by_role("button", name="Add provider").click()
    expect_title(page, "Okta")
    expect(page.get_by_test_id("provider-arn")).to_have_text("arn:aws:iam::111122223333:saml-provider/Okta")
    shot(page, "idp-03-saml-detail")

    nav(page, "Identity providers")
    expect_title(page, "Identity providers (2)")
    expect(page.get_by_test_id("provider-row")).to_have_count(2)
    shot(page, "idp-04-list")

    page.get_by_role("link", name="Delete Okta").click()
    page.get_by_role("textbox").fill("Okta")
    shot(page, "idp-05-delete-dialog")
    page.get_by_role("button", name="Delete").click()
    expect_title(page, "Identity providers (1)")
    assert not SamlProvider.objects.exists()
    assert OpenIdConnectProvider.objects.get().client_ids == ["sts.amazonaws.com", "my-app"]
    assert page.console_errors == []


def type_into(locator, text: str) -> None:
    locator.fill("")
    locator.press_sequentially(text, delay=TYPE_DELAY)


def issue_token_in_browser(page: Page, subject: str, audience: str | None = None, role: str | None = None) -> str:
    page.goto("/iam/identity_providers/classroom")
    expect_title(page, "Classroom identity provider")
    type_into(page.get_by_label("Subject (sub)"), subject)
    if audience is not None:
        type_into(page.get_by_label("Audience (aud)"), audience)
    if role is not None:
        page.get_by_label("Role for the example command - optional").select_option(label=role)
    page.get_by_role("button", name="Issue token").click()
    return page.get_by_test_id("id-token").input_value()


def test_the_accounts_own_classroom_idp_end_to_end(new_page, live_server, account, other_account, tmp_path):
    page = new_page()
    sign_in_as_root(page, account)
    page.goto("/iam/identity_providers/classroom")
    issuer = page.get_by_test_id("provider-url").inner_text()
    host = live_server.url.split("://", 1)[1]
    assert issuer == f"https://{host}/idp/{account.id}"  # this account's own issuer
    expect(page.get_by_text("Not added yet.")).to_be_visible()
    shot(page, "idp-06-classroom-oidc")

    # add this account's issuer in IAM
    nav(page, "Identity providers")
    page.get_by_role("link", name="Add provider").first.click()
    page.get_by_role("radio", name=re.compile("^OpenID Connect")).check()
    expect(page.get_by_label("Provider URL")).to_be_visible()
    htmx_settled(page)
    type_into(page.get_by_label("Provider URL"), issuer)
    type_into(page.get_by_label("Audience"), "classroom-app")
    page.get_by_role("button", name="Add provider").click()
    expect_title(page, issuer.removeprefix("https://"))

    # a role that users of this issuer may assume, made in the Create role wizard
    nav(page, "Roles")
    page.get_by_role("link", name="Create role").click()
    expect_title(page, "Select trusted entity")
    page.locator("label.tile").filter(has_text="Web identity").click()
    expect(page.get_by_label("Identity provider", exact=True)).to_be_visible()
    htmx_settled(page)
    page.get_by_label("Identity provider", exact=True).select_option("oidc")
    expect(page.get_by_label("Provider URL")).to_be_visible()
    htmx_settled(page)
    type_into(page.get_by_label("Provider URL"), issuer)
    type_into(page.get_by_label("Audience"), "classroom-app")
    page.get_by_role("button", name="Next").click()
    expect_title(page, "Add permissions")
    htmx_settled(page)
    page.get_by_role("button", name="Next").click()
    expect_title(page, "Name, review, and create")
    htmx_settled(page)
    type_into(page.get_by_label("Role name"), "ClassroomApp")
    expect(page.get_by_test_id("review-trust-policy")).to_contain_text(f"{issuer.removeprefix('https://')}:aud")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("Role ClassroomApp created.")).to_be_visible()
    role_arn = f"arn:aws:iam::{account.id}:role/ClassroomApp"

    # issue a token on the classroom page (the provider's audience is the default) and exchange it
    page.goto("/iam/identity_providers/classroom")
    expect(
        page.get_by_text(f"arn:aws:iam::{account.id}:oidc-provider/{issuer.removeprefix('https://')}", exact=True)
    ).to_be_visible()
    token = issue_token_in_browser(page, "alice", role="ClassroomApp")
    expect(page.get_by_label("AWS CLI command")).to_contain_text(f"--role-arn {role_arn}")
    shot(page, "idp-07-classroom-token")
    sts = unsigned_sts(live_server)
    result = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="alice", WebIdentityToken=token)
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/ClassroomApp/alice"

    # another student, signed in to another account, issues a token with the same claims: refused
    other = new_page()
    sign_in_as_root(other, other_account)
    stolen = issue_token_in_browser(other, "alice", audience="classroom-app")
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="mallory", WebIdentityToken=stolen)
    assert err.value.response["Error"]["Code"] == "InvalidIdentityToken"

    # SAML: download this account's metadata, add the provider, issue a response for the role and exchange it
    page.goto("/iam/identity_providers/classroom/saml")
    expect(page.get_by_test_id("entity-id")).to_have_text(f"https://{host}/idp/{account.id}/saml")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download metadata document").click()
    file = tmp_path / "classroom-metadata.xml"
    download.value.save_as(file)
    nav(page, "Identity providers")
    page.get_by_role("link", name="Add provider").first.click()
    type_into(page.get_by_label("Provider name"), "Classroom")
    page.get_by_label("Metadata document").set_input_files(str(file))
    page.get_by_role("button", name="Add provider").click()
    expect_title(page, "Classroom")
    provider_arn = f"arn:aws:iam::{account.id}:saml-provider/Classroom"
    nav(page, "Roles")
    page.get_by_role("link", name="Create role").click()
    page.locator("label.tile").filter(has_text="SAML 2.0 federation").click()
    expect(page.get_by_label("SAML 2.0-based provider")).to_be_visible()
    htmx_settled(page)
    type_into(page.get_by_label("SAML 2.0-based provider"), provider_arn)
    page.get_by_role("radio", name="Allow programmatic access only").check()
    page.get_by_role("button", name="Next").click()
    expect_title(page, "Add permissions")
    htmx_settled(page)
    page.get_by_role("button", name="Next").click()
    expect_title(page, "Name, review, and create")
    htmx_settled(page)
    type_into(page.get_by_label("Role name"), "ClassroomSaml")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("Role ClassroomSaml created.")).to_be_visible()

    page.goto("/iam/identity_providers/classroom/saml")
    saml_role = f"arn:aws:iam::{account.id}:role/ClassroomSaml"
    type_into(page.get_by_label("Subject (NameID)"), "alice")
    type_into(page.get_by_label("RoleSessionName"), "alice")
    type_into(page.locator("input[name=role_arn]"), saml_role)
    type_into(page.get_by_label("SAML provider"), provider_arn)
    page.get_by_role("button", name="Issue SAML response").click()
    assertion = page.get_by_test_id("saml-assertion").input_value()
    shot(page, "idp-08-classroom-saml")
    result = sts.assume_role_with_saml(RoleArn=saml_role, PrincipalArn=provider_arn, SAMLAssertion=assertion)
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/ClassroomSaml/alice"
    assert result["Issuer"] == f"https://{host}/idp/{account.id}/saml"
    assert page.console_errors == [] and other.console_errors == []
