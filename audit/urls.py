from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("event_history", views.event_history, name="event-history"),
    path("event_history/download", views.event_download, name="event-download"),
    path("event_history/<str:event_id>", views.event_detail, name="event-detail"),
]
