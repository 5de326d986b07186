"""The Django project package and the console shell (sign-in, dashboard, navigation, launcher)."""

from console.celery import app as celery_app

__all__ = ["celery_app"]
