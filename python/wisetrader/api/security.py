"""Passwords (argon2), JWT access/refresh tokens, personal API tokens (stored as SHA-256), TOTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
API_TOKEN_PREFIX = "wt_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> tuple[str, str]:
    """A fresh personal token and the hash that is stored."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    # The token has 256 bits of entropy, so a plain SHA-256 is a safe lookup key (no KDF needed).
    return hashlib.sha256(token.encode()).hexdigest()


def totp_ok(secret: str, code: str) -> bool:
    return pyotp.TOTP(secret).verify(code, valid_window=1)


class TokenError(Exception):
    pass


@dataclass(frozen=True)
class Tokens:
    secret: str
    access_seconds: int
    refresh_seconds: int
    algorithm: str = "HS256"

    def _encode(self, claims: dict[str, Any], seconds: int) -> str:
        now = dt.datetime.now(dt.UTC)
        return jwt.encode(
            {**claims, "iat": now, "exp": now + dt.timedelta(seconds=seconds)}, self.secret, self.algorithm
        )

    def access(self, user_id: int, role: str) -> str:
        return self._encode({"sub": str(user_id), "role": role, "typ": "access"}, self.access_seconds)

    def refresh(self, user_id: int, jti: str, family: str) -> tuple[str, dt.datetime]:
        exp = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.refresh_seconds)
        token = self._encode(
            {"sub": str(user_id), "jti": jti, "fam": family, "typ": "refresh"}, self.refresh_seconds
        )
        return token, exp

    def decode(self, token: str, typ: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(token, self.secret, algorithms=[self.algorithm])
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if claims.get("typ") != typ:
            raise TokenError(f"not an {typ} token")
        return claims
