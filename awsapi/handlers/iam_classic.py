"""IAM Query API handlers for issue 14's remaining classic operations: server certificates and their tags
(identities.server_certificates), access advisor (audit.access_advisor), and centralized root access with the
Organizations access report (classroom.root_access)."""

from __future__ import annotations

from typing import Any

from audit import access_advisor
from awsapi.dispatch import operation
from awsapi.handlers import shapes
from classroom import root_access
from core.context import CallContext
from identities import server_certificates as certs
from identities.services import Tag

P = dict[str, Any]


def _tags(p: P) -> list[Tag]:
    return [Tag(t.get("Key"), t.get("Value", "")) for t in p.get("Tags") or []]


def _paging(p: P) -> P:
    """The paging members, read before the service call: a refused call must not hide them from the param walk."""
    return {"Marker": p.get("Marker"), "MaxItems": p.get("MaxItems")}


# ---- server certificates ----------------------------------------------------------------------------------------


def _metadata(cert: Any) -> P:
    return {
        "Path": cert.path,
        "ServerCertificateName": cert.name,
        "ServerCertificateId": cert.server_certificate_id,
        "Arn": cert.arn,
        "UploadDate": cert.uploaded_at,
        "Expiration": cert.expires_at,
    }


@operation("iam", "UploadServerCertificate")
def upload_server_certificate(ctx: CallContext, p: P) -> P:
    cert = certs.upload_server_certificate(
        ctx,
        server_certificate_name=p.get("ServerCertificateName"),
        certificate_body=p.get("CertificateBody"),
        private_key=p.get("PrivateKey"),
        path=p.get("Path"),
        certificate_chain=p.get("CertificateChain"),
        tags=_tags(p),
    )
    out: P = {"ServerCertificateMetadata": _metadata(cert)}
    if cert.tags:
        out["Tags"] = shapes.tags(cert.tags)
    return out


@operation("iam", "GetServerCertificate")
def get_server_certificate(ctx: CallContext, p: P) -> P:
    cert = certs.get_server_certificate(ctx, server_certificate_name=p.get("ServerCertificateName"))
    out: P = {
        "ServerCertificateMetadata": _metadata(cert),
        "CertificateBody": cert.body,
        "Tags": shapes.tags(cert.tags),
    }
    if cert.chain:
        out["CertificateChain"] = cert.chain
    return {"ServerCertificate": out}


@operation("iam", "ListServerCertificates")
def list_server_certificates(ctx: CallContext, p: P) -> P:
    found = certs.list_server_certificates(ctx, path_prefix=p.get("PathPrefix"))
    result = shapes.page(found, p, "ServerCertificateMetadataList")
    result["ServerCertificateMetadataList"] = [_metadata(c) for c in result["ServerCertificateMetadataList"]]
    return result


@operation("iam", "UpdateServerCertificate")
def update_server_certificate(ctx: CallContext, p: P) -> None:
    certs.update_server_certificate(
        ctx,
        server_certificate_name=p.get("ServerCertificateName"),
        new_path=p.get("NewPath"),
        new_server_certificate_name=p.get("NewServerCertificateName"),
    )


@operation("iam", "DeleteServerCertificate")
def delete_server_certificate(ctx: CallContext, p: P) -> None:
    certs.delete_server_certificate(ctx, server_certificate_name=p.get("ServerCertificateName"))


@operation("iam", "TagServerCertificate")
def tag_server_certificate(ctx: CallContext, p: P) -> None:
    certs.tag_server_certificate(ctx, server_certificate_name=p.get("ServerCertificateName"), tags=_tags(p))


@operation("iam", "UntagServerCertificate")
def untag_server_certificate(ctx: CallContext, p: P) -> None:
    certs.untag_server_certificate(
        ctx, server_certificate_name=p.get("ServerCertificateName"), tag_keys=p.get("TagKeys") or []
    )


@operation("iam", "ListServerCertificateTags")
def list_server_certificate_tags(ctx: CallContext, p: P) -> P:
    paging = _paging(p)
    found = certs.list_server_certificate_tags(ctx, server_certificate_name=p.get("ServerCertificateName"))
    return shapes.page(shapes.tags(found), paging, "Tags")


# ---- access advisor ---------------------------------------------------------------------------------------------


