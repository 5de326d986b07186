from django.urls import include, path

from console import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("signin", views.signin, name="signin"),
    path("signout", views.signout, name="signout"),
    path("iam/", include("identities.urls")),
    path("iam/", include("policies.urls")),
]
