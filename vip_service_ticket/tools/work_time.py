"""Working-time arithmetic on a list of work intervals, without Odoo.

The SLA engine fetches the work intervals of a calendar once for a whole
period (``resource.calendar._work_intervals_batch``) and hands them to a
:class:`WorkTimeline`; every deadline, warning date and paused duration of
the tickets on that calendar is then answered in Python with a binary search
over cumulative worked seconds, instead of calling ``plan_hours`` (two queries
and a fresh interval computation) per ticket.

All datetimes given to one timeline must be of the same kind (naive UTC in
Odoo's case); intervals are ``(start, stop)`` pairs, sorted or not, possibly
overlapping or touching (they are merged).
"""

from bisect import bisect_left, bisect_right
from datetime import timedelta


def merge_intervals(intervals):
    """Sorted, disjoint ``(start, stop)`` pairs covering the same time as ``intervals``."""
    merged = []
    for start, stop in sorted((start, stop) for start, stop, *_rest in intervals):
        if stop <= start:
            continue
        if merged and start <= merged[-1][1]:
            if stop > merged[-1][1]:
                merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged


class WorkTimeline:
    """Work intervals of one calendar over a period, with their running total.

    ``position(dt)`` is the number of worked seconds between the start of the
    period and ``dt``; ``at(position)`` is its inverse. Everything else is
    arithmetic on positions.
    """

    def __init__(self, intervals, period_start=None, period_stop=None):
        self.intervals = merge_intervals(intervals)
        self.starts = [start for start, _stop in self.intervals]
        self.cumulative = []  # worked seconds before each interval
        total = 0.0
        for start, stop in self.intervals:
            self.cumulative.append(total)
            total += (stop - start).total_seconds()
        self.total = total
        self.period_start = period_start
        self.period_stop = period_stop

    def __bool__(self):
        return bool(self.intervals)

    def covers(self, dt):
        """Whether ``dt`` lies inside the period the intervals were computed for."""
        return (self.period_start is None or dt >= self.period_start) and (
            self.period_stop is None or dt <= self.period_stop
        )

    def position(self, dt):
        """Worked seconds from the beginning of the timeline up to ``dt``."""
        index = bisect_right(self.starts, dt) - 1
        if index < 0:
            return 0.0
        start, stop = self.intervals[index]
        return self.cumulative[index] + (min(dt, stop) - start).total_seconds()

    def at(self, position):
        """The earliest datetime at which ``position`` worked seconds are reached.

        ``None`` when the timeline ends before that (the caller widens the period).
        A position reached exactly at the end of an interval answers that end, like
        ``resource.calendar.plan_hours``.
        """
        if not self.intervals or position > self.total:
            return None
        if position <= 0:
            return self.intervals[0][0]
        index = bisect_left(self.cumulative, position) - 1
        start, _stop = self.intervals[index]
        # rounded to the millisecond: float sums of seconds drift by microseconds
        return start + timedelta(seconds=round(position - self.cumulative[index], 3))

    def plan(self, dt, hours):
        """``dt`` plus ``hours`` working hours (``None`` beyond the timeline)."""
        return self.at(self.position(dt) + hours * 3600.0)

    def duration(self, start, stop):
        """Working hours between ``start`` and ``stop`` (0 when ``stop`` is earlier)."""
        if stop <= start:
            return 0.0
        return (self.position(stop) - self.position(start)) / 3600.0


class ContinuousTimeline:
    """The timeline of a ticket without calendar: every hour counts (24/7)."""

    def __bool__(self):
        return True

    def covers(self, dt):
        return True

    def plan(self, dt, hours):
        return dt + timedelta(hours=hours)

    def duration(self, start, stop):
        return max((stop - start).total_seconds() / 3600.0, 0.0)