@operation("iam", "GenerateServiceLastAccessedDetails")
def generate_service_last_accessed_details(ctx: CallContext, p: P) -> P:
    job_id = access_advisor.generate_service_last_accessed_details(
        ctx, arn=p.get("Arn"), granularity=p.get("Granularity")
    )
    return {"JobId": job_id}


@operation("iam", "GetServiceLastAccessedDetails")
def get_service_last_accessed_details(ctx: CallContext, p: P) -> P:
    paging = _paging(p)
    report = access_advisor.get_service_last_accessed_details(ctx, job_id=p.get("JobId"))
    out: P = {
        "JobStatus": "COMPLETED",
        "JobType": report.job.granularity,
        "JobCreationDate": report.job.created_at,
        "JobCompletionDate": report.job.completed_at,
    }
    out.update(shapes.page(report.services, paging, "ServicesLastAccessed"))
    return out


@operation("iam", "GetServiceLastAccessedDetailsWithEntities")
def get_service_last_accessed_details_with_entities(ctx: CallContext, p: P) -> P:
    paging = _paging(p)
    job, details = access_advisor.get_service_last_accessed_details_with_entities(
        ctx, job_id=p.get("JobId"), service_namespace=p.get("ServiceNamespace")
    )
    out: P = {"JobStatus": "COMPLETED", "JobCreationDate": job.created_at, "JobCompletionDate": job.completed_at}
    out.update(shapes.page(details, paging, "EntityDetailsList"))
    return out


@operation("iam", "ListPoliciesGrantingServiceAccess")
def list_policies_granting_service_access(ctx: CallContext, p: P) -> P:
    # No MaxItems in AWS's input shape: Marker pages by the default page size.
    paging = {"Marker": p.get("Marker")}
    found = access_advisor.list_policies_granting_service_access(
        ctx, arn=p.get("Arn"), service_namespaces=p.get("ServiceNamespaces") or []
    )
    return shapes.page(found, paging, "PoliciesGrantingServiceAccess")


# ---- centralized root access and the Organizations access report (classroom.root_access) --------------------------


def _features(features: Any) -> P:
    return {"OrganizationId": features.organization_id, "EnabledFeatures": features.enabled}


@operation("iam", "ListOrganizationsFeatures")
def list_organizations_features(ctx: CallContext, p: P) -> P:
    return _features(root_access.list_organizations_features(ctx))


@operation("iam", "EnableOrganizationsRootCredentialsManagement")
def enable_organizations_root_credentials_management(ctx: CallContext, p: P) -> P:
    return _features(root_access.enable_organizations_root_credentials_management(ctx))


@operation("iam", "DisableOrganizationsRootCredentialsManagement")
def disable_organizations_root_credentials_management(ctx: CallContext, p: P) -> P:
    return _features(root_access.disable_organizations_root_credentials_management(ctx))


@operation("iam", "EnableOrganizationsRootSessions")
def enable_organizations_root_sessions(ctx: CallContext, p: P) -> P:
    return _features(root_access.enable_organizations_root_sessions(ctx))


@operation("iam", "DisableOrganizationsRootSessions")
def disable_organizations_root_sessions(ctx: CallContext, p: P) -> P:
    return _features(root_access.disable_organizations_root_sessions(ctx))


@operation("iam", "GenerateOrganizationsAccessReport")
def generate_organizations_access_report(ctx: CallContext, p: P) -> P:
    job_id = root_access.generate_organizations_access_report(
        ctx, entity_path=p.get("EntityPath"), organizations_policy_id=p.get("OrganizationsPolicyId")
    )
    return {"JobId": job_id}


@operation("iam", "GetOrganizationsAccessReport")
def get_organizations_access_report(ctx: CallContext, p: P) -> P:
    paging = _paging(p)
    report = root_access.get_organizations_access_report(ctx, job_id=p.get("JobId"), sort_key=p.get("SortKey"))
    out: P = {
        "JobStatus": "COMPLETED",
        "JobCreationDate": report.job.created_at,
        "JobCompletionDate": report.job.completed_at,
        "NumberOfServicesAccessible": report.accessible,
        "NumberOfServicesNotAccessed": report.not_accessed,
    }
    out.update(shapes.page(report.details, paging, "AccessDetails"))
    return out
