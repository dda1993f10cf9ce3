"""Working days in mainland China: weekends and public holidays off, make-up days (调休) on.

The `holidays` library knows each year's holidays and make-up working days once the State
Council has announced them; configuration adds what it does not know yet.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

LOCAL_TIME = ZoneInfo("Asia/Shanghai")


class WorkingCalendar:
    def __init__(
        self, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = ()
    ) -> None:
        self._china = holidays.country_holidays("CN")
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_working_days = frozenset(extra_working_days)

    def is_public_holiday(self, day: date) -> bool:
        """A statutory holiday (weekends are not holidays; make-up working days are not)."""
        if day in self._extra_working_days:
            return False
        return day in self._extra_holidays or day in self._china

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_working_days:
            return True
        if day in self._extra_holidays:
            return False
        return bool(self._china.is_working_day(day))

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself never counts)."""
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def deadline(self, dispatched_at: datetime, days: int) -> datetime:
        """The end (local midnight) of the `days`-th working day after the day of dispatch."""
        last_day = self.add_working_days(dispatched_at.astimezone(LOCAL_TIME).date(), days)
        return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=LOCAL_TIME)
