"""Identity providers pages. Fixed words come first; an OIDC provider is addressed by its URL (it has slashes)."""

from django.urls import path

from identities import views_providers as views

app_name = "providers"

urlpatterns = [
    path("identity_providers", views.provider_list, name="provider-list"),
    path("identity_providers/create", views.provider_create, name="provider-create"),
    path("identity_providers/metadata/<str:name>", views.saml_metadata, name="saml-metadata"),
    path("identity_providers/delete/saml/<str:name>", views.saml_delete, name="saml-delete"),
    path("identity_providers/delete/oidc/<path:url>", views.oidc_delete, name="oidc-delete"),
    path("identity_providers/saml/<str:name>", views.saml_detail, name="saml-detail"),
    path("identity_providers/oidc/<path:url>", views.oidc_detail, name="oidc-detail"),
]
