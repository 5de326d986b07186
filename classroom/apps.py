from django.apps import AppConfig

from audit.signals import events_delivered


class ClassroomConfig(AppConfig):
    name = "classroom"
    verbose_name = "Classroom (AWS Organizations)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from classroom.tasks import on_events_delivered  # reason: imports models, which need the app registry

        events_delivered.connect(on_events_delivered, dispatch_uid="classroom.progress")
