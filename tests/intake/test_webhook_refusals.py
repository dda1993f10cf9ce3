"""`hotline_webhook_deliveries_refused_total`: webhooks answered with a problem, by reason."""

from prometheus_client import REGISTRY

from tests.intake.conftest import IntakeClient, call_body, ticket_body


def refused(endpoint: str, reason: str) -> float:
    labels = {"service": "intake", "endpoint": endpoint, "reason": reason}
    return REGISTRY.get_sample_value("hotline_webhook_deliveries_refused_total", labels) or 0.0


async def test_each_refused_webhook_is_counted_by_endpoint_and_reason(
    intake: IntakeClient,
) -> None:
    before = {
        ("tickets", "bad-signature"): refused("tickets", "bad-signature"),
        ("calls", "validation-error"): refused("calls", "validation-error"),
    }

    unsigned = await intake.post(
        "/v1/tickets", ticket_body(), headers={"webhook-signature": "garbage"}
    )
    invalid = await intake.post("/v1/calls", call_body(talk_seconds=-1))

    assert (unsigned.status_code, invalid.status_code) == (401, 422)
    assert refused("tickets", "bad-signature") == before["tickets", "bad-signature"] + 1
    assert refused("calls", "validation-error") == before["calls", "validation-error"] + 1


async def test_a_webhook_taken_is_not_counted_as_refused(intake: IntakeClient) -> None:
    before = sum(_all_refusals())

    taken = await intake.post("/v1/calls", call_body())

    assert taken.status_code == 201
    assert sum(_all_refusals()) == before


async def test_a_problem_outside_the_webhooks_is_not_counted_as_a_refused_webhook(
    intake: IntakeClient,
) -> None:
    before = sum(_all_refusals())

    anonymous = await intake.read("no-such-ticket", token=None)

    assert anonymous.status_code == 401
    assert sum(_all_refusals()) == before


def _all_refusals() -> list[float]:
    return [
        sample.value
        for family in REGISTRY.collect()
        if family.name == "hotline_webhook_deliveries_refused"
        for sample in family.samples
        if sample.name.endswith("_total")
    ]
