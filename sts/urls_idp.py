"""The classroom identity provider's public endpoints, under ``/idp`` (no sign-in: an IdP's metadata is public)."""

from django.urls import path

from sts import views

urlpatterns = [
    path(".well-known/openid-configuration", views.openid_configuration, name="idp-openid-configuration"),
    path("jwks.json", views.jwks, name="idp-jwks"),
    path("saml/metadata.xml", views.saml_metadata, name="idp-saml-metadata"),
]
