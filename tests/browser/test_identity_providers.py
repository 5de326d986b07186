"""Identity providers clicked through in Chromium: add an OpenID Connect provider with the tiles, then a SAML
provider by uploading its metadata file, look at both, and delete one with the type-the-name dialog. Screenshots
land in artifacts/screenshots/idp-NN-<step>.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from identities.models import OpenIdConnectProvider, SamlProvider
from tests.browser.conftest import htmx_settled, shot
from tests.browser.test_role_scenario import expect_title, nav, sign_in_as_root
from tests.identities.saml_fixtures import metadata

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
