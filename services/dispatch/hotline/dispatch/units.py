"""The unit registry: seeded from the bulletin's Attachment 1, kept by supervisors."""

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch import credentials
from hotline.dispatch.models import DispatchTicket, Unit, UnitCredential
from hotline.dispatch.schemas import CredentialIssued, UnitCreate, UnitPublic, UnitUpdate
from hotline.shared.domain.units import seed_units
from hotline.shared.web.problems import Problem


def seed_rows() -> list[dict[str, object]]:
    """The 56 units of the seed's Attachment 1, with the remit we gave each."""
    return [
        {
            "unit_id": unit.unit_id,
            "name": unit.name,
            "kind": unit.kind,
            "categories": list(unit.categories),
            "location_prefixes": list(unit.location_prefixes),
            "priority": unit.priority,
            "active": True,
        }
        for unit in seed_units()
    ]


async def list_units(session: AsyncSession) -> list[UnitPublic]:
    rows = await session.scalars(select(Unit).order_by(Unit.unit_id))
    return [UnitPublic.model_validate(row) for row in rows]


async def create_unit(session: AsyncSession, body: UnitCreate) -> UnitPublic:
    unit = Unit(**body.model_dump(), active=True)
    session.add(unit)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Problem(
            409, "unit-exists", "A unit with this id or name exists.", field="unit_id"
        ) from error
    return UnitPublic.model_validate(unit)


async def update_unit(session: AsyncSession, unit_id: str, body: UnitUpdate) -> UnitPublic:
    unit = await session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise Problem(404, "unit-not-found", f"No unit {unit_id}.", field="unit_id")
    if body.active is False and unit.active:
        holding = await session.scalar(
            select(func.count()).where(
                DispatchTicket.unit_id == unit_id,
                DispatchTicket.state.not_in(["closed", "manual", "merged"]),
            )
        )
        if holding:
            raise Problem(
                409,
                "unit-holds-tickets",
                f"{unit.name} still holds {holding} open tickets: reassign them first.",
                field="active",
                extra={"open_tickets": holding},
            )
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is None and name != "contact":
            raise Problem(422, "validation-error", f"{name} cannot be null.", field=name)
        setattr(unit, name, value)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Problem(409, "unit-exists", "Another unit has this name.", field="name") from error
    return UnitPublic.model_validate(unit)


async def issue_credential(session: AsyncSession, unit_id: str) -> CredentialIssued:
    """A new API key for the unit; older keys keep working until revoked (rotation)."""
    if await session.get(Unit, unit_id) is None:
        raise Problem(404, "unit-not-found", f"No unit {unit_id}.", field="unit_id")
    key = credentials.new_key()
    session.add(UnitCredential(key_id=key.key_id, unit_id=unit_id, secret_hash=key.secret_hash))
    return CredentialIssued(key_id=key.key_id, unit_id=unit_id, api_key=key.api_key)


async def revoke_credential(session: AsyncSession, unit_id: str, key_id: str) -> None:
    revoked = await session.execute(
        update(UnitCredential)
        .where(
            UnitCredential.unit_id == unit_id,
            UnitCredential.key_id == key_id,
            UnitCredential.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))  # credentials are transport: the wall clock
        .returning(UnitCredential.key_id)
    )
    if revoked.first() is None:
        raise Problem(
            404, "credential-not-found", f"No active key {key_id} for {unit_id}.", field="key_id"
        )


async def unit_for_key(session: AsyncSession, api_key: str) -> Unit | None:
    """The active unit this API key belongs to, if the key is well-formed, known and not revoked."""
    parts = credentials.split_key(api_key)
    if parts is None:
        return None
    key_id, secret = parts
    row = (
        await session.execute(
            select(UnitCredential.secret_hash, Unit)
            .join(Unit, Unit.unit_id == UnitCredential.unit_id)
            .where(UnitCredential.key_id == key_id, UnitCredential.revoked_at.is_(None))
        )
    ).first()
    if row is None or not credentials.secret_matches(secret, row.secret_hash):
        return None
    unit: Unit = row.Unit
    return unit
