"""The end-to-end benchmark's arithmetic: latencies, the backlog, the pacing, the profiles."""

import random

from bench.end_to_end import backlog_grew, backlog_series, due_times, latencies, summarise
from bench.payloads import forwarded_ticket
from hotline.shared.domain.units import seed_units


def test_latencies_count_what_never_arrived_as_missing_not_as_fast() -> None:
    sent = {f"t{i}": 100.0 + i for i in range(100)}
    reached = {f"t{i}": 100.0 + i + (i + 1) / 100 for i in range(90)}

    figures = latencies(sent, reached)

    assert (figures.reached, figures.missing) == (90, 10)
    assert figures.p50_ms == 460.0  # the 46th of 90 delays, 10 ms apart
    assert figures.p99_ms == 900.0  # the largest


def test_a_backlog_that_keeps_up_is_flat_and_one_that_does_not_grows() -> None:
    accepted = [i / 100 for i in range(6000)]  # 100/s for 60 s
    kept_up = [at + 0.5 for at in accepted]
    fell_behind = [i / 50 for i in range(3000)]  # 50/s

    flat = backlog_series(accepted, kept_up, 0.0, 60.0, 3.0)
    growing = backlog_series(accepted, fell_behind, 0.0, 60.0, 3.0)

    assert len(flat) == 20
    assert max(backlog for _, backlog in flat) <= 51
    assert not backlog_grew(flat, 100.0)
    assert growing[-1] == (60.0, 3000)
    assert backlog_grew(growing, 50.0)


def test_requests_are_due_evenly_at_the_rate() -> None:
    due = due_times(400, 200.0, 10.0)

    assert due[0] == 10.0
    assert due[200] == 11.0
    assert len(due) == 400


def test_a_profile_names_the_functions_on_top_and_ours_anywhere() -> None:
    collapsed = "\n".join(
        [
            "run (asyncio/base_events.py:600);apply (hotline/scoring/readmodel.py:40);"
            "execute (asyncpg/connection.py:10) 30",
            "run (asyncio/base_events.py:600);select (selectors.py:469) 70",
        ]
    )

    summary = summarise(collapsed)

    assert summary["samples"] == 100
    assert summary["self"][0] == ("select (selectors.py)", 0.7)
    assert summary["ours_inclusive"] == [("apply (scoring/readmodel.py)", 0.3)]


def test_forwarded_tickets_name_seed_units_that_handle_their_category() -> None:
    units = {unit.name: unit for unit in seed_units()}
    rng = random.Random(1)

    for _ in range(200):
        ticket = forwarded_ticket(rng)
        unit = units[str(ticket["suggested_unit"])]
        assert ticket["handling_mode"] == "forward"
        assert "resolution" not in ticket
        assert "*" in unit.categories or ticket["category"] in unit.categories
