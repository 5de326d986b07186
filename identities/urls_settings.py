"""Account settings (password policy), the account alias and the credential report."""

from django.urls import path

from identities import views_settings as views

app_name = "settings"

urlpatterns = [
    path("account_settings", views.account_settings, name="account-settings"),
    path("account_settings/password_policy", views.password_policy_edit, name="password-policy-edit"),
    path("account_alias", views.account_alias, name="account-alias"),
    path("credential_report", views.credential_report, name="credential-report"),
    path("credential_report/download", views.credential_report_download, name="credential-report-download"),
]
