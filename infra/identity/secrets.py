"""Random secrets and their digests. Session ids, CSRF tokens and API tokens are 256-bit
random values, so a SHA-256 digest is all their storage needs (a slow hash is for
passwords, which people choose)."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def same(secret: str, expected_digest: bytes) -> bool:
    return hmac.compare_digest(digest(secret), expected_digest)
