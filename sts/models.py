"""Temporary security credentials: role sessions (AssumeRole, console Switch role) and session tokens
(GetSessionToken). Expired or revoked credentials are refused at the moment of use; the beat task only marks
them and records the audit event."""

from __future__ import annotations

from django.db import models

from identities.models import Account, IamUser, Role


class TemporaryCredential(models.Model):
    KIND_ROLE = "role"
    KIND_SESSION_TOKEN = "session-token"
    KIND_FEDERATED = "federated"  # GetFederationToken: ``user`` is the IAM user who asked (None: root)
    KIND_ROOT_TASK = "root-task"  # AssumeRoot: a member account's root user, limited by a task policy

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, default=KIND_ROLE)
    access_key_id = models.CharField(max_length=32, unique=True)  # ASIA…
    secret_encrypted = models.TextField()
    session_token_hash = models.CharField(max_length=64)  # SHA-256 of the token; the token itself is not stored
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions")
    user = models.ForeignKey(IamUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    source_arn = models.CharField(max_length=2048)  # who asked for it (user, root or an earlier role session)
    session_name = models.CharField(max_length=64, blank=True, default="")
    arn = models.CharField(max_length=2048)  # arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
    principal_id = models.CharField(max_length=160)  # AROA…:session
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    session_policy = models.TextField(blank=True, default="")
    session_policy_arns = models.JSONField(default=list)
    # GetScopedCredentials: scope-down policy documents stacked on the session (at most 3); each must also allow.
    scope_down_policies = models.JSONField(default=list)
    session_tags = models.JSONField(default=list)
    transitive_tag_keys = models.JSONField(default=list)
    source_identity = models.CharField(max_length=256, blank=True, default="")
    mfa_authenticated_at = models.DateTimeField(null=True, blank=True)
    chained = models.BooleanField(default=False)  # assumed with role credentials (capped at one hour)
    via_console = models.BooleanField(default=False)  # a console Switch role session
    expired_marked_at = models.DateTimeField(null=True, blank=True)  # set by the beat task, for the audit trail

    class Meta:
        indexes = [
            models.Index(
                fields=["expires_at"], condition=models.Q(expired_marked_at__isnull=True), name="sts_unexpired"
            )
        ]

    def __str__(self) -> str:
        return f"{self.arn or self.source_arn} ({self.access_key_id})"


class IdentityProviderKey(models.Model):
    """A signing key of an account's classroom identity provider (one per account and protocol, ``sts.idp``): the
    RSA private key is stored encrypted (``core.secrets``); the account's OIDC issuer publishes its public part as a
    JWKS, its SAML IdP as a self-signed certificate in its metadata document."""

    KIND_OIDC = "oidc"
    KIND_SAML = "saml"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    key_id = models.CharField(max_length=64)  # the JWT "kid"
    private_key_encrypted = models.TextField()  # PEM (PKCS#8), Fernet-encrypted
    certificate = models.TextField(blank=True, default="")  # PEM, SAML only
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="idp_key_one_per_account_and_kind")]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.kind}"
