"""Passwords, hashed with Argon2id (argon2-cffi's defaults, the RFC 9106 recommendation
for memory-constrained servers). A hash is checked in constant time; an unknown account
costs a check too, so timing does not tell which e-mails exist."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 1024
# What a refusal of a weak password is about (infra/i18n/refusals.py says it in words).
BOUNDS = {"minimum": MIN_LENGTH, "maximum": MAX_LENGTH}


@functools.cache
def _decoy() -> str:
    """A hash of nothing anyone knows, checked when the account does not exist. Made on
    first use, not at import: hashing costs a third of a second of CPU on purpose, which
    every `wwc` command paid at start-up."""
    return _HASHER.hash("decoy password that is never set for any account")


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return "a password may have at most 1,024 characters"
    return None


async def hash_password(password: str) -> str:
    # Argon2 takes tens of milliseconds of CPU on purpose: off the event loop.
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _HASHER.verify(stored_hash or _decoy(), password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
