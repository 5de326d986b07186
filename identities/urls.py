from django.urls import path

from identities import views_groups, views_users

app_name = "identities"

urlpatterns = [
    path("users", views_users.user_list, name="user-list"),
    path("users/create", views_users.user_create, name="user-create"),
    path("users/check_name", views_users.user_name_check, name="user-name-check"),
    path("users/<str:user_name>", views_users.user_detail, name="user-detail"),
    path("users/<str:user_name>/delete", views_users.user_delete, name="user-delete"),
    path("users/<str:user_name>/detach_policy", views_users.user_detach_policy, name="user-detach-policy"),
    path(
        "users/<str:user_name>/delete_inline_policy", views_users.user_delete_inline_policy, name="user-delete-inline"
    ),
    path("users/<str:user_name>/add_permissions", views_users.user_add_permissions, name="user-add-permissions"),
    path("users/<str:user_name>/inline_policy", views_users.user_inline_policy, name="user-inline-policy"),
    path("users/<str:user_name>/boundary", views_users.user_boundary, name="user-boundary"),
    path("users/<str:user_name>/remove_from_group", views_users.user_remove_from_group, name="user-remove-from-group"),
    path("users/<str:user_name>/tags", views_users.user_tags, name="user-tags"),
    path("users/<str:user_name>/console_access", views_users.user_console_access, name="user-console-access"),
    path("groups", views_groups.group_list, name="group-list"),
    path("groups/create", views_groups.group_create, name="group-create"),
    path("groups/<str:group_name>", views_groups.group_detail, name="group-detail"),
    path("groups/<str:group_name>/delete", views_groups.group_delete, name="group-delete"),
]
