"""vip_service_ticket/tools/work_time.py: SLA working-time arithmetic, without Odoo."""

from datetime import datetime, timedelta

import pytest
from conftest import load_pure_module

work_time = load_pure_module("vip_service_ticket/tools/work_time.py")


def office_week(monday, days=5, start=8, stop=17, weeks=2):
    """Intervals of an 8-17 calendar with a 12-13 lunch break, Monday to Friday."""
    intervals = []
    for week in range(weeks):
        for day in range(days):
            date = monday + timedelta(days=7 * week + day)
            intervals.append((date.replace(hour=start), date.replace(hour=12), None))
            intervals.append((date.replace(hour=13), date.replace(hour=stop), None))
    return intervals


MONDAY = datetime(2024, 6, 3)


@pytest.fixture(name="timeline")
def timeline_fixture():
    return work_time.WorkTimeline(office_week(MONDAY))


def test_plan_within_a_day(timeline):
    assert timeline.plan(MONDAY.replace(hour=9), 2) == MONDAY.replace(hour=11)


def test_plan_skips_lunch_and_night(timeline):
    # 4h from Monday 15:00: 2h on Monday, 2h on Tuesday morning
    assert timeline.plan(MONDAY.replace(hour=15), 4) == datetime(2024, 6, 4, 10)
    # 3h from 11:00 skips the lunch break
    assert timeline.plan(MONDAY.replace(hour=11), 3) == MONDAY.replace(hour=15)


def test_plan_skips_weekend(timeline):
    friday = datetime(2024, 6, 7, 16)
    assert timeline.plan(friday, 2) == datetime(2024, 6, 10, 9)


def test_plan_from_outside_working_time(timeline):
    saturday = datetime(2024, 6, 8, 10)
    assert timeline.plan(saturday, 1) == datetime(2024, 6, 10, 9)
    night = datetime(2024, 6, 4, 22)
    assert timeline.plan(night, 8) == datetime(2024, 6, 5, 17)


def test_plan_ending_on_interval_end_stays_there(timeline):
    assert timeline.plan(MONDAY.replace(hour=8), 4) == MONDAY.replace(hour=12)
    assert timeline.plan(MONDAY.replace(hour=8), 8) == MONDAY.replace(hour=17)


def test_plan_beyond_timeline_is_none(timeline):
    assert timeline.plan(MONDAY, 81) is None
    assert timeline.plan(MONDAY, 80) == datetime(2024, 6, 14, 17)


def test_holiday_removed_from_intervals():
    intervals = [i for i in office_week(MONDAY) if i[0].date() != datetime(2024, 6, 4).date()]
    timeline = work_time.WorkTimeline(intervals)
    assert timeline.plan(MONDAY.replace(hour=16), 2) == datetime(2024, 6, 5, 9)


def test_duration(timeline):
    assert timeline.duration(MONDAY.replace(hour=16), datetime(2024, 6, 4, 9)) == 2
    assert timeline.duration(datetime(2024, 6, 7, 12), datetime(2024, 6, 10, 12)) == 8
    assert timeline.duration(datetime(2024, 6, 8), datetime(2024, 6, 9)) == 0
    assert timeline.duration(datetime(2024, 6, 5), datetime(2024, 6, 4)) == 0


def test_overlapping_intervals_are_merged():
    day = MONDAY
    timeline = work_time.WorkTimeline(
        [
            (day.replace(hour=10), day.replace(hour=14), None),
            (day.replace(hour=8), day.replace(hour=12), None),
            (day.replace(hour=14), day.replace(hour=15), None),
        ]
    )
    assert timeline.intervals == [(day.replace(hour=8), day.replace(hour=15))]
    assert timeline.total == 7 * 3600


def test_empty_timeline():
    timeline = work_time.WorkTimeline([])
    assert not timeline
    assert timeline.plan(MONDAY, 1) is None
    assert timeline.duration(MONDAY, MONDAY + timedelta(days=1)) == 0


def test_continuous_timeline():
    timeline = work_time.ContinuousTimeline()
    assert timeline.plan(MONDAY, 30) == MONDAY + timedelta(hours=30)
    assert timeline.duration(MONDAY, MONDAY + timedelta(hours=5)) == 5


def test_plan_matches_naive_walk(timeline):
    """The binary search gives what walking the intervals one by one gives."""

    def walk(dt, hours):
        remaining = hours * 3600
        for start, stop in timeline.intervals:
            if stop <= dt:
                continue
            start = max(start, dt)
            available = (stop - start).total_seconds()
            if remaining <= available:
                return start + timedelta(seconds=remaining)
            remaining -= available
        return None

    for minutes in range(0, 7 * 24 * 60, 97):
        dt = MONDAY + timedelta(minutes=minutes)
        for hours in (0.5, 1, 4, 8, 13.25, 24):
            assert timeline.plan(dt, hours) == walk(dt, hours), (dt, hours)
