"""Deadlines count working days: weekends and public holidays off, make-up days (调休) on."""

from datetime import date, datetime

from hotline.shared.domain.working_days import LOCAL_TIME, WorkingCalendar

CALENDAR = WorkingCalendar()


def test_the_make_up_weekend_before_the_2022_spring_festival_counts_and_the_festival_does_not() -> (
    None
):
    # Sat 29 and Sun 30 Jan 2022 were working days; 31 Jan - 6 Feb was the Spring Festival.
    assert CALENDAR.is_working_day(date(2022, 1, 29))
    assert CALENDAR.is_working_day(date(2022, 1, 30))
    assert not CALENDAR.is_working_day(date(2022, 2, 1))
    assert CALENDAR.add_working_days(date(2022, 1, 28), 3) == date(2022, 2, 7)


def test_a_deadline_ends_at_local_midnight_after_the_last_working_day() -> None:
    dispatched = datetime(2022, 1, 28, 16, 30, tzinfo=LOCAL_TIME)

    deadline = CALENDAR.deadline(dispatched, 3)

    assert deadline == datetime(2022, 2, 8, 0, 0, tzinfo=LOCAL_TIME)


def test_an_ordinary_week_skips_the_weekend() -> None:
    # Thu 10 Mar 2022 + 2 working days: Fri 11, Mon 14.
    assert CALENDAR.add_working_days(date(2022, 3, 10), 2) == date(2022, 3, 14)


def test_configured_days_override_the_library_for_years_it_does_not_know_yet() -> None:
    calendar = WorkingCalendar(
        extra_holidays={date(2030, 3, 11)}, extra_working_days={date(2030, 3, 9)}
    )

    assert calendar.is_working_day(date(2030, 3, 9))  # a Saturday made a working day
    assert not calendar.is_working_day(date(2030, 3, 11))  # a Monday made a holiday
    assert calendar.add_working_days(date(2030, 3, 8), 2) == date(2030, 3, 12)
