from django.urls import path, register_converter

from policies import views, views_visual


class PolicyArnConverter:
    """A policy ARN that still has a name after ``policy/`` (its path may contain "/"). Links URL-encode the ARN;
    Django hands it over decoded. The action routes below use it, so the detail page of a policy named "edit" or
    "delete" (``…:policy/edit``) isn't mistaken for that policy's action page."""

    regex = r"arn:[^/]*:iam::[^/]*:policy/.+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PolicyArnConverter, "policy_arn")

app_name = "policies"

urlpatterns = [
    path("policies", views.policy_list, name="policy-list"),
    path("policies/create", views.policy_create, name="policy-create"),
    path("policies/validate", views.policy_validate, name="policy-validate"),
    path("policies/visual", views_visual.policy_visual, name="policy-visual"),
    path("policies/check_name", views.policy_name_check, name="policy-name-check"),
    path("policies/<policy_arn:arn>/edit", views.policy_edit, name="policy-edit"),
    path("policies/<policy_arn:arn>/delete", views.policy_delete, name="policy-delete"),
    path("policies/<policy_arn:arn>/versions", views.policy_versions, name="policy-versions"),
    path("policies/<policy_arn:arn>/attach", views.policy_attach, name="policy-attach"),
    path("policies/<policy_arn:arn>/detach", views.policy_detach, name="policy-detach"),
    path("policies/<path:arn>", views.policy_detail, name="policy-detail"),
]
