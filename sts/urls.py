from django.urls import path

from sts import views

app_name = "sts"

urlpatterns = [
    path("identity_providers/classroom", views.classroom_oidc, name="classroom-oidc"),
    path("identity_providers/classroom/saml", views.classroom_saml, name="classroom-saml"),
]
