from django.urls import path

from ec2 import views

app_name = "ec2"

urlpatterns = [
    path("instances", views.instance_list, name="instance-list"),
    path("instances/launch", views.instance_launch, name="instance-launch"),
    path("instances/<str:instance_id>", views.instance_detail, name="instance-detail"),
    path("instances/<str:instance_id>/state", views.instance_state, name="instance-state"),
    path("instances/<str:instance_id>/tags", views.instance_tags, name="instance-tags"),
    path("instances/<str:instance_id>/profile", views.instance_profile, name="instance-profile"),
    path("instances/<str:instance_id>/run", views.instance_run, name="instance-run"),
    path("imds/<str:instance_id>/latest/<path:path>", views.metadata, name="metadata"),
    path("imds/<str:instance_id>/<str:key>/latest/<path:path>", views.metadata, name="metadata-machine"),
]
