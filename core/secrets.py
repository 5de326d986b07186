"""Encryption at rest for secrets the server must read back (access-key secrets, TOTP seeds, session keys).

Fernet (AES-128-CBC + HMAC) from `cryptography`; the key comes from FIELD_ENCRYPTION_KEY, or is derived from
SECRET_KEY with HKDF so a laptop install works without extra configuration.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@functools.cache
def _fernet(key_material: str) -> Fernet:
    if getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        return Fernet(settings.FIELD_ENCRYPTION_KEY)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"iam-classroom", info=b"field-encryption").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(plaintext: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured key") from exc
