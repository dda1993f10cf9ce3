"""The category catalogue a desk client offers: public, and exactly what the webhook accepts."""

from hotline.intake.config import DEFAULT_CATEGORIES
from tests.intake.conftest import IntakeClient, ticket_body


async def test_the_categories_are_public_in_the_catalogues_order_with_their_words(
    intake: IntakeClient,
) -> None:
    answer = await intake.http.get("/v1/categories")

    assert answer.status_code == 200, answer.text
    categories = answer.json()
    assert [category["code"] for category in categories] == list(DEFAULT_CATEGORIES)
    building = next(c for c in categories if c["code"] == "城乡建设类")
    assert building["name"] == "城乡建设类"
    assert {"物业", "电梯", "违章建筑"} <= set(building["keywords"])
    other = next(c for c in categories if c["code"] == "其他类")
    assert other["keywords"] == []  # no word speaks for "other"


async def test_every_code_listed_is_a_category_the_ticket_webhook_accepts(
    intake: IntakeClient,
) -> None:
    codes = [category["code"] for category in (await intake.http.get("/v1/categories")).json()]

    answers = [
        await intake.post("/v1/tickets", ticket_body(category=code, suggested_unit=None))
        for code in codes
    ]
    unlisted = await intake.post("/v1/tickets", ticket_body(category="城建类"))

    assert [answer.status_code for answer in answers] == [201] * len(codes)
    assert unlisted.status_code == 422
    assert unlisted.json()["errors"][0]["field"] == "category"
