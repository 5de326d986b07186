"""AssumeRoleWithWebIdentity and AssumeRoleWithSAML with the classroom identity provider: tokens it issues are
verified with its own key, the role's trust policy decides through the engine (Federated principal, claim condition
keys), and every refusal has AWS's error code, issues nothing and is in the role account's history."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from audit.models import AuditEvent
from core import clock
from core.context import CallContext, Principal
from core.errors import AccessDenied, ValidationError
from identities import roles
from identities.models import OpenIdConnectProvider, SamlProvider
from sts import federation, idp, services
from sts.federation import ExpiredTokenException, InvalidIdentityToken
from sts.models import IdentityProviderKey, TemporaryCredential
from tests.conftest import ACCOUNT_ID, OTHER_ACCOUNT_ID

HOST = "classroom.example:8000"
URL = f"{HOST}/idp/{ACCOUNT_ID}"
ISSUER = f"https://{URL}"
AUDIENCE = "classroom-app"


def anonymous() -> CallContext:
    """What the Query API hands an unsigned call."""
    return CallContext(Principal("Root", "", "", "anonymous", ""), origin="api", user_agent="pytest")


def oidc_provider(account_id: str, url: str = URL, client_ids: tuple[str, ...] = (AUDIENCE,)) -> OpenIdConnectProvider:
    return OpenIdConnectProvider.objects.create(
        account_id=account_id,
        url=url,
        client_ids=list(client_ids),
        arn=f"arn:aws:iam::{account_id}:oidc-provider/{url}",
        created_at=clock.now(),
    )


def web_trust(provider_arn: str, *, sub: str = "alice", url: str = URL) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{url}:aud": AUDIENCE, f"{url}:sub": sub}},
                }
            ],
        }
    )


@pytest.fixture
def web_role(root_ctx, account):
    provider = oidc_provider(account.id)
    role = roles.create_role(
        root_ctx, role_name="WebApp", assume_role_policy_document=web_trust(provider.arn), max_session_duration=7200
    )
    return role, provider


def assume_web(token: str, role_arn: str, **kwargs):
    return federation.assume_role_with_web_identity(
        anonymous(), role_arn=role_arn, role_session_name="web1", web_identity_token=token, **kwargs
    )


def test_token_of_the_classroom_issuer_assumes_a_trusting_role(web_role, account):
    role, provider = web_role
    token = idp.issue_id_token(
        account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE, lifetime_seconds=600
    )
    result = assume_web(token, role.arn, duration_seconds=900)
    credential = result.issued.credential
    assert (result.subject, result.audience, result.provider) == ("alice", AUDIENCE, provider.arn)
    assert credential.arn == f"arn:aws:sts::{account.id}:assumed-role/WebApp/web1"
    assert credential.principal_id == f"{role.role_id}:web1"
    assert credential.expires_at - credential.issued_at == timedelta(seconds=900)
    assert result.issued.access_key_id.startswith("ASIA")
    session = services.principal_for(credential)
    assert services.get_caller_identity(CallContext(session))["Arn"] == credential.arn
    event = AuditEvent.objects.get(event_name="AssumeRoleWithWebIdentity")
    assert event.error_code == "" and event.account_id == account.id
    assert event.record["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{provider.arn}:{AUDIENCE}:alice",
        "userName": "alice",
        "identityProvider": provider.arn,
    }
    assert event.record["responseElements"]["subjectFromWebIdentityToken"] == "alice"
    assert event.record["responseElements"]["provider"] == provider.arn
    assert token not in json.dumps(event.record)  # the token is a credential: never logged


def test_default_duration_is_one_hour_and_the_role_maximum_caps_it(web_role):
    role, _ = web_role
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    credential = assume_web(token, role.arn).issued.credential
    assert credential.expires_at - credential.issued_at == timedelta(hours=1)
    with pytest.raises(ValidationError, match="exceeds the MaxSessionDuration set for this role"):
        assume_web(token, role.arn, duration_seconds=7201)


def test_wrong_audience_is_refused(web_role):
    role, _ = web_role
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience="someone-else")
    with pytest.raises(InvalidIdentityToken, match=": Incorrect token audience$"):
        assume_web(token, role.arn)
    assert not TemporaryCredential.objects.exists()
    assert AuditEvent.objects.get(event_name="AssumeRoleWithWebIdentity").error_code == "InvalidIdentityToken"


def test_expired_token_is_refused(web_role):
    role, _ = web_role
    token = idp.issue_id_token(
        account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE, lifetime_seconds=300
    )
    with (
        clock.frozen(clock.now() + timedelta(seconds=301)),
        pytest.raises(ExpiredTokenException, match="Token expired"),
    ):
        assume_web(token, role.arn)
    assert not TemporaryCredential.objects.exists()


def test_tampered_token_is_refused(web_role):
    role, _ = web_role
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="mallory", audience=AUDIENCE)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "alice"  # pretend to be the trusted user, keeping mallory's signature
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidIdentityToken, match="could not be validated"):
        assume_web(f"{header}.{forged}.{signature}", role.arn)
    assert not TemporaryCredential.objects.exists()


def test_token_signed_by_another_key_with_our_key_id_is_refused(web_role):
    role, _ = web_role
    kid = idp.signing_key(ACCOUNT_ID, "oidc").key_id
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(clock.now().timestamp())
    token = jwt.encode(
        {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 600},
        other,
        algorithm="RS256",
        headers={"kid": kid},
    )
    with pytest.raises(InvalidIdentityToken, match="could not be validated"):
        assume_web(token, role.arn)


def test_role_that_does_not_trust_the_user_is_refused_by_the_engine(web_role, root_ctx, account):
    role, provider = web_role
    token = idp.issue_id_token(
        account_id=ACCOUNT_ID, host=HOST, subject="bob", audience=AUDIENCE
    )  # the trust policy names alice
    with pytest.raises(AccessDenied, match=": Not authorized to perform sts:AssumeRoleWithWebIdentity$"):
        assume_web(token, role.arn)
    roles.create_role(
        root_ctx,
        role_name="Ec2Only",
        assume_role_policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    alice = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    with pytest.raises(AccessDenied):
        assume_web(alice, f"arn:aws:iam::{account.id}:role/Ec2Only")
    assert not TemporaryCredential.objects.exists()
    denied = AuditEvent.objects.filter(event_name="AssumeRoleWithWebIdentity", error_code="AccessDenied")
    assert denied.count() == 2
    assert denied.first().explanation["missing_layer"] == "trust"  # the engine's reason, for the Why? panel


def test_unknown_issuer_has_no_keys(account, root_ctx):
    provider = oidc_provider(account.id, url="login.example.com")
    role = roles.create_role(
        root_ctx, role_name="External", assume_role_policy_document=web_trust(provider.arn, url="login.example.com")
    )
    now = int(clock.now().timestamp())
    token = jwt.encode(
        {"iss": "https://login.example.com", "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 600},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(InvalidIdentityToken, match=": Couldn't retrieve verification key from your identity provider"):
        assume_web(token, role.arn)


def test_issuer_without_an_iam_provider_and_garbage_tokens(account, root_ctx):
    role = roles.create_role(
        root_ctx,
        role_name="NoProvider",
        assume_role_policy_document=web_trust(f"arn:aws:iam::{account.id}:oidc-provider/{URL}"),
    )
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    with pytest.raises(InvalidIdentityToken, match=f": No OpenIDConnect provider found in your account for {ISSUER}$"):
        assume_web(token, role.arn)
    with pytest.raises(InvalidIdentityToken, match="not a valid JWT"):
        assume_web("not-a-token-at-all", role.arn)


def test_provider_of_another_account_does_not_count(web_role, other_account, other_root_ctx):
    _, provider = web_role
    role = roles.create_role(other_root_ctx, role_name="Theirs", assume_role_policy_document=web_trust(provider.arn))
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    with pytest.raises(InvalidIdentityToken, match="No OpenIDConnect provider found"):
        assume_web(token, role.arn)


def test_jwks_publishes_the_public_key_that_verifies_issued_tokens(account):
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    (key,) = idp.jwks(ACCOUNT_ID)["keys"]
    assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}  # no private parts
    public = jwt.PyJWK(key).key
    assert jwt.decode(token, public, algorithms=["RS256"], audience=AUDIENCE)["iss"] == ISSUER
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]


def test_token_lifetime_is_at_most_one_hour(account):
    with pytest.raises(ValidationError):
        idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE, lifetime_seconds=3601)


# ---- SAML -------------------------------------------------------------------------------------------------------

SAML_AUD = "https://signin.aws.amazon.com/saml"


def saml_provider(account_id: str, name: str = "Classroom") -> SamlProvider:
    return SamlProvider.objects.create(
        account_id=account_id,
        name=name,
        arn=f"arn:aws:iam::{account_id}:saml-provider/{name}",
        metadata_document=idp.saml_metadata(HOST, f"http://{HOST}", ACCOUNT_ID),
        created_at=clock.now(),
    )


def saml_trust(provider_arn: str, *, sub: str = "alice") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithSAML",
                    "Condition": {"StringEquals": {"SAML:aud": SAML_AUD, "SAML:sub": sub}},
                }
            ],
        }
    )


@pytest.fixture
def saml_role(root_ctx, account):
    provider = saml_provider(account.id)
    role = roles.create_role(root_ctx, role_name="SamlUsers", assume_role_policy_document=saml_trust(provider.arn))
    return role, provider


def assume_saml(assertion: str, role_arn: str, provider_arn: str, **kwargs):
    return federation.assume_role_with_saml(
        anonymous(), role_arn=role_arn, principal_arn=provider_arn, saml_assertion=assertion, **kwargs
    )


def test_signed_saml_response_assumes_a_trusting_role(saml_role, account):
    role, provider = saml_role
    assertion = idp.issue_saml_response(
        account_id=ACCOUNT_ID,
        host=HOST,
        subject="alice",
        roles=[(role.arn, provider.arn)],
        session_name="alice@example.com",
    )
    result = assume_saml(assertion, role.arn, provider.arn)
    credential = result.issued.credential
    assert credential.arn == f"arn:aws:sts::{account.id}:assumed-role/SamlUsers/alice@example.com"
    assert (result.subject, result.subject_type, result.audience) == ("alice", "persistent", SAML_AUD)
    assert result.provider == f"https://{HOST}/idp/{ACCOUNT_ID}/saml"
    assert result.name_qualifier == federation.name_qualifier(result.provider, account.id, "Classroom")
    event = AuditEvent.objects.get(event_name="AssumeRoleWithSAML")
    assert event.record["userIdentity"]["type"] == "SAMLUser"
    assert event.record["userIdentity"]["identityProvider"] == result.name_qualifier
    assert event.record["responseElements"]["nameQualifier"] == result.name_qualifier


def test_saml_refusals(saml_role, account, root_ctx):
    role, provider = saml_role
    good = idp.issue_saml_response(
        account_id=ACCOUNT_ID, host=HOST, subject="alice", roles=[(role.arn, provider.arn)], session_name="alice"
    )
    # tampered: change the subject inside the signed assertion
    xml = base64.b64decode(good).replace(b">alice</saml:NameID>", b">admin</saml:NameID>")
    with pytest.raises(InvalidIdentityToken, match=": Response signature invalid$"):
        assume_saml(base64.b64encode(xml).decode(), role.arn, provider.arn)
    # expired: redeemed after its five minutes
    with clock.frozen(clock.now() + timedelta(minutes=6)), pytest.raises(ExpiredTokenException):
        assume_saml(good, role.arn, provider.arn)
    # a provider whose metadata holds another certificate
    stranger = idp.SigningKey(
        "x", key := rsa.generate_private_key(public_exponent=65537, key_size=2048), idp._self_signed(key, clock.now())
    )
    other_meta = provider.metadata_document.replace(
        idp.signing_key(ACCOUNT_ID, "saml").certificate_base64, stranger.certificate_base64
    )
    other = SamlProvider.objects.create(
        account_id=account.id,
        name="Other",
        arn=f"arn:aws:iam::{account.id}:saml-provider/Other",
        metadata_document=other_meta,
        created_at=clock.now(),
    )
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        assume_saml(
            idp.issue_saml_response(
                account_id=ACCOUNT_ID, host=HOST, subject="alice", roles=[(role.arn, other.arn)], session_name="alice"
            ),
            role.arn,
            other.arn,
        )
    # a subject the trust policy does not name
    bob = idp.issue_saml_response(
        account_id=ACCOUNT_ID, host=HOST, subject="bob", roles=[(role.arn, provider.arn)], session_name="bob"
    )
    with pytest.raises(AccessDenied, match=": Not authorized to perform sts:AssumeRoleWithSAML$"):
        assume_saml(bob, role.arn, provider.arn)
    # the assertion does not offer this role
    roles.create_role(root_ctx, role_name="Another", assume_role_policy_document=saml_trust(provider.arn))
    with pytest.raises(AccessDenied):
        assume_saml(good, f"arn:aws:iam::{account.id}:role/Another", provider.arn)
    # no such provider
    with pytest.raises(InvalidIdentityToken, match="Specified provider doesn't exist"):
        assume_saml(good, role.arn, f"arn:aws:iam::{account.id}:saml-provider/Ghost")
    with pytest.raises(InvalidIdentityToken):
        assume_saml("bm90IHhtbA==", role.arn, provider.arn)
    assert not TemporaryCredential.objects.exists()
    codes = list(AuditEvent.objects.filter(event_name="AssumeRoleWithSAML").values_list("error_code", flat=True))
    assert len(codes) == 7 and "" not in codes


def test_saml_session_name_is_required_and_checked(saml_role):
    role, provider = saml_role
    bad = idp.issue_saml_response(
        account_id=ACCOUNT_ID, host=HOST, subject="alice", roles=[(role.arn, provider.arn)], session_name="a b"
    )
    with pytest.raises(InvalidIdentityToken, match=r"RoleSessionName in AuthnResponse must match"):
        assume_saml(bad, role.arn, provider.arn)


def test_metadata_document_carries_the_signing_certificate(account):
    entity_id, certificates = federation.metadata_signing_certificates(
        idp.saml_metadata(HOST, f"http://{HOST}", ACCOUNT_ID)
    )
    assert entity_id == f"https://{HOST}/idp/{ACCOUNT_ID}/saml" and len(certificates) == 1
    assert len(idp.saml_metadata(HOST, f"http://{HOST}", ACCOUNT_ID)) >= 1000  # AWS's minimum for a metadata document


# ---- Each account is its own identity provider -------------------------------------------------------------------

OTHER_URL = f"{HOST}/idp/{OTHER_ACCOUNT_ID}"


def test_each_account_has_its_own_issuer_and_key(account, other_account):
    mine = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    theirs = idp.issue_id_token(account_id=OTHER_ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    assert jwt.decode(mine, options={"verify_signature": False})["iss"] == ISSUER
    assert jwt.decode(theirs, options={"verify_signature": False})["iss"] == f"https://{OTHER_URL}"
    (my_key,), (their_key,) = idp.jwks(ACCOUNT_ID)["keys"], idp.jwks(OTHER_ACCOUNT_ID)["keys"]
    assert my_key["kid"] != their_key["kid"] and my_key["n"] != their_key["n"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(theirs, jwt.PyJWK(my_key).key, algorithms=["RS256"], audience=AUDIENCE)
    assert (idp.issuer_account(ISSUER), idp.issuer_account(f"https://{HOST}/idp")) == (ACCOUNT_ID, None)
    assert idp.saml_entity_account(idp.saml_entity_id(HOST, OTHER_ACCOUNT_ID)) == OTHER_ACCOUNT_ID


def test_a_token_of_another_account_is_refused_even_for_its_registered_issuer(web_role, other_account, root_ctx):
    role, _ = web_role
    theirs = idp.issue_id_token(account_id=OTHER_ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    with pytest.raises(
        InvalidIdentityToken, match=f"No OpenIDConnect provider found in your account for https://{OTHER_URL}$"
    ):
        assume_web(theirs, role.arn)
    # this account trusts the other account's issuer: still not a way in
    provider = oidc_provider(ACCOUNT_ID, url=OTHER_URL)
    trusting = roles.create_role(
        root_ctx, role_name="TrustsOther", assume_role_policy_document=web_trust(provider.arn, url=OTHER_URL)
    )
    with pytest.raises(InvalidIdentityToken, match="could not be validated"):
        assume_web(theirs, trusting.arn)
    assert not TemporaryCredential.objects.exists()
    codes = AuditEvent.objects.filter(event_name="AssumeRoleWithWebIdentity").values_list("error_code", flat=True)
    assert list(codes) == ["InvalidIdentityToken"] * 2


def test_a_token_naming_this_issuer_but_signed_by_another_account_is_refused(web_role, other_account):
    role, _ = web_role
    theirs = idp.issue_id_token(account_id=OTHER_ACCOUNT_ID, host=HOST, subject="alice", audience=AUDIENCE)
    their_key = idp.signing_key(OTHER_ACCOUNT_ID, "oidc")
    now = int(clock.now().timestamp())
    claims = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 600}
    with pytest.raises(InvalidIdentityToken, match="Couldn't retrieve verification key"):  # before A issued anything
        assume_web(jwt.encode(claims, their_key.private_key, algorithm="RS256", headers={"kid": "x"}), role.arn)
    assert not IdentityProviderKey.objects.filter(account_id=ACCOUNT_ID).exists()  # verifying creates no key
    my_kid = idp.signing_key(ACCOUNT_ID, "oidc").key_id
    for kid, message in ((their_key.key_id, "Couldn't retrieve verification key"), (my_kid, "could not be validated")):
        forged = jwt.encode(claims, their_key.private_key, algorithm="RS256", headers={"kid": kid})
        with pytest.raises(InvalidIdentityToken, match=message):
            assume_web(forged, role.arn)
    assert theirs and not TemporaryCredential.objects.exists()


def test_the_old_deployment_wide_issuer_is_not_accepted(account, root_ctx):
    legacy = f"{HOST}/idp"
    provider = oidc_provider(account.id, url=legacy)
    role = roles.create_role(
        root_ctx, role_name="Legacy", assume_role_policy_document=web_trust(provider.arn, url=legacy)
    )
    key = idp.signing_key(ACCOUNT_ID, "oidc")  # even signed with this account's own key
    now = int(clock.now().timestamp())
    token = jwt.encode(
        {"iss": f"https://{legacy}", "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 600},
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.key_id},
    )
    with pytest.raises(InvalidIdentityToken, match="Couldn't retrieve verification key"):
        assume_web(token, role.arn)


def test_a_saml_response_of_another_account_is_refused(saml_role, account, other_account, root_ctx):
    role, provider = saml_role
    theirs = idp.issue_saml_response(
        account_id=OTHER_ACCOUNT_ID, host=HOST, subject="alice", roles=[(role.arn, provider.arn)], session_name="alice"
    )
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        assume_saml(theirs, role.arn, provider.arn)
    # this account uploads the other account's metadata: its responses are still not accepted here
    other = SamlProvider.objects.create(
        account_id=account.id,
        name="Other",
        arn=f"arn:aws:iam::{account.id}:saml-provider/Other",
        metadata_document=idp.saml_metadata(HOST, f"http://{HOST}", OTHER_ACCOUNT_ID),
        created_at=clock.now(),
    )
    trusting = roles.create_role(root_ctx, role_name="TrustsOther", assume_role_policy_document=saml_trust(other.arn))
    theirs = idp.issue_saml_response(
        account_id=OTHER_ACCOUNT_ID, host=HOST, subject="alice", roles=[(trusting.arn, other.arn)], session_name="al"
    )
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        assume_saml(theirs, trusting.arn, other.arn)
    assert not TemporaryCredential.objects.exists()


def test_a_saml_response_naming_this_issuer_but_signed_by_another_account_is_refused(saml_role, other_account):
    """The metadata holds the other account's certificate under this account's entity ID, and the assertion names
    this account's IdP but is signed with the other account's key: only this account's own key counts."""
    role, provider = saml_role
    mine = IdentityProviderKey.objects.get(account_id=ACCOUNT_ID, kind="saml")
    theirs = idp.signing_key(OTHER_ACCOUNT_ID, "saml")
    provider.metadata_document = provider.metadata_document.replace(
        idp.signing_key(ACCOUNT_ID, "saml").certificate_base64, theirs.certificate_base64
    )
    provider.save()
    saved = (mine.key_id, mine.private_key_encrypted, mine.certificate)
    theirs_row = IdentityProviderKey.objects.get(account_id=OTHER_ACCOUNT_ID, kind="saml")
    IdentityProviderKey.objects.filter(pk=mine.pk).update(
        key_id=theirs_row.key_id,
        private_key_encrypted=theirs_row.private_key_encrypted,
        certificate=theirs_row.certificate,
    )  # sign "as this account" with the other account's key
    forged = idp.issue_saml_response(
        account_id=ACCOUNT_ID, host=HOST, subject="alice", roles=[(role.arn, provider.arn)], session_name="alice"
    )
    IdentityProviderKey.objects.filter(pk=mine.pk).update(
        key_id=saved[0], private_key_encrypted=saved[1], certificate=saved[2]
    )
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        assume_saml(forged, role.arn, provider.arn)
    assert not TemporaryCredential.objects.exists()
