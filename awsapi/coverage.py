"""``python -m awsapi.coverage``: write docs/api-coverage.md, a table of every IAM and STS operation in
botocore's service models and whether the Query API implements it, and the AWS Organizations operations answered
(``classroom.organizations_api``); ``--check`` fails if the file is stale."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import botocore
import django

from awsapi.dispatch import HANDLERS
from core.validation import service_model

PATH = Path(__file__).resolve().parent.parent / "docs" / "api-coverage.md"


# The operations left InvalidAction, by family, with the reason (issue 14 §2: the 2025-2026 families AWS documents
# only in part may stay unimplemented, each named here). Every unimplemented operation must be in one family
# (tests/awsapi/test_coverage.py).
FAMILIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Delegation requests (2025-2026)",
        "Temporary access delegation to AWS partners: AWS documents the API as not available for general use, "
        "and GetHumanReadableSummary is an LLM summary of a delegation request.",
        (
            "iam:AcceptDelegationRequest",
            "iam:AssociateDelegationRequest",
            "iam:CreateDelegationRequest",
            "iam:GetDelegationRequest",
            "iam:GetHumanReadableSummary",
            "iam:ListDelegationRequests",
            "iam:RejectDelegationRequest",
            "iam:SendDelegationToken",
            "iam:UpdateDelegationRequest",
            "sts:GetDelegatedAccessToken",
        ),
    ),
    (
        "Workload identity providers and templates (2025-2026)",
        "X.509/JWT SVIDs signed through AWS Private CA, attestation policies and service-issued workload contexts: "
        "documented in part, and they need AWS Private CA and AWS compute services this product does not have.",
        tuple(
            [
                *(
                    f"iam:{verb}WorkloadIdentity{what}"
                    for verb, what in (
                        ("Create", "Provider"),
                        ("Create", "ProviderOutboundSigner"),
                        ("Create", "Template"),
                        ("Delete", "Provider"),
                        ("Delete", "ProviderOutboundSigner"),
                        ("Delete", "ProviderResourcePolicy"),
                        ("Delete", "Template"),
                        ("Delete", "TemplateAttestationPolicy"),
                        ("Disable", "ProviderOutboundSigner"),
                        ("Enable", "ProviderOutboundSigner"),
                        ("Get", "Provider"),
                        ("Get", "ProviderDeletionStatus"),
                        ("Get", "ProviderResourcePolicy"),
                        ("Get", "Template"),
                        ("Get", "TemplateAttestationPolicy"),
                        ("List", "ProviderOutboundSigners"),
                        ("List", "ProviderTags"),
                        ("List", "Providers"),
                        ("List", "TemplateTags"),
                        ("List", "Templates"),
                        ("Put", "ProviderResourcePolicy"),
                        ("Put", "TemplateAttestationPolicy"),
                        ("Tag", "Provider"),
                        ("Tag", "Template"),
                        ("Untag", "Provider"),
                        ("Untag", "Template"),
                        ("Update", "ProviderOutboundSigner"),
                    )
                ),
                "sts:GetCertificate",
                "sts:GetTrustBundles",
                "sts:IssueWorkloadIdentityContext",
            ]
        ),
    ),
    (
        "Outbound web identity federation (2025)",
        "JWTs that AWS STS signs for external services, verified against AWS's public JWKS endpoint: the "
        "classroom's server has no internet-reachable issuer, and AWS documents the feature only in part.",
        (
            "iam:DisableOutboundWebIdentityFederation",
            "iam:EnableOutboundWebIdentityFederation",
            "iam:GetOutboundWebIdentityFederationInfo",
            "sts:GetWebIdentityToken",
        ),
    ),
    (
        "Role templates, account properties and organization-level resources (2026)",
        "Role Manager's role templates (AcquireRole, GetRoleTemplateVersion), the account properties that switch "
        "it on, and IAM resources owned by an organization: new and documented only in part.",
        (
            "iam:AcquireRole",
            "iam:DisableOrganizationLevelResources",
            "iam:EnableOrganizationLevelResources",
            "iam:GetAccountProperties",
            "iam:GetRoleTemplateVersion",
            "iam:PutAccountProperties",
        ),
    ),
    (
        "Trusted identity propagation",
        "UpdateOpenIDConnectProvider only sets an OIDC provider's IAM Identity Center instance and trusted identity "
        "propagation context provider; the product has no IAM Identity Center (the thumbprint update is "
        "UpdateOpenIDConnectProviderThumbprint, implemented).",
        ("iam:UpdateOpenIDConnectProvider",),
    ),
)


def family_of(service: str, name: str) -> str | None:
    key = f"{service}:{name}"
    return next((title for title, _, names in FAMILIES if key in names), None)


def render() -> str:
    lines = [
        "# Query API coverage",
        "",
        "Generated by `python -m awsapi.coverage` from botocore's IAM and STS service models "
        f"(botocore {botocore.__version__}); do not edit by hand. Operations without a handler are answered "
        "`InvalidAction` (HTTP 400).",
        "",
    ]
    for service in ("iam", "sts"):
        names = sorted(service_model(service).operation_names)
        done = [n for n in names if (service, n) in HANDLERS]
        lines += [
            f"## {service.upper()}: {len(done)} of {len(names)} operations",
            "",
            "| Operation | Implemented |",
            "| --- | --- |",
        ]
        lines += [
            f"| {n} | {'yes' if (service, n) in HANDLERS else f'no — InvalidAction ({family_of(service, n)})'} |"
            for n in names
        ]
        lines.append("")
    lines += ["## Left InvalidAction, by family", ""]
    for title, reason, members in FAMILIES:
        lines += [f"- **{title}** ({len(members)}): {reason}"]
    lines.append("")
    # reason: the Organizations front imports models, which need the app registry (main sets Django up first)
    from classroom import organizations_api

    names = sorted(service_model("organizations").operation_names)
    done = [n for n in names if n in organizations_api.HANDLERS]
    lines += [
        f"## Organizations: {len(done)} of {len(names)} operations (read-only)",
        "",
        "AWS's `json` protocol on the same endpoint (`X-Amz-Target: "
        f"{organizations_api.TARGET_PREFIX}<Operation>`), over the caller's class organization: what Prowler's "
        "organizations service reads. Classes are changed on their pages; the other "
        f"{len(names) - len(done)} operations of botocore's model are answered `UnknownOperationException` "
        "(HTTP 400).",
        "",
        "| Operation | Implemented |",
        "| --- | --- |",
        *(f"| {n} | yes |" for n in done),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api-coverage.md is out of date")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

    django.setup()
    text = render()
    if args.check:
        current = PATH.read_text() if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is out of date: run python -m awsapi.coverage", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text)
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
