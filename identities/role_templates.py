"""Trust policies that the Create role wizard writes for each trusted entity type, and the reverse: the
"Trusted entities" text the Roles list shows for a trust policy.

Pure functions over plain values: no database, no request. Each builder raises ``TrustInputError`` naming the
wizard field that is wrong, so the page can show the message next to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

ENTITY_TYPES = (
    ("service", "AWS service", "Allow AWS services like EC2, Lambda, or others to perform actions in this account."),
    (
        "account",
        "AWS account",
        "Allow entities in other AWS accounts belonging to you or a 3rd party to perform actions in this account.",
    ),
    (
        "web",
        "Web identity",
        "Allows users federated by the specified external web identity provider to assume this role to perform "
        "actions in this account.",
    ),
    (
        "saml",
        "SAML 2.0 federation",
        "Allow users federated with SAML 2.0 from a corporate directory to perform actions in this account.",
    ),
    (
        "custom",
        "Custom trust policy",
        "Create a custom trust policy to enable others to perform actions in this account.",
    ),
)
ENTITY_KEYS = tuple(key for key, _, _ in ENTITY_TYPES)

CUSTOM_STARTER = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Statement1",
            "Effect": "Allow",
            "Principal": {},
            "Action": "sts:AssumeRole"
        }
    ]
}"""

SAML_CONSOLE_AUDIENCE = "https://signin.aws.amazon.com/saml"
_ACCOUNT_ID = re.compile(r"\d{12}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SAML_PROVIDER = re.compile(r"arn:aws:iam::\d{12}:saml-provider/[\w.-]{1,128}", re.ASCII)
_OIDC_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d+)?(/[\w.~/-]*)?", re.ASCII)
_CONDITION_VALUE = re.compile(r"[^\x00-\x1f]{1,1024}")


# ---- AWS service use cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UseCase:
    key: str
    label: str
    description: str
    principal: str  # the service principal the trust policy names
    suggested: tuple[str, ...] = ()  # managed policies the console preselects in Step 2

    @property
    def instance_profile(self) -> bool:
        """The console creates an instance profile named like the role when EC2 itself is trusted."""
        return self.principal == "ec2.amazonaws.com"


@dataclass(frozen=True)
class Service:
    key: str
    label: str
    use_cases: tuple[UseCase, ...] = field(default_factory=tuple)

    def use_case(self, key: str) -> UseCase | None:
        return next((u for u in self.use_cases if u.key == key), None)


SERVICES = (
    Service(
        "ec2",
        "EC2",
        (
            UseCase("ec2", "EC2", "Lets EC2 instances call AWS services for you.", "ec2.amazonaws.com"),
            UseCase(
                "ec2-ssm",
                "EC2 Role for AWS Systems Manager",
                "Lets EC2 instances call Systems Manager and other AWS services for you.",
                "ec2.amazonaws.com",
                ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",),
            ),
            UseCase(
                "ec2-spot-fleet",
                "EC2 Spot Fleet Role",
                "Lets EC2 Spot Fleet request, launch, tag and terminate instances for you.",
                "spotfleet.amazonaws.com",
                ("arn:aws:iam::aws:policy/service-role/AmazonEC2SpotFleetTaggingRole",),
            ),
        ),
    ),
    Service(
        "lambda",
        "Lambda",
        (UseCase("lambda", "Lambda", "Lets Lambda functions call AWS services for you.", "lambda.amazonaws.com"),),
    ),
    Service(
        "ecs",
        "Elastic Container Service",
        (
            UseCase(
                "ecs-tasks",
                "Elastic Container Service Task",
                "Lets ECS tasks call AWS services for you.",
                "ecs-tasks.amazonaws.com",
            ),
        ),
    ),
    Service(
        "apigateway",
        "API Gateway",
        (
            UseCase(
                "apigateway",
                "API Gateway",
                "Lets API Gateway write logs to CloudWatch.",
                "apigateway.amazonaws.com",
                ("arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",),
            ),
        ),
    ),
    Service(
        "cloudformation",
        "CloudFormation",
        (
            UseCase(
                "cloudformation",
                "CloudFormation",
                "Lets CloudFormation create and manage AWS stacks and resources.",
                "cloudformation.amazonaws.com",
            ),
        ),
    ),
    Service(
        "codebuild",
        "CodeBuild",
        (UseCase("codebuild", "CodeBuild", "Lets CodeBuild call AWS services for you.", "codebuild.amazonaws.com"),),
    ),
    Service(
        "events",
        "EventBridge",
        (
            UseCase(
                "events",
                "EventBridge",
                "Lets EventBridge rules call targets such as Step Functions or Kinesis.",
                "events.amazonaws.com",
            ),
        ),
    ),
    Service("glue", "Glue", (UseCase("glue", "Glue", "Lets Glue call AWS services for you.", "glue.amazonaws.com"),)),
    Service(
        "sagemaker",
        "SageMaker",
        (
            UseCase(
                "sagemaker",
                "SageMaker - Execution",
                "Lets SageMaker notebooks, training jobs and models call AWS services for you.",
                "sagemaker.amazonaws.com",
            ),
        ),
    ),
    Service(
        "states",
        "Step Functions",
        (
            UseCase(
                "states",
                "Step Functions",
                "Lets Step Functions state machines call AWS services for you.",
                "states.amazonaws.com",
            ),
        ),
    ),
)
SERVICES_BY_KEY = {s.key: s for s in SERVICES}

