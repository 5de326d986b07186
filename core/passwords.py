"""Argon2id hashing for console passwords (root and IAM users)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from django.conf import settings


@functools.cache
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def _current() -> PasswordHasher:
    return _hasher(settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST_KIB)


def hash_password(password: str) -> str:
    return _current().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _current().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verified against when the account or user does not exist, so a miss costs the same time as a hit.
def dummy_verify(password: str) -> None:
    verify_password(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
