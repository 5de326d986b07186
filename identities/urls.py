from django.urls import path

from identities import views

app_name = "identities"

urlpatterns = [
    path("users", views.user_list, name="user-list"),
    path("users/create", views.user_create, name="user-create"),
    path("users/check_name", views.user_name_check, name="user-name-check"),
    path("users/<str:user_name>", views.user_detail, name="user-detail"),
    path("users/<str:user_name>/delete", views.user_delete, name="user-delete"),
    path("users/<str:user_name>/detach_policy", views.user_detach_policy, name="user-detach-policy"),
    path("users/<str:user_name>/delete_inline_policy", views.user_delete_inline_policy, name="user-delete-inline"),
    path("users/<str:user_name>/add_permissions", views.user_add_permissions, name="user-add-permissions"),
    path("users/<str:user_name>/inline_policy", views.user_inline_policy, name="user-inline-policy"),
    path("users/<str:user_name>/boundary", views.user_boundary, name="user-boundary"),
    path("users/<str:user_name>/remove_from_group", views.user_remove_from_group, name="user-remove-from-group"),
    path("users/<str:user_name>/tags", views.user_tags, name="user-tags"),
    path("users/<str:user_name>/console_access", views.user_console_access, name="user-console-access"),
    path("groups", views.group_list, name="group-list"),
    path("groups/create", views.group_create, name="group-create"),
    path("groups/<str:group_name>", views.group_detail, name="group-detail"),
    path("groups/<str:group_name>/delete", views.group_delete, name="group-delete"),
]
