"""Your own audit trail: every change and manual action, with time and client address."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from wisetrader.api.deps import CurrentUser, Db, PageParams
from wisetrader.api.schemas import AuditOut, Page
from wisetrader.controlplane.models import AuditEntry
from wisetrader.controlplane.repositories import page

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditOut])
async def list_audit(user: CurrentUser, session: Db, paging: PageParams) -> Page[AuditOut]:
    """Newest first."""
    stmt = select(AuditEntry).where(AuditEntry.user_id == user.id).order_by(AuditEntry.id.desc())
    res = await page(session, stmt, paging.limit, paging.offset)
    return Page(
        items=[AuditOut.model_validate(a) for a in res.items],
        total=res.total,
        limit=paging.limit,
        offset=paging.offset,
    )
