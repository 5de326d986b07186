"""The classroom identity providers' public endpoints, one IdP per account under ``/idp/<account-id>`` (no sign-in:
an IdP's metadata is public)."""

from django.urls import path

from sts import views

urlpatterns = [
    path(
        "<str:account_id>/.well-known/openid-configuration",
        views.openid_configuration,
        name="idp-openid-configuration",
    ),
    path("<str:account_id>/jwks.json", views.jwks, name="idp-jwks"),
    path("<str:account_id>/saml/metadata.xml", views.saml_metadata, name="idp-saml-metadata"),
]
