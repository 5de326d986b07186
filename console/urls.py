from django.urls import include, path, re_path

from awsapi import wsgi as awsapi_wsgi
from classroom import views_labs
from console import views, views_search, views_switch
from policies import views_simulator

urlpatterns = [
    re_path(r"^aws/?$", awsapi_wsgi.endpoint, name="aws-api"),
    re_path(r"^ec2/?$", awsapi_wsgi.endpoint, name="ec2-api"),
    path("", views.dashboard, name="dashboard"),
    path("signin", views.signin, name="signin"),
    path("signin_mfa", views.signin_mfa, name="signin-mfa"),
    path("signin/<str:account>", views.signin_user, name="signin-user"),
    path("signin_user", views.signin_user, name="signin-user-form"),
    path("change_password", views.change_password, name="change-password"),
    path("switchrole", views_switch.switch_role, name="switch-role"),
    path("switchrole/back", views_switch.switch_back, name="switch-back"),
    path("switchrole/status", views_switch.switch_status, name="switch-status"),
    path("signout", views.signout, name="signout"),
    path("search", views_search.search, name="search"),
    path("classroom/", include("classroom.urls")),
    path("labs/", views_labs.lab_list, name="lab-list"),
    path("labs/panel", views_labs.panel, name="lab-panel"),
    path("labs/panel/close", views_labs.panel_close, name="lab-panel-close"),
    path("labs/<slug:slug>", views_labs.lab_detail, name="lab-detail"),
    path("labs/<slug:slug>/open", views_labs.lab_open, name="lab-open"),
    path("labs/<slug:slug>/check", views_labs.lab_check, name="lab-check"),
    path("labs/<slug:slug>/start", views_labs.lab_start, name="lab-start"),
    path("ec2/", include("ec2.urls")),
    path("idp/", include("sts.urls_idp")),
    path("iam/", include("sts.urls")),  # before the other /iam/ routes: the classroom IdP pages
    path("iam/", include("identities.urls")),
    path("iam/", include("identities.urls_roles")),
    path("iam/", include("identities.urls_providers")),
    path("iam/", include("audit.urls")),
    path("iam/", include("identities.urls_credentials")),
    path("iam/", include("identities.urls_settings")),
    path("iam/", include("identities.urls_classic")),
    path("iam/", include("policies.urls")),
    path("console/s3/", include("s3.urls")),
    path("iam/policy_simulator", views_simulator.policy_simulator, name="policy-simulator"),
    path("iam/policy_simulator/actions", views_simulator.simulator_actions, name="simulator-actions"),
]