WEB_PROVIDERS = (
    # key, label, Federated principal (None: the OIDC provider's ARN), audience condition key suffix, field label
    ("cognito", "Amazon Cognito", "cognito-identity.amazonaws.com", "aud", "Identity pool ID"),
    ("amazon", "Login with Amazon", "www.amazon.com", "app_id", "Application ID"),
    ("facebook", "Facebook", "graph.facebook.com", "app_id", "Application ID"),
    ("google", "Google", "accounts.google.com", "aud", "Audience"),
    ("oidc", "OpenID Connect (OIDC) provider", None, "aud", "Audience"),
)
WEB_PROVIDERS_BY_KEY = {p[0]: p for p in WEB_PROVIDERS}


class TrustInputError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _document(statement: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=4)


def _statement(principal: dict, action: str, conditions: dict | None = None) -> dict:
    statement: dict = {"Effect": "Allow", "Principal": principal, "Action": action}
    if conditions:
        statement["Condition"] = conditions
    return statement


# ---- builders, one per trusted entity type -----------------------------------------------------------------


def service_trust(service_key: str, use_case_key: str) -> tuple[str, UseCase]:
    service = SERVICES_BY_KEY.get(service_key)
    if service is None:
        raise TrustInputError("service", "Choose a service or use case.")
    use_case = service.use_case(use_case_key)
    if use_case is None:
        raise TrustInputError("use_case", "Choose a use case for the specified service.")
    return _document(_statement({"Service": use_case.principal}, "sts:AssumeRole")), use_case


