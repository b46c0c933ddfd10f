"""Odoo-free tests of vip_customer/tools/cron_budget.py: how much one cron call
does under the server's time limits."""

import pytest
from conftest import load_pure_module

budget = load_pure_module("vip_customer/tools/cron_budget.py")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    "config, expected",
    [
        # Odoo's defaults: the cron limit follows the request limit
        ({"limit_time_real_cron": -1, "limit_time_real": 120, "workers": 0}, 120),
        ({"limit_time_real_cron": 30, "limit_time_real": 120, "workers": 0}, 30),
        # multi-worker: 0 turns the cron watchdog off, the CPU limit still holds
        ({"limit_time_real_cron": 0, "limit_time_real": 120, "workers": 2,
          "limit_time_cpu": 60}, 60),
        ({"limit_time_real_cron": 0, "limit_time_real": 120, "workers": 2,
          "limit_time_cpu": 0}, None),
        # threaded: 0 means the thread falls back to the request limit
        ({"limit_time_real_cron": 0, "limit_time_real": 90, "workers": 0}, 90),
        # the tighter of the real and CPU limits under workers
        ({"limit_time_real_cron": 30, "limit_time_real": 60, "workers": 2,
          "limit_time_cpu": 25}, 25),
        ({"limit_time_real_cron": -1, "limit_time_real": 0, "workers": 0}, None),
    ],
)
def test_cron_time_limit(config, expected):
    assert budget.cron_time_limit(config) == expected


def test_call_seconds_share_the_pass_between_ten_calls():
    config = {"limit_time_real_cron": 30, "limit_time_real": 60, "workers": 0}
    assert budget.call_seconds(config, max_calls=10) == pytest.approx(1.5)
    assert budget.call_seconds({"limit_time_real_cron": -1, "limit_time_real": 0}) is None


def test_without_limit_one_batch_of_the_configured_size():
    work = budget.CallBudget(None, 5000, first_size=100)
    assert work.next_size() == 5000
    work.spent(5000, 5000)
    assert work.next_size() == 0


def test_sizes_follow_the_measured_rate_until_the_budget_is_spent():
    clock = Clock()
    work = budget.CallBudget(10.0, 1000, first_size=50, clock=clock)
    assert work.next_size() == 50
    clock.now += 1.0  # 50 items a second
    work.spent(50, 50)
    # 9 s left at 0.02 s an item, aiming at 70% of it: 315
    assert work.next_size() == 315
    clock.now += 6.3
    work.spent(315, 315)
    # 2.7 s left at the same rate: 94
    assert work.next_size() == 94
    clock.now += 2.7
    work.spent(94, 94)
    assert work.next_size() == 0
    assert work.done == 459


def test_size_never_above_the_configured_batch():
    clock = Clock()
    work = budget.CallBudget(100.0, 200, first_size=10, clock=clock)
    work.next_size()
    clock.now += 0.001
    work.spent(10, 10)
    assert work.next_size() == 200


def test_a_call_always_does_its_first_batch():
    clock = Clock()
    work = budget.CallBudget(0.0, 1000, first_size=20, clock=clock)
    assert work.next_size() == 20
    clock.now += 5
    work.spent(20, 20)
    assert work.next_size() == 0


def test_a_short_batch_means_nothing_is_left():
    work = budget.CallBudget(60.0, 1000, first_size=20, clock=Clock())
    work.next_size()
    work.spent(7, 20)
    assert work.next_size() == 0


def test_too_slow_for_one_more_item_stops():
    clock = Clock()
    work = budget.CallBudget(10.0, 1000, first_size=1, clock=clock)
    work.next_size()
    clock.now += 8.0
    work.spent(1, 1)
    # 2 s left, 8 s an item: not even one fits
    assert work.next_size() == 0


def test_first_size_bounded_by_max_size():
    assert budget.CallBudget(1.0, 30, first_size=100).next_size() == 30
    with pytest.raises(ValueError):
        budget.CallBudget(1.0, 0)


def test_calls_back_to_back_share_the_pass():
    clock = Clock()
    passes = budget.PassClock(gap=2.0, clock=clock)
    # limit 30 s: the pass may use 15 s
    assert passes.call_started(30) == 15
    clock.now += 6
    passes.touch()  # the call stops after 6 s
    clock.now += 0.5  # the runner commits and calls again
    assert passes.call_started(30) == pytest.approx(8.5)
    clock.now += 8.5
    passes.touch()
    clock.now += 0.1
    assert passes.call_started(30) == 0, "the pass's share is spent: a first batch only"


def test_a_pause_starts_a_new_pass():
    clock = Clock()
    passes = budget.PassClock(gap=2.0, clock=clock)
    passes.call_started(30)
    clock.now += 14
    passes.touch()
    clock.now += 5  # the worker slept
    assert passes.call_started(30) == 15


def test_a_pass_never_outlives_the_limit():
    """Calls that keep coming back to back: after a whole limit the watchdog has
    been pinged anyway, so a new pass starts (the clock errs small, not forever)."""
    clock = Clock()
    passes = budget.PassClock(gap=2.0, clock=clock)
    passes.call_started(30)
    for _call in range(31):
        clock.now += 1
        passes.touch()
        left = passes.call_started(30)
    assert left == 15


def test_the_budget_keeps_the_pass_clock_informed():
    clock = Clock()
    ticks = []
    work = budget.CallBudget(10.0, 100, first_size=10, clock=clock,
                             on_tick=lambda: ticks.append(clock.now))
    work.next_size()
    clock.now += 1
    work.spent(10, 10)
    work.next_size()
    assert ticks == [100.0, 101.0]
