from django.apps import AppConfig

from core import calls


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "IAM policies"

    def ready(self) -> None:
        from policies.authz import authorize  # reason: authz imports models, which need the app registry

        calls.register(authorizer=authorize)
