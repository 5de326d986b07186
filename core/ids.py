"""AWS-style unique identifiers: a four-letter prefix (AIDA, AGPA, AROA, ANPA, AKIA, ASIA, …) + base32 text."""

from __future__ import annotations

import base64
import secrets
import string

_BASE32 = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def new_id(prefix: str, length: int = 21) -> str:
    """A new ID such as ``AIDAV4Q2ZK7XJ3LPRM5NB`` (21 characters, like the IDs AWS hands out)."""
    # Base32 of random bytes is uniform over the same alphabet, at a fraction of one secrets.choice per character
    # (every API call that creates something makes one); each character kept is made of 5 random bits.
    size = length - len(prefix)
    return prefix + base64.b32encode(secrets.token_bytes((size * 5 + 7) // 8)).decode()[:size]


def new_access_key_id(prefix: str = "AKIA") -> str:
    return new_id(prefix, 20)


def new_secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_account_id() -> str:
    # Real account IDs may start with 0; never all zeros.
    while (account_id := "".join(secrets.choice(string.digits) for _ in range(12))) == "0" * 12:
        pass
    return account_id
