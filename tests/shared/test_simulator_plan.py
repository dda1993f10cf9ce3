"""The simulator's model of the seed's shape: what a period at a scale should hold, before
anything is sent."""

from datetime import date

from hotline.shared.simulator import seed_shape as shape
from hotline.shared.simulator.plan import apportion, build_plan

SEED_PERIOD = (shape.SEED_START, shape.SEED_END)


def test_the_whole_period_at_full_scale_is_the_seed_bulletin() -> None:
    plan = build_plan(*SEED_PERIOD, scale=1, seed=7)
    expected = plan.expected

    assert expected.tickets == shape.TICKETS
    assert expected.answered_directly == shape.ANSWERED_DIRECTLY
    assert {unit: f.assigned for unit, f in expected.units.items()} == {
        row.unit: row.assigned for row in shape.ATTACHMENT_1
    }
    assert expected.inbound_by_line == shape.INBOUND_BY_LINE
    assert expected.outbound == shape.OUTBOUND_CALLS
    # Rare events are drawn around the seed's figures: on average as many.
    assert abs(expected.overdue - 18) <= 8
    assert abs(sum(f.unsatisfied for f in expected.units.values()) - 66) <= 16


def test_the_categories_the_seed_names_lead_in_its_order() -> None:
    plan = build_plan(*SEED_PERIOD, scale=1, seed=7)

    leading = [name for name, _ in plan.expected.categories.most_common(4)]

    assert leading == ["社会服务类", "人力资源与社会保障类", "突发事件类", "金融商贸财经类"]
    for name, tickets in shape.SEED_CATEGORIES.items():
        assert abs(plan.expected.categories[name] - tickets) < tickets * 0.02, name


def test_a_tenth_keeps_attachment_1s_proportions_unit_by_unit() -> None:
    plan = build_plan(*SEED_PERIOD, scale=0.1, seed=7)

    assert plan.expected.tickets == round(shape.TICKETS * 0.1)
    for row in shape.ATTACHMENT_1:
        assert abs(plan.expected.units[row.unit].assigned - row.assigned * 0.1) < 1, row.unit
    for line, calls in shape.INBOUND_BY_LINE.items():
        assert abs(plan.expected.inbound_by_line[line] - calls * 0.1) <= 1, line


def test_three_days_are_three_fifty_ninths_of_the_traffic() -> None:
    plan = build_plan(date(2022, 1, 10), date(2022, 1, 12), scale=0.2, seed=3)

    assert plan.expected.tickets == round(shape.TICKETS * 0.2 * 3 / 59)
    assert {t.accepted_at.date() for t in plan.tickets} <= {
        date(2022, 1, 10),
        date(2022, 1, 11),
        date(2022, 1, 12),
    }
    assert all(
        call.started_at.date() >= date(2022, 1, 10) for call in plan.calls if call.direction == "in"
    )


def test_rare_events_scale_with_the_days_too() -> None:
    # Three days at full scale hold about 3/59 of the seed's late and unhappy tickets.
    late = unhappy = 0
    for seed in range(10):
        plan = build_plan(date(2022, 1, 10), date(2022, 1, 12), scale=1, seed=seed)
        late += plan.expected.overdue
        unhappy += sum(f.unsatisfied for f in plan.expected.units.values())

    assert 3 <= late <= 20  # 18 × 3/59 × 10 ≈ 9
    assert 15 <= unhappy <= 55  # 66 × 3/59 × 10 ≈ 34


def test_the_same_seed_plays_the_same_period_and_another_seed_another() -> None:
    def fingerprint(seed: int) -> list[tuple[object, ...]]:
        plan = build_plan(date(2022, 1, 1), date(2022, 1, 3), scale=0.3, seed=seed)
        return [(t.accepted_at, t.unit, t.category, t.content, t.verdict) for t in plan.tickets]

    assert fingerprint(5) == fingerprint(5)
    assert fingerprint(5) != fingerprint(6)


def test_every_phone_ticket_has_its_call_record_and_every_caller_is_new_but_repeats() -> None:
    plan = build_plan(date(2022, 1, 1), date(2022, 1, 7), scale=0.5, seed=1)
    phone = [t for t in plan.tickets if t.channel == "phone"]

    assert all(t.call is not None and t.call.started_at < t.accepted_at for t in phone)
    numbers = [t.caller_number for t in plan.tickets if t.handling != "repeat"]
    assert len(numbers) == len(set(numbers))
    for repeat in (t for t in plan.tickets if t.handling == "repeat"):
        assert repeat.repeat_of is not None
        assert plan.tickets[repeat.repeat_of].caller_number == repeat.caller_number


def test_the_gas_outage_comes_unannounced_on_new_years_eve_and_with_a_notice_later() -> None:
    plan = build_plan(date(2022, 1, 30), date(2022, 2, 11), scale=1, seed=2)
    eve = [
        t for t in plan.tickets if t.content.endswith("请尽快恢复供气") and t.accepted_at.day == 31
    ]
    announced = [t for t in plan.tickets if t.handling == "notice"]

    assert 80 <= len(eve) <= 120
    assert {t.unit for t in eve} == {shape.HOTLINE, shape.GAS_COMPANY}
    assert {t.accepted_at.date() for t in announced} == {date(2022, 2, 10), date(2022, 2, 11)}
    assert [n.starts_at.date() for n in plan.notices] == [date(2022, 2, 10), date(2022, 2, 11)]
    # Taken from the hotline's and the gas company's own tickets: Attachment 1 keeps its shape.
    assert plan.expected.tickets == round(shape.TICKETS * 13 / 59)


def test_apportioning_adds_up_and_rounds_each_share_by_less_than_one() -> None:
    weights = {row.unit: row.assigned for row in shape.ATTACHMENT_1}
    for total in (0, 1, 7, 250, 3252):
        shares = apportion(total, weights)
        assert sum(shares.values()) == total
        whole = sum(weights.values())
        assert all(abs(shares[u] - total * w / whole) < 1 for u, w in weights.items())
