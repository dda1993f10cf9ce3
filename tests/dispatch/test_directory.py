"""The public unit directory, and the seeded registry's routing of a category four units share."""

import json

from tests.dispatch.conftest import Dispatch

CONTACT = "王科长 0739-5221234"


async def test_the_directory_is_public_and_lists_units_with_categories_and_named_areas(
    dispatch: Dispatch,
) -> None:
    answer = await dispatch.http.get("/v1/units/directory")

    assert answer.status_code == 200, answer.text
    units = {unit["unit_id"]: unit for unit in answer.json()}
    assert units["U009"] == {
        "unit_id": "U009",
        "name": "市住房和城乡建设局",
        "kind": "city_bureau",
        "categories": ["城乡建设类"],
        "areas": [{"code": "4305", "name": "邵阳市"}],
    }
    assert units["U001"]["areas"] == [{"code": "430503", "name": "大祥区"}]
    assert units["U001"]["categories"] == ["*"]
    # The hotline answers tickets itself; it is not a unit to send one to.
    assert "U005" not in units


async def test_the_directory_shows_no_contact_no_key_and_no_inactive_unit(
    dispatch: Dispatch,
) -> None:
    unit_id = await dispatch.new_unit()
    patched = await dispatch.http.patch(
        f"/v1/units/{unit_id}",
        headers=dispatch.as_supervisor(),
        json={"contact": CONTACT, "location_prefixes": ["430503001"]},
    )
    key = (await dispatch.key_for(unit_id))["Authorization"].removeprefix("Bearer ")
    listed = await dispatch.http.get("/v1/units/directory")
    retired = await dispatch.new_unit()
    await dispatch.http.patch(
        f"/v1/units/{retired}", headers=dispatch.as_supervisor(), json={"active": False}
    )
    after = await dispatch.http.get("/v1/units/directory")

    assert patched.status_code == 200, patched.text
    text = json.dumps(listed.json(), ensure_ascii=False)
    assert CONTACT not in text
    assert "0739" not in text
    assert key not in text
    assert key.split("_")[1] not in text
    entry = next(unit for unit in listed.json() if unit["unit_id"] == unit_id)
    assert set(entry) == {"unit_id", "name", "kind", "categories", "areas"}
    assert entry["areas"] == [{"code": "430503001", "name": "大祥区（430503001）"}]
    assert retired not in [unit["unit_id"] for unit in after.json()]


async def test_a_category_four_units_share_goes_to_its_lead_bureau_not_the_queue(
    dispatch: Dispatch,
) -> None:
    ticket_no = await dispatch.forwarded(
        suggested_unit=None,
        category="城乡建设类",
        content="小区电梯坏了一个月，物业一直不修，老人上下楼很困难",
    )

    ticket = await dispatch.ticket(ticket_no)

    assert (ticket.state, ticket.unit_id) == ("dispatched", "U009")
    assert await dispatch.events(ticket_no) == ["ticket.dispatched"]


async def test_a_supervisor_sets_a_units_priority_and_the_registry_shows_it(
    dispatch: Dispatch,
) -> None:
    unit_id = await dispatch.new_unit()

    patched = await dispatch.http.patch(
        f"/v1/units/{unit_id}", headers=dispatch.as_supervisor(), json={"priority": 5}
    )
    negative = await dispatch.http.patch(
        f"/v1/units/{unit_id}", headers=dispatch.as_supervisor(), json={"priority": -1}
    )

    assert patched.json()["priority"] == 5
    assert negative.status_code == 422
    assert negative.headers["content-type"] == "application/problem+json"
    assert negative.json()["errors"][0]["field"] == "priority"
