from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "classroom"
    verbose_name = "Classroom (AWS Organizations)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.signals import events_delivered
        from classroom.progress import on_events_delivered

        events_delivered.connect(on_events_delivered, dispatch_uid="classroom.progress")
