"""Envelope encryption of exchange API secrets with AES-256-GCM.

Each secret gets its own random data key (DEK); the secret is sealed under the DEK and the DEK is sealed
under a master key identified by an id. Rotating the master key re-seals only the DEKs. Master keys come
from ``WISETRADER_API__MASTER_KEYS`` (``id:base64key`` pairs, comma-separated, the first one current) or a
key file in the same format. Decryption under a wrong key raises ``KeyRingError``: it never yields garbage.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12


class KeyRingError(Exception):
    """A master key is missing, malformed, or does not open a sealed value."""


@dataclass(frozen=True)
class Sealed:
    master_key_id: str
    wrapped_dek: bytes
    blob: bytes


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], aad)
    except (InvalidTag, ValueError) as exc:
        raise KeyRingError(
            "sealed value does not open under this master key (wrong key or tampered)"
        ) from exc


class KeyRing:
    """Master keys by id; ``current`` seals, any known id opens."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        for kid, key in keys.items():
            if len(key) != 32:
                raise KeyRingError(f"master key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
        if current not in keys:
            raise KeyRingError(f"current master key {current!r} is not in the key ring")
        self._keys = dict(keys)
        self.current = current

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in spec.replace("\n", ",").split(",")):
            if not part or part.startswith("#"):
                continue
            kid, sep, b64 = part.partition(":")
            if not sep or not kid:
                raise KeyRingError("master keys must be written as id:base64key")
            try:
                keys[kid] = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise KeyRingError(f"master key {kid!r} is not valid base64") from exc
            order.append(kid)
        if not order:
            raise KeyRingError("no master key configured")
        return cls(keys, order[0])

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        return cls.parse(path.read_text())

    @staticmethod
    def generate_spec(key_id: str) -> str:
        return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"

    def _key(self, kid: str) -> bytes:
        try:
            return self._keys[kid]
        except KeyError:
            raise KeyRingError(f"master key {kid!r} is not in the key ring") from None

    def seal(self, secret: bytes, context: bytes) -> Sealed:
        """Seal ``secret``; ``context`` (e.g. the owner and venue) is bound as associated data."""
        dek = AESGCM.generate_key(bit_length=256)
        wrapped = _seal(self._key(self.current), dek, self.current.encode())
        return Sealed(self.current, wrapped, _seal(dek, secret, context))

    def open(self, sealed: Sealed, context: bytes) -> bytes:
        dek = _open(self._key(sealed.master_key_id), sealed.wrapped_dek, sealed.master_key_id.encode())
        return _open(dek, sealed.blob, context)

    def rewrap(self, sealed: Sealed) -> Sealed:
        """Re-seal the data key under the current master key (the secret blob is unchanged)."""
        dek = _open(self._key(sealed.master_key_id), sealed.wrapped_dek, sealed.master_key_id.encode())
        return Sealed(self.current, _seal(self._key(self.current), dek, self.current.encode()), sealed.blob)
