"""A field the call-centre software adds is ignored, counted and reported, never a refusal;
an unknown value of a field we know is still refused, naming the field."""

from prometheus_client import REGISTRY
from sqlalchemy import select

from hotline.intake.models import CallRecord, Ticket
from tests.intake.conftest import IntakeClient, call_body, ticket_body


def ignored_count(field: str) -> float:
    labels = {"service": "intake", "field": field}
    return REGISTRY.get_sample_value("hotline_webhook_ignored_fields_total", labels) or 0.0


async def test_a_ticket_with_new_fields_is_accepted_and_the_fields_are_reported(
    intake: IntakeClient,
) -> None:
    body = ticket_body(priority="high", extra_forbidden=True)
    body["caller"]["wechat_openid"] = "oX1a2b3c"
    before = ignored_count("caller.wechat_openid")

    response = await intake.post("/v1/tickets", body)

    assert response.status_code == 201, response.text
    reported = response.headers["Hotline-Ignored-Fields"].split(", ")
    assert sorted(reported) == ["caller.wechat_openid", "extra_forbidden", "priority"]
    assert ignored_count("caller.wechat_openid") == before + 1
    stored = await intake.scalar(
        select(Ticket.ticket_no).where(Ticket.source_ticket_id == body["source_ticket_id"])
    )
    assert stored == response.json()["ticket_no"]


async def test_a_call_record_with_a_new_field_is_recorded_and_reported(
    intake: IntakeClient,
) -> None:
    body = call_body(ivr_path="1-3-2")

    response = await intake.post("/v1/calls", body)

    assert response.status_code == 201, response.text
    assert response.headers["Hotline-Ignored-Fields"] == "ivr_path"
    assert await intake.scalar(
        select(CallRecord.call_id).where(CallRecord.call_id == body["call_id"])
    )


async def test_a_body_with_no_new_field_has_no_ignored_fields_header(intake: IntakeClient) -> None:
    response = await intake.post("/v1/calls", call_body())

    assert response.status_code == 201, response.text
    assert "Hotline-Ignored-Fields" not in response.headers


async def test_unknown_values_of_known_enums_are_still_refused_naming_the_field(
    intake: IntakeClient,
) -> None:
    response = await intake.post(
        "/v1/tickets", ticket_body(request_type="吐槽", channel="fax", priority="high")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"request_type", "channel"}


async def test_past_the_bounded_names_new_field_names_are_counted_as_other(
    intake: IntakeClient,
) -> None:
    before = ignored_count("other")
    body = call_body(**{f"vendor_field_{n}": n for n in range(60)})
    body["a_name_far_too_long_to_be_a_label_" + "x" * 40] = 1

    response = await intake.post("/v1/calls", body)

    assert response.status_code == 201, response.text
    assert ignored_count("other") >= before + 11
    assert response.headers["Hotline-Ignored-Fields"].endswith("(+41 more)")
