"""Passwords, hashed with Argon2id (argon2-cffi's defaults, the RFC 9106 recommendation
for memory-constrained servers). A hash is checked in constant time; an unknown account
costs a check too, so timing does not tell which e-mails exist."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.accounts import PASSWORD_BOUNDS, PASSWORD_MAX, PASSWORD_MIN, password_problem

_HASHER = PasswordHasher()
# The bounds are the domain's (every door refuses the same password the same way).
MIN_LENGTH = PASSWORD_MIN
MAX_LENGTH = PASSWORD_MAX
# What a refusal of a weak password is about (infra/i18n/refusals.py says it in words).
BOUNDS = PASSWORD_BOUNDS


@functools.cache
def _decoy() -> str:
    """A hash of nothing anyone knows, checked when the account does not exist. Made on
    first use, not at import: hashing costs a third of a second of CPU on purpose, which
    every `wwc` command paid at start-up."""
    return _HASHER.hash("decoy password that is never set for any account")


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None (`domain.accounts.password_problem`)."""
    problem = password_problem(password)
    return problem.message if problem is not None else None


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
