from datetime import UTC, date, datetime, timedelta

import pytest

from exchange_server.marketdata.calendar import (
    CONTINUOUS_CALENDAR,
    NSE_CALENDAR,
    calendar_for,
)


def ist(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) + timedelta(hours=-5, minutes=-30)


@pytest.mark.parametrize(
    ("moment", "phase"),
    [
        (ist(2026, 4, 27, 9, 5), "pre_open"),
        (ist(2026, 4, 27, 9, 15), "open"),
        (ist(2026, 4, 27, 15, 29), "open"),
        (ist(2026, 4, 27, 15, 30), "closed"),
        (ist(2026, 4, 25, 11, 0), "closed"),  # Saturday
        (ist(2026, 5, 1, 11, 0), "closed"),  # Maharashtra Day
    ],
)
def test_nse_phases_follow_ist_hours_weekends_and_holidays(moment: datetime, phase: str) -> None:
    assert NSE_CALENDAR.phase(moment) == phase


def test_the_next_nse_session_after_friday_close_is_monday() -> None:
    opens, closes = NSE_CALENDAR.next_session(ist(2026, 4, 24, 16, 0))
    assert opens == ist(2026, 4, 27, 9, 15)
    assert closes == ist(2026, 4, 27, 15, 30)


def test_session_fraction_runs_from_open_to_close() -> None:
    assert NSE_CALENDAR.session_fraction(ist(2026, 4, 27, 9, 15)) == 0.0
    assert NSE_CALENDAR.session_fraction(ist(2026, 4, 27, 12, 22)) == pytest.approx(0.5, abs=0.01)
    assert NSE_CALENDAR.session_fraction(ist(2026, 4, 27, 18, 0)) == 0.0


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 4, 25, 0, 0, tzinfo=UTC),  # Saturday midnight
        datetime(2026, 12, 25, 23, 59, tzinfo=UTC),
        datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    ],
)
def test_the_continuous_market_is_always_open(moment: datetime) -> None:
    assert CONTINUOUS_CALENDAR.phase(moment) == "open"
    status = CONTINUOUS_CALENDAR.status([], moment)
    assert status.is_open and status.next_open is None
    assert status.next_close == datetime.combine(
        moment.date() + timedelta(days=1), datetime.min.time(), UTC
    )


def test_the_continuous_calendar_lists_every_day_as_a_full_session() -> None:
    days = CONTINUOUS_CALENDAR.calendar(7, date(2026, 4, 25)).days
    assert [day.holiday for day in days] == [""] * 7
    assert all(day.close - day.open == timedelta(days=1) for day in days)  # type: ignore[operator]


def test_calendars_by_session_name() -> None:
    assert calendar_for("NSE") is NSE_CALENDAR
    assert calendar_for("24x7") is CONTINUOUS_CALENDAR
    with pytest.raises(ValueError, match="unknown market session"):
        calendar_for("LSE")
