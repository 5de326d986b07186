from django.apps import AppConfig


class AwsApiConfig(AppConfig):
    name = "awsapi"
    verbose_name = "AWS Query API"

    def ready(self) -> None:
        # reason: the handlers import models, which need the app registry; importing them registers the operations
        from awsapi.handlers import (  # noqa: F401
            account,
            credentials,
            federation,
            iam,
            iam_classic,
            iam_credentials,
            providers,
            simulate,
            sts,
        )
