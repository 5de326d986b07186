from django.urls import path

from s3 import views

app_name = "s3"

urlpatterns = [
    path("buckets", views.bucket_list, name="bucket-list"),
    path("buckets/<str:bucket>", views.bucket_detail, name="bucket-detail"),
    path("buckets/<str:bucket>/download", views.object_download, name="object-download"),
    path("buckets/<str:bucket>/delete", views.object_delete, name="object-delete"),
    path("buckets/<str:bucket>/policy", views.bucket_policy, name="bucket-policy"),
]
