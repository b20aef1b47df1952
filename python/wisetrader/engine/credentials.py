"""Exchange API keys of the run's accounts: from the environment or a secrets file, never from the config.

For account ``NAME`` (upper-cased, every other character than A-Z and 0-9 turned into ``_``):
``WISETRADER_ACCOUNT_<NAME>_API_KEY``, ``..._API_SECRET`` and, for OKX, ``..._PASSPHRASE``; or a YAML
secrets file ``{accounts: {NAME: {api_key, secret, passphrase}}}`` that only its owner may read. The
environment wins over the file. Values are ``SecretStr`` from the moment they are read, so no repr,
log line, error or summary can show them; errors name the variable or the file and key, never a value.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

# Keys that hold secrets: refused in the run config (they belong in the environment or a secrets file).
SECRET_KEYS = frozenset({"api_key", "apikey", "secret", "api_secret", "secret_key", "passphrase", "password"})


class CredentialsError(ValueError):
    """Keys that cannot be read; the message names where they were looked for, never a value."""


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    api_key: SecretStr
    secret: SecretStr
    passphrase: SecretStr = SecretStr("")  # OKX only


def env_prefix(account: str) -> str:
    return f"WISETRADER_ACCOUNT_{re.sub(r'[^A-Z0-9]', '_', account.upper())}_"


def from_env(account: str, environ: Mapping[str, str]) -> Credentials | None:
    """The account's keys from the environment (None: no key variable set)."""
    prefix = env_prefix(account)
    key, secret = environ.get(prefix + "API_KEY"), environ.get(prefix + "API_SECRET")
    if not key and not secret:
        return None
    if not key or not secret:
        missing = prefix + ("API_SECRET" if key else "API_KEY")
        raise CredentialsError(f"account {account}: {missing} is not set (both the key and the secret are)")
    return Credentials(
        api_key=SecretStr(key),
        secret=SecretStr(secret),
        passphrase=SecretStr(environ.get(prefix + "PASSPHRASE", "")),
    )


def read_secrets_file(path: Path) -> dict[str, Credentials]:
    """``{accounts: {NAME: {api_key, secret, passphrase}}}``; refused if group or others may read it."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise CredentialsError(f"secrets file {path}: cannot read: {e.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"secrets file {path}: group or others have access (mode {stat.S_IMODE(mode):04o}); "
            f"only its owner may read it: chmod 600 {path}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        # YAML errors quote the offending line, which may hold a key: say where only.
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise CredentialsError(f"secrets file {path}: not valid YAML{where}") from None
    accounts = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(accounts, dict) or set(data) != {"accounts"}:
        raise CredentialsError(f"secrets file {path}: expected {{accounts: {{NAME: {{api_key, secret}}}}}}")
    out = {}
    for name, entry in accounts.items():
        try:
            out[str(name)] = Credentials.model_validate(entry)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'entry'}: {err['msg']}" for err in e.errors()
            )
            raise CredentialsError(f"secrets file {path}: accounts.{name}: {problems}") from None
    return out


def load_credentials(
    accounts: Iterable[str], secrets_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Credentials]:
    """Keys of ``accounts`` found in the environment or the secrets file (absent accounts are left out)."""
    environ = os.environ if environ is None else environ
    file_keys = read_secrets_file(secrets_file) if secrets_file is not None else {}
    out = {}
    for name in accounts:
        found = from_env(name, environ) or file_keys.get(name)
        if found is not None:
            out[name] = found
    return out
