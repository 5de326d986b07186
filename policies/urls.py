from django.urls import path

from policies import views

app_name = "policies"

# Policy ARNs contain "/" (paths): the specific suffixes come before the catch-all detail page.
urlpatterns = [
    path("policies", views.policy_list, name="policy-list"),
    path("policies/create", views.policy_create, name="policy-create"),
    path("policies/validate", views.policy_validate, name="policy-validate"),
    path("policies/<path:arn>/edit", views.policy_edit, name="policy-edit"),
    path("policies/<path:arn>/delete", views.policy_delete, name="policy-delete"),
    path("policies/<path:arn>/versions", views.policy_versions, name="policy-versions"),
    path("policies/<path:arn>/attach", views.policy_attach, name="policy-attach"),
    path("policies/<path:arn>", views.policy_detail, name="policy-detail"),
]
