"""Group Edit, SSH public keys and service-specific credentials of a user, the STS token setting."""

from django.urls import path

from identities import views_classic as views

app_name = "classic"

urlpatterns = [
    path("groups/<str:group_name>/edit", views.group_edit, name="group-edit"),
    path("users/<str:user_name>/ssh_keys/upload", views.ssh_key_upload, name="ssh-key-upload"),
    path("users/<str:user_name>/ssh_keys/show", views.ssh_key_show, name="ssh-key-show"),
    path("users/<str:user_name>/ssh_keys/action", views.ssh_key_action, name="ssh-key-action"),
    path("users/<str:user_name>/service_credentials", views.service_credential_action, name="service-credential"),
    path("account_settings/sts", views.sts_preferences, name="sts-preferences"),
]
