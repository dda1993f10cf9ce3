"""When a citizen may be called: inside calling hours, on calling days (not public holidays)."""

from datetime import date, datetime, time, timedelta

from hotline.shared.domain.working_days import LOCAL_TIME, WorkingCalendar

MAX_DAYS_AHEAD = 60


class CallingHours:
    def __init__(
        self,
        calendar: WorkingCalendar,
        start: time,
        end: time,
        *,
        weekends: bool,
        public_holidays: bool,
    ) -> None:
        self.calendar, self.start, self.end = calendar, start, end
        self.weekends, self.public_holidays = weekends, public_holidays

    def next_slot(self, earliest: datetime) -> datetime:
        """The first moment at or after `earliest` when a call may be made."""
        local = earliest.astimezone(LOCAL_TIME)
        for offset in range(MAX_DAYS_AHEAD):
            day = local.date() + timedelta(days=offset)
            if not self._calling_day(day):
                continue
            opens = datetime.combine(day, self.start, tzinfo=LOCAL_TIME)
            closes = datetime.combine(day, self.end, tzinfo=LOCAL_TIME)
            candidate = max(local, opens) if offset == 0 else opens
            if candidate < closes:
                return candidate
        raise ValueError(f"no calling slot within {MAX_DAYS_AHEAD} days of {earliest}")

    def open_between(self, start: datetime, end: datetime) -> timedelta:
        """How much calling time lies between two moments (nights and days off left out)."""
        total = timedelta()
        first, last = start.astimezone(LOCAL_TIME), end.astimezone(LOCAL_TIME)
        day = first.date()
        while day <= last.date():
            if self._calling_day(day):
                opens = max(first, datetime.combine(day, self.start, tzinfo=LOCAL_TIME))
                closes = min(last, datetime.combine(day, self.end, tzinfo=LOCAL_TIME))
                total += max(closes - opens, timedelta())
            day += timedelta(days=1)
        return total

    def is_open(self, moment: datetime) -> bool:
        return self.next_slot(moment) == moment.astimezone(LOCAL_TIME)

    def _calling_day(self, day: date) -> bool:
        if not self.public_holidays and self.calendar.is_public_holiday(day):
            return False
        return self.weekends or day.weekday() < 5 or self.calendar.is_working_day(day)
