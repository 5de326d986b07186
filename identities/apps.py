from django.apps import AppConfig
from django.db.models import CharField
from django.db.models.functions import Lower


class IdentitiesConfig(AppConfig):
    name = "identities"
    verbose_name = "IAM identities"

    def ready(self) -> None:
        # name__lower=… compiles to LOWER(name) = …, which the functional unique indexes serve.
        CharField.register_lookup(Lower)
