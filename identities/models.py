"""Tenancy and IAM identities. Every tenant-owned row carries its account; every query goes through
``in_account`` so nothing of one account is reachable from another."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower


class AccountScopedQuerySet(models.QuerySet):
    def in_account(self, account_id: str) -> AccountScopedQuerySet:
        return self.filter(account_id=account_id)

    def named(self, name: str) -> AccountScopedQuerySet:
        # IAM names are unique case-insensitively but keep their case.
        return self.filter(name__lower=name.lower())


class RoleQuerySet(AccountScopedQuerySet):
    def with_arn(self, role_arn: str) -> RoleQuerySet:
        """``arn:aws:iam::ACCT:role/path/name``: that account's role of that name (none for any other ARN)."""
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            return self.none()
        return self.in_account(parts[4]).named(parts[5].rsplit("/", 1)[-1])


class Account(models.Model):
    id = models.CharField(primary_key=True, max_length=12)
    name = models.CharField(max_length=50, default="")
    alias = models.CharField(max_length=63, null=True, blank=True, unique=True)
    root_email = models.EmailField(unique=True)
    root_password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField()
    # SetSecurityTokenServicePreferences: the version of tokens the global STS endpoint issues (v1Token | v2Token).
    global_endpoint_token_version = models.CharField(max_length=8, default="v1Token")

    def __str__(self) -> str:
        return self.id

    @property
    def display_id(self) -> str:
        """``1234-5678-9012``, as the console's navigation bar shows it."""
        return f"{self.id[:4]}-{self.id[4:8]}-{self.id[8:]}"


class IamUser(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="users")
    user_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    path = models.CharField(max_length=512, default="/")
    arn = models.CharField(max_length=2048)
    created_at = models.DateTimeField()
    tags = models.JSONField(default=list)
    permissions_boundary = models.ForeignKey(
        "policies.ManagedPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    password_last_used = models.DateTimeField(null=True, blank=True)
    # The user's memberships, kept by add_user_to_group / remove_user_from_group (the only writers of memberships;
    # a reset deletes the users with them): the users list sorts on it without counting every user's groups.
    group_count = models.PositiveIntegerField(default=0)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "account", name="iamuser_unique_name")]
        indexes = [
            models.Index(fields=["account", "name"]),
            models.Index(fields=["account", "group_count", "id"], name="iamuser_account_groups"),
        ]

    def __str__(self) -> str:
        return self.name


class LoginProfile(models.Model):
    """A user's console password."""

    user = models.OneToOneField(IamUser, on_delete=models.CASCADE, related_name="login_profile")
    password_hash = models.CharField(max_length=256)
    password_reset_required = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    password_changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"login profile of user {self.user_id}"


class Group(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="groups")
    group_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    path = models.CharField(max_length=512, default="/")
    arn = models.CharField(max_length=2048)
    created_at = models.DateTimeField()
    users = models.ManyToManyField(IamUser, through="GroupMembership", related_name="groups")

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "account", name="group_unique_name")]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("group", "user", name="membership_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} in group {self.group_id}"


class Role(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="roles")
    role_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    path = models.CharField(max_length=512, default="/")
    arn = models.CharField(max_length=2048)
    description = models.CharField(max_length=1000, blank=True, default="")
    assume_role_policy = models.TextField()
    max_session_duration = models.PositiveIntegerField(default=3600)
    created_at = models.DateTimeField()
    tags = models.JSONField(default=list)
    permissions_boundary = models.ForeignKey(
        "policies.ManagedPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_region = models.CharField(max_length=32, blank=True, default="")  # GetRole's RoleLastUsed.Region

    objects = RoleQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "account", name="role_unique_name")]

    def __str__(self) -> str:
        return self.name


class PasswordPolicy(models.Model):
    """The account's custom password policy (absent: the IAM default applies). Field names follow the API."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="password_policy")
    minimum_password_length = models.PositiveSmallIntegerField(default=6)
    require_symbols = models.BooleanField(default=False)
    require_numbers = models.BooleanField(default=False)
    require_uppercase_characters = models.BooleanField(default=False)
    require_lowercase_characters = models.BooleanField(default=False)
    allow_users_to_change_password = models.BooleanField(default=False)
    max_password_age = models.PositiveSmallIntegerField(null=True, blank=True)  # days; None = never expires
    password_reuse_prevention = models.PositiveSmallIntegerField(null=True, blank=True)
    hard_expiry = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"password policy of {self.account_id}"


class PasswordHistory(models.Model):
    """Earlier password hashes of a user, for PasswordReusePrevention."""

    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"password of user {self.user_id} set {self.created_at:%Y-%m-%d %H:%M:%S}"


class AccessKey(models.Model):
    """A long-term access key of an IAM user (or of root when ``user`` is null). The secret is encrypted at rest
    because SigV4 verification needs it; it is shown once, at creation."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="access_keys")
    user = models.ForeignKey(IamUser, null=True, blank=True, on_delete=models.CASCADE, related_name="access_keys")
    access_key_id = models.CharField(max_length=32, unique=True)
    secret_encrypted = models.TextField()
    status = models.CharField(max_length=8, default="Active")  # Active | Inactive
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_service = models.CharField(max_length=64, blank=True, default="")
    last_used_region = models.CharField(max_length=32, blank=True, default="")

    objects = AccountScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.access_key_id


