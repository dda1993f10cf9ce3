"""Surveys are made inside calling hours, on calling days: never at night, never on a holiday."""

from datetime import datetime, time

from hotline.callback.calling_hours import CallingHours
from hotline.shared.domain.working_days import LOCAL_TIME, WorkingCalendar

HOURS = CallingHours(WorkingCalendar(), time(8), time(20), weekends=True, public_holidays=False)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TIME)


def test_a_survey_due_in_calling_hours_is_made_then() -> None:
    assert HOURS.next_slot(at(2022, 3, 10, 14, 5)) == at(2022, 3, 10, 14, 5)


def test_a_survey_due_at_night_waits_for_the_morning() -> None:
    assert HOURS.next_slot(at(2022, 3, 10, 21, 30)) == at(2022, 3, 11, 8, 0)
    assert HOURS.next_slot(at(2022, 3, 11, 6, 45)) == at(2022, 3, 11, 8, 0)


def test_a_survey_due_on_the_eve_of_the_spring_festival_skips_the_public_holidays() -> None:
    # 30 Jan 2022 was a make-up working Sunday; 31 Jan - 4 Feb public holidays, 5-6 Feb the
    # weekend that closed the festival week.
    weekdays_only = CallingHours(
        WorkingCalendar(), time(8), time(20), weekends=False, public_holidays=False
    )

    assert HOURS.next_slot(at(2022, 1, 30, 20, 15)) == at(2022, 2, 5, 8, 0)
    assert weekdays_only.next_slot(at(2022, 1, 30, 20, 15)) == at(2022, 2, 7, 8, 0)


def test_weekends_can_be_left_out() -> None:
    weekdays = CallingHours(
        WorkingCalendar(), time(8), time(20), weekends=False, public_holidays=False
    )

    # Friday evening -> Monday morning; a make-up working Saturday counts as a weekday.
    assert weekdays.next_slot(at(2022, 3, 11, 20, 0)) == at(2022, 3, 14, 8, 0)
    assert weekdays.next_slot(at(2022, 1, 28, 20, 0)) == at(2022, 1, 29, 8, 0)


def test_calling_hours_are_open_only_inside_them() -> None:
    assert HOURS.is_open(at(2022, 3, 10, 8, 0))
    assert not HOURS.is_open(at(2022, 3, 10, 20, 0))
    assert not HOURS.is_open(at(2022, 2, 1, 10, 0))


def test_calling_time_between_two_moments_leaves_the_night_out() -> None:
    evening, next_morning = at(2022, 3, 10, 19, 55), at(2022, 3, 11, 8, 10)

    assert HOURS.open_between(evening, next_morning).total_seconds() == 15 * 60


def test_calling_time_leaves_public_holidays_out() -> None:
    # 2022-01-31 (除夕) to 2022-02-04 are the Spring Festival's public holidays.
    before, after = at(2022, 1, 31, 7, 0), at(2022, 2, 4, 21, 0)

    assert HOURS.open_between(before, after).total_seconds() == 0
