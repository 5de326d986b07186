from django.apps import AppConfig

from core import calls


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from audit.services import record_event  # reason: services import models, which need the app registry

        calls.register(recorder=record_event)