class MfaDevice(models.Model):
    """A virtual (TOTP) MFA device of an IAM user (or of root when ``user`` is null)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mfa_devices")
    user = models.ForeignKey(IamUser, null=True, blank=True, on_delete=models.CASCADE, related_name="mfa_devices")
    name = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=256, unique=True)  # arn:aws:iam::ACCOUNT:mfa/NAME
    secret_encrypted = models.TextField()
    enabled_at = models.DateTimeField(null=True, blank=True)  # None: created but not yet enabled
    last_used_step = models.BigIntegerField(default=0)  # the last accepted TOTP step: codes are single-use
    created_at = models.DateTimeField()
    tags = models.JSONField(default=list)

    objects = AccountScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.serial_number


class InstanceProfile(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="instance_profiles")
    instance_profile_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    path = models.CharField(max_length=512, default="/")
    arn = models.CharField(max_length=2048)
    created_at = models.DateTimeField()
    tags = models.JSONField(default=list)
    roles = models.ManyToManyField(Role, related_name="instance_profiles", blank=True)  # at most one (AWS quota)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "account", name="instance_profile_unique_name")]

    def __str__(self) -> str:
        return self.arn or self.name


class CredentialReport(models.Model):
    """The account's latest credential report (GenerateCredentialReport / GetCredentialReport), built by a Celery
    task. One row per account: a new report replaces the previous one."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="credential_report")
    state = models.CharField(max_length=10, default="STARTED")  # STARTED | INPROGRESS | COMPLETE
    requested_at = models.DateTimeField()  # when generation was (last) started
    generated_at = models.DateTimeField(null=True, blank=True)  # GeneratedTime, set when COMPLETE
    content = models.TextField(blank=True, default="")  # the CSV text

    def __str__(self) -> str:
        return f"credential report of {self.account_id} ({self.state})"


class SamlProvider(models.Model):
    """An IAM SAML 2.0 identity provider: a name and the IdP's metadata document (its signing certificate)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="saml_providers")
    name = models.CharField(max_length=128)
    arn = models.CharField(max_length=2048)
    metadata_document = models.TextField()
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    tags = models.JSONField(default=list)
    provider_uuid = models.CharField(max_length=64, blank=True, default="")  # SAMLProviderUUID

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("account", "name", name="saml_provider_unique_name")]

    def __str__(self) -> str:
        return self.name


class OpenIdConnectProvider(models.Model):
    """An IAM OIDC identity provider, keyed by its issuer URL without ``https://`` (as in its ARN)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="oidc_providers")
    url = models.CharField(max_length=255)
    arn = models.CharField(max_length=2048)
    client_ids = models.JSONField(default=list)
    thumbprints = models.JSONField(default=list)
    created_at = models.DateTimeField()
    tags = models.JSONField(default=list)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("account", "url", name="oidc_provider_unique_url")]

    def __str__(self) -> str:
        return self.url


class ServiceLinkedRoleDeletion(models.Model):
    """A DeleteServiceLinkedRole task, for GetServiceLinkedRoleDeletionStatus. Deletion happens at once here, so
    a task is SUCCEEDED as soon as it exists."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    task_id = models.CharField(max_length=1000)  # task/aws-service-role/<service>/<role>/<uuid>
    role_name = models.CharField(max_length=64)
    status = models.CharField(max_length=12, default="SUCCEEDED")
    created_at = models.DateTimeField()

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("account", "task_id", name="slr_deletion_unique_task")]

    def __str__(self) -> str:
        return self.task_id


class SshPublicKey(models.Model):
    """An IAM user's SSH public key for CodeCommit (UploadSSHPublicKey). The body is kept as uploaded, normalized
    to one OpenSSH line; the fingerprint (MD5, as AWS shows it) makes a second upload of the same key a duplicate."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="ssh_public_keys")
    key_id = models.CharField(max_length=128, unique=True)  # APKA…
    body = models.TextField()
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=8, default="Active")
    uploaded_at = models.DateTimeField()

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("user", "fingerprint", name="ssh_public_key_unique_per_user")]

    def __str__(self) -> str:
        return self.key_id


class ServiceSpecificCredential(models.Model):
    """A user name + password (CodeCommit, Keyspaces) or an API key (Bedrock) for one service. The password is
    shown once, by Create/Reset; only its hash is kept."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="service_specific_credentials")
    credential_id = models.CharField(max_length=128, unique=True)  # ACCA…
    service_name = models.CharField(max_length=64)
    service_user_name = models.CharField(max_length=200)  # ServiceUserName, or the Bedrock key's alias
    password_hash = models.CharField(max_length=256)
    status = models.CharField(max_length=8, default="Active")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = AccountScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.credential_id


class SigningCertificate(models.Model):
    """An X.509 signing certificate of an IAM user (or of root when ``user`` is null)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        IamUser, null=True, blank=True, on_delete=models.CASCADE, related_name="signing_certificates"
    )
    certificate_id = models.CharField(max_length=128, unique=True)
    body = models.TextField()
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the DER: the same certificate twice is a duplicate
    status = models.CharField(max_length=8, default="Active")
    uploaded_at = models.DateTimeField()

    objects = AccountScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.certificate_id


class ServerCertificate(models.Model):
    """A server certificate (UploadServerCertificate): the PEM certificate and chain as uploaded, with the expiry
    read from the certificate. The private key is checked against the certificate at upload and then dropped:
    IAM never returns it, and nothing in this product serves TLS with it, so keeping it would only keep a secret."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    server_certificate_id = models.CharField(max_length=32, unique=True)  # ASCA…
    name = models.CharField(max_length=128)
    path = models.CharField(max_length=512, default="/")
    arn = models.CharField(max_length=2048)
    body = models.TextField()
    chain = models.TextField(blank=True, default="")  # "": no chain uploaded
    uploaded_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    tags = models.JSONField(default=list)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "account", name="server_certificate_unique_name")]

    def __str__(self) -> str:
        return self.arn
