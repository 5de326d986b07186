from django.apps import AppConfig


class AwsApiConfig(AppConfig):
    name = "awsapi"
    verbose_name = "AWS Query API"

    def ready(self) -> None:
        from awsapi.handlers import (  # noqa: F401  (registers the operations)
            account,
            credentials,
            federation,
            iam,
            iam_credentials,
            providers,
            simulate,
            sts,
        )
