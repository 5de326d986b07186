"""Access keys and MFA devices: a user's (Security credentials tab) and the caller's own (My security credentials).

Both sets of URLs reach the same views; without ``user_name`` a view acts on the signed-in principal itself.
"""

from django.urls import path

from identities import views_credentials as views

app_name = "credentials"

_ACTIONS = (
    ("access_keys/create", views.access_key_create, "access-key-create"),
    ("access_keys/status", views.access_key_status, "access-key-status"),
    ("access_keys/delete", views.access_key_delete, "access-key-delete"),
    ("mfa/assign", views.mfa_assign, "mfa-assign"),
    ("mfa/remove", views.mfa_remove, "mfa-remove"),
    ("mfa/resync", views.mfa_resync, "mfa-resync"),
)

urlpatterns = [
    path("security_credentials", views.my_security_credentials, name="my-security-credentials"),
    *(path(f"security_credentials/{route}", view, name=f"my-{name}") for route, view, name in _ACTIONS),
    *(path(f"users/<str:user_name>/{route}", view, name=f"user-{name}") for route, view, name in _ACTIONS),
]
