from django.urls import path

from identities import views_roles as views

app_name = "roles"

# Fixed words come before the <role_name> catch-all (a role may be named "create": the console does the same).
urlpatterns = [
    path("roles", views.role_list, name="role-list"),
    path("roles/create", views.role_create, name="role-create"),
    path("roles/validate_trust", views.trust_validate, name="role-validate-trust"),
    path("roles/delete_selected", views.role_delete_selected, name="role-delete-selected"),
    path("roles/<str:role_name>", views.role_detail, name="role-detail"),
    path("roles/<str:role_name>/edit", views.role_edit, name="role-edit"),
    path("roles/<str:role_name>/trust", views.role_trust, name="role-trust"),
    path("roles/<str:role_name>/delete", views.role_delete, name="role-delete"),
    path("roles/<str:role_name>/attach_policies", views.role_attach_policies, name="role-attach-policies"),
    path("roles/<str:role_name>/detach_policy", views.role_detach_policy, name="role-detach-policy"),
    path("roles/<str:role_name>/inline_policy", views.role_inline_policy, name="role-inline-policy"),
    path("roles/<str:role_name>/delete_inline_policy", views.role_delete_inline_policy, name="role-delete-inline"),
    path("roles/<str:role_name>/boundary", views.role_boundary, name="role-boundary"),
    path("roles/<str:role_name>/tags", views.role_tags, name="role-tags"),
    path("roles/<str:role_name>/revoke_sessions", views.role_revoke_sessions, name="role-revoke-sessions"),
]
