"""Owner-scoped queries, pagination, the audit log and master-key rotation.

Every lookup of a user's row goes through ``owned``: a row of another user is indistinguishable from a
missing one, so nothing leaks whether another user's id exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from wisetrader.controlplane.crypto import KeyRing, Sealed
from wisetrader.controlplane.models import AuditEntry, Base, ExchangeAccount

M = TypeVar("M", bound=Base)


async def owned(session: AsyncSession, model: type[M], row_id: int, owner_id: int) -> M | None:
    row = await session.get(model, row_id)
    if row is None or getattr(row, "owner_id", None) != owner_id:
        return None
    return row


@dataclass(frozen=True)
class PageResult:
    items: list[Any]
    total: int


async def page(session: AsyncSession, stmt: Select[Any], limit: int, offset: int) -> PageResult:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.scalars(stmt.limit(limit).offset(offset))).all()
    return PageResult(list(rows), int(total or 0))


def audit(
    session: AsyncSession, user_id: int | None, action: str, target: str, ip: str, detail: str = ""
) -> None:
    """Add an audit entry to the session; it commits with the change it records."""
    session.add(AuditEntry(user_id=user_id, action=action, target=target, ip=ip, detail=detail))


def account_context(account: ExchangeAccount) -> bytes:
    """Associated data binding a sealed secret to its owner and venue (a blob moved elsewhere fails)."""
    return f"acct:{account.owner_id}:{account.venue}".encode()


def sealed_of(account: ExchangeAccount) -> Sealed:
    return Sealed(account.master_key_id, account.wrapped_dek, account.secret_blob)


async def rotate_master_key(session: AsyncSession, keyring: KeyRing) -> int:
    """Re-seal every data key not under the current master key; returns how many were rewrapped."""
    stale = (
        await session.scalars(select(ExchangeAccount).where(ExchangeAccount.master_key_id != keyring.current))
    ).all()
    for account in stale:
        sealed = keyring.rewrap(sealed_of(account))
        account.master_key_id, account.wrapped_dek = sealed.master_key_id, sealed.wrapped_dek
    return len(stale)