def account_trust(
    *,
    this_account: str,
    other: bool,
    account_id: str = "",
    require_external_id: bool = False,
    external_id: str = "",
    require_mfa: bool = False,
) -> str:
    if other:
        account_id = account_id.strip()
        if not account_id:
            raise TrustInputError("account_id", "Enter an account ID.")
        if not _ACCOUNT_ID.fullmatch(account_id):
            raise TrustInputError("account_id", "Account ID must be 12 digits.")
    else:
        account_id = this_account
    conditions: dict = {}
    if require_external_id:
        if not external_id:
            raise TrustInputError("external_id", "Enter an external ID.")
        if not _EXTERNAL_ID.fullmatch(external_id):
            raise TrustInputError(
                "external_id",
                "The external ID must be 2 to 1,224 characters long and can contain "
                "only letters, numbers, and + = , . @ : / - _",
            )
        conditions["StringEquals"] = {"sts:ExternalId": external_id}
    if require_mfa:
        conditions["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    return _document(_statement({"AWS": f"arn:aws:iam::{account_id}:root"}, "sts:AssumeRole", conditions))


def web_identity_trust(*, this_account: str, provider: str, audience: str, oidc_provider: str = "") -> str:
    entry = WEB_PROVIDERS_BY_KEY.get(provider)
    if entry is None:
        raise TrustInputError("web_provider", "Choose an identity provider.")
    _, _, federated, key_suffix, audience_label = entry
    if federated is None:
        host = re.sub(r"^https://", "", oidc_provider.strip()).rstrip("/")
        if not host:
            raise TrustInputError("oidc_provider", "Enter the identity provider's URL.")
        if not _OIDC_HOST.fullmatch(host):
            raise TrustInputError(
                "oidc_provider",
                "The provider URL must begin with https:// and contain only "
                "letters, numbers, dots, hyphens and a path.",
            )
        federated = f"arn:aws:iam::{this_account}:oidc-provider/{host}"
        condition_prefix = host
    else:
        condition_prefix = federated
    audience = audience.strip()
    if not audience:
        raise TrustInputError("web_audience", f"Enter the {audience_label.lower()}.")
    if not _CONDITION_VALUE.fullmatch(audience):
        raise TrustInputError(
            "web_audience",
            f"The {audience_label.lower()} can't contain control characters and can have up to 1,024 characters.",
        )
    conditions: dict = {"StringEquals": {f"{condition_prefix}:{key_suffix}": audience}}
    if provider == "cognito":
        conditions["ForAnyValue:StringLike"] = {"cognito-identity.amazonaws.com:amr": "authenticated"}
    return _document(_statement({"Federated": federated}, "sts:AssumeRoleWithWebIdentity", conditions))


def saml_trust(*, provider_arn: str, console_access: bool, attribute: str = "", value: str = "") -> str:
    provider_arn = provider_arn.strip()
    if not provider_arn:
        raise TrustInputError("saml_provider", "Enter the ARN of a SAML provider.")
    if not _SAML_PROVIDER.fullmatch(provider_arn):
        raise TrustInputError(
            "saml_provider",
            "The SAML provider ARN must look like arn:aws:iam::123456789012:saml-provider/ProviderName.",
        )
    conditions: dict = {}
    if console_access:
        conditions["StringEquals"] = {"SAML:aud": SAML_CONSOLE_AUDIENCE}
    attribute, value = attribute.strip(), value.strip()
    if attribute or value:
        if not re.fullmatch(r"SAML:[A-Za-z_:.-]{1,100}", attribute):
            raise TrustInputError("saml_attribute", "Choose a SAML attribute such as SAML:sub or SAML:aud.")
        if not value or not _CONDITION_VALUE.fullmatch(value):
            raise TrustInputError("saml_value", "Enter a value for the attribute.")
        conditions.setdefault("StringEquals", {})[attribute] = value
    return _document(_statement({"Federated": provider_arn}, "sts:AssumeRoleWithSAML", conditions))


# ---- the other way round: what a trust policy trusts -------------------------------------------------------


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _account_label(principal: str) -> str:
    if principal == "*":
        return "Anyone (*)"
    if _ACCOUNT_ID.fullmatch(principal):
        return f"Account: {principal}"
    parts = principal.split(":", 5)
    if len(parts) == 6 and parts[2] in ("iam", "sts"):
        return f"Account: {parts[4]}" if parts[4] else principal
    return principal  # a bare unique ID (AIDA…/AROA…) left by a deleted principal


def trusted_entities(document: str) -> list[str]:
    """The Roles list's "Trusted entities": "AWS Service: ec2", "Account: 123456789012", "Identity Provider: …"."""
    try:
        statements = json.loads(document).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    labels: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            labels.append("Anyone (*)")
            continue
        if not isinstance(principal, dict):
            continue
        for service in _listed(principal.get("Service")):
            labels.append(f"AWS Service: {service.removesuffix('.amazonaws.com')}")
        for aws in _listed(principal.get("AWS")):
            labels.append(_account_label(aws))
        for federated in _listed(principal.get("Federated")):
            labels.append(f"Identity Provider: {federated}")
    return list(dict.fromkeys(labels))
