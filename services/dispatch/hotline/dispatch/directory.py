"""The public unit directory: what a vendor's desk client offers in its pick lists (names,
categories, areas). Nothing in it reaches a person or a system: no contact, no credentials."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch.models import Unit
from hotline.dispatch.schemas import AreaPublic, UnitInDirectory
from hotline.shared.domain.quality import CITY_DISTRICTS

AREA_NAMES = {"4305": "邵阳市", **CITY_DISTRICTS}
LISTED = select(Unit).where(Unit.active.is_(True), Unit.kind != "hotline").order_by(Unit.unit_id)


async def unit_directory(session: AsyncSession) -> list[UnitInDirectory]:
    """The units that take tickets now (the hotline itself is not one to send a ticket to)."""
    return [
        UnitInDirectory.model_validate(
            {
                "unit_id": unit.unit_id,
                "name": unit.name,
                "kind": unit.kind,
                "categories": list(unit.categories),
                "areas": [
                    AreaPublic(code=code, name=area_name(code)) for code in unit.location_prefixes
                ],
            }
        )
        for unit in await session.scalars(LISTED)
    ]


def area_name(code: str) -> str | None:
    """The division a prefix names: the city, a district, or a place within a district."""
    if code in AREA_NAMES:
        return AREA_NAMES[code]
    district = AREA_NAMES.get(code[:6]) if len(code) > 6 else None
    return f"{district}（{code}）" if district else None
