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


def test_without_limit_one_batch_of_the_configured_size():
    work = budget.CallBudget(None, 5000, first_size=100)
    assert work.next_size() == 5000
    work.spent(5000, 5000)
    assert work.next_size() == 0


def test_sizes_follow_the_measured_rate_until_the_budget_is_spent():
    clock = Clock()
    work = budget.CallBudget(10.0, 1000, first_size=100, clock=clock)
    assert work.next_size() == 100
    clock.now += 1.0  # 100 items a second
    work.spent(100, 100)
    # 9 s left at 0.01 s an item, 70% of it: 630, but at most four times the last
    assert work.next_size() == 400
    clock.now += 4.0
    work.spent(400, 400)
    # 5 s left at the same rate: 350
    assert work.next_size() == 350
    clock.now += 3.5
    work.spent(350, 350)
    # 1.5 s left: 104
    assert work.next_size() == 104
    clock.now += 1.04
    work.spent(104, 104)
    # 0.46 s left: 32
    assert work.next_size() == 32
    clock.now += 0.46
    work.spent(32, 32)
    assert work.next_size() == 0
    assert work.done == 986


def test_a_batch_grows_at_most_fourfold():
    """A rate measured on a few items says little about many: the next batch is
    at most GROWTH times the last, however cheap the last one looked."""
    clock = Clock()
    work = budget.CallBudget(15.0, 1000, first_size=20, clock=clock)
    assert work.next_size() == 20
    clock.now += 0.5  # 25 ms an item: the time left would allow 406
    work.spent(20, 20)
    assert work.next_size() == 80 == budget.GROWTH * 20
    clock.now += 4.0  # the larger batch is slower: 50 ms an item
    work.spent(80, 80)
    # 10.5 s left at 45 ms an item (4.5 s for 100), aiming at 70%: 163, under 320
    assert work.next_size() == 163


def test_size_never_above_the_configured_batch():
    clock = Clock()
    work = budget.CallBudget(100.0, 200, first_size=100, clock=clock)
    work.next_size()
    clock.now += 0.001
    work.spent(100, 100)
    assert work.next_size() == 200


def test_a_call_with_any_time_left_does_its_first_batch():
    clock = Clock()
    work = budget.CallBudget(0.01, 1000, first_size=20, clock=clock)
    assert not work.deferred
    assert work.next_size() == 20
    clock.now += 5
    work.spent(20, 20)
    assert work.next_size() == 0


def test_a_call_with_no_time_left_is_deferred():
    for seconds in (0.0, -3.0):
        work = budget.CallBudget(seconds, 1000, first_size=20, clock=Clock())
        assert work.deferred
        assert work.next_size() == 0
    assert not budget.CallBudget(None, 10).deferred


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


def _passes(clock, born=None, pid=None):
    return budget.PassClock(gap=2.0, clock=clock,
                            process_start=lambda: clock.now if born is None else born,
                            pid=pid or (lambda: 1))


def test_calls_back_to_back_share_the_pass():
    clock = Clock()
    passes = _passes(clock, born=96.0)
    # limit 30 s: the pass may use 15 s, 4 of them gone since the worker started
    assert passes.call_started(30) == 11
    clock.now += 6
    passes.touch()  # the call stops after 6 s
    clock.now += 0.5  # the runner commits and calls again
    assert passes.call_started(30) == pytest.approx(4.5)
    clock.now += 4.5
    passes.touch()
    clock.now += 0.1
    assert passes.call_started(30) <= 0, "the pass's share is spent"


def test_a_pause_starts_a_new_pass_at_our_last_call():
    clock = Clock()
    passes = _passes(clock)
    passes.call_started(30)
    clock.now += 14
    passes.touch()
    clock.now += 5  # the worker pinged its watchdog and slept
    assert passes.call_started(30) == 10, "the sleep counts: 15 - 5"


def test_a_deferred_call_ends_the_pass():
    clock = Clock()
    passes = _passes(clock)
    passes.call_started(30)
    clock.now += 15
    passes.touch()
    clock.now += 0.2
    assert passes.call_started(30) <= 0
    passes.end_pass()
    clock.now += 0.3  # woken at once by the trigger: a new pass
    assert passes.call_started(30) == pytest.approx(14.7)


def test_a_new_worker_process_starts_its_own_pass():
    clock = Clock()
    pids = iter([1, 1, 2])
    passes = budget.PassClock(gap=2.0, clock=clock, process_start=lambda: clock.now - 3,
                              pid=lambda: next(pids))
    passes.call_started(30)
    clock.now += 1
    passes.touch()
    clock.now += 0.1
    assert passes.call_started(30) == pytest.approx(10.9)
    # the worker was killed and respawned
    clock.now += 0.5
    assert passes.call_started(30) == 12


def test_a_pass_never_outlives_the_limit():
    """Calls that keep coming back to back: the watchdog was pinged within the
    last limit (the worker is alive), so the share left never falls below
    what that allows."""
    clock = Clock()
    passes = _passes(clock)
    passes.call_started(30)
    for _call in range(40):
        clock.now += 1
        passes.touch()
        left = passes.call_started(30)
    assert left == -15


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


def test_iterating_gives_the_sizes_until_stopped():
    clock = Clock()
    work = budget.CallBudget(100.0, 10, first_size=2, clock=clock)
    sizes = []
    for size in work:
        sizes.append(size)
        clock.now += 0.01
        work.spent(size, size)
        if len(sizes) == 3:
            work.stop()
    assert sizes == [2, 8, 10]
    assert list(work) == [], "stopped for the rest of the call"
    assert list(budget.CallBudget(None, 7)) == [7], "no limit: one batch"
