"""The tier and churn rules of vip_customer, without Odoo."""

import datetime

import pytest
from conftest import load_pure_module

rules = load_pure_module("vip_customer/tools/vip_rules.py")
TierRule = rules.TierRule
TODAY = datetime.date(2026, 6, 15)

C = TierRule(
    id=1, level=1, min_spend=0, min_count=1, retention_spend=0, retention_count=1, grace_days=30
)
B = TierRule(
    id=2,
    level=2,
    min_spend=50000,
    min_count=1,
    retention_spend=40000,
    retention_count=1,
    grace_days=30,
)
A = TierRule(
    id=3,
    level=3,
    min_spend=100000,
    min_count=2,
    retention_spend=80000,
    retention_count=1,
    grace_days=30,
)
TIERS = [C, A, B]  # any order


def decide(spend, count, current=None, downgrade_date=None, today=TODAY, tiers=TIERS):
    return rules.decide_tier(tiers, {12: (spend, count)}, current, downgrade_date, today)


@pytest.mark.parametrize(
    "spend,count,expected",
    [
        (0, 0, None),
        (10, 1, 1),
        (49999.99, 3, 1),
        (50000, 1, 2),
        (150000, 1, 2),
        (100000, 2, 3),
    ],
)
def test_entry_rules(spend, count, expected):
    decision = decide(spend, count)
    assert decision.tier_id == expected
    assert decision.change == (rules.CHANGE_NEW if expected else None)


def test_upgrade_is_immediate():
    decision = decide(120000, 4, current=B.id)
    assert (decision.tier_id, decision.change) == (A.id, rules.CHANGE_UPGRADE)
    assert decision.downgrade_date is None


def test_retention_keeps_the_tier():
    decision = decide(85000, 1, current=A.id)
    assert decision.tier_id == A.id and decision.change is None and decision.downgrade_date is None


def test_below_retention_starts_grace():
    decision = decide(60000, 1, current=A.id)
    assert decision.tier_id == A.id
    assert decision.pending_tier_id == B.id
    assert decision.downgrade_date == TODAY + datetime.timedelta(days=30)
    assert decision.change is None


def test_grace_end_downgrades_to_highest_retained_tier():
    due = TODAY - datetime.timedelta(days=1)
    decision = decide(45000, 1, current=A.id, downgrade_date=due)
    assert (decision.tier_id, decision.change) == (B.id, rules.CHANGE_DOWNGRADE)
    decision = decide(0, 0, current=A.id, downgrade_date=due)
    assert (decision.tier_id, decision.change) == (None, rules.CHANGE_REMOVED)


def test_pending_date_is_kept_while_in_grace():
    pending = TODAY + datetime.timedelta(days=10)
    decision = decide(45000, 1, current=A.id, downgrade_date=pending)
    assert decision.downgrade_date == pending and decision.tier_id == A.id


def test_zero_grace_downgrades_at_once():
    a_now = TierRule(
        id=3,
        level=3,
        min_spend=100000,
        min_count=2,
        retention_spend=80000,
        retention_count=1,
        grace_days=0,
    )
    decision = decide(45000, 1, current=3, tiers=[C, B, a_now])
    assert decision.tier_id == B.id


def test_archived_current_tier_is_replaced_at_once():
    decision = decide(60000, 1, current=99)
    assert decision.tier_id == B.id


def test_churn_components():
    last = TODAY - datetime.timedelta(days=300)
    first = TODAY - datetime.timedelta(days=700)
    score = rules.churn_score(TODAY, last, first, 13, 1, 12, 5000, 60000, 365)
    assert score.recency == 100
    assert score.frequency == 92
    assert score.spend == 92
    assert score.total == 95
    assert rules.churn_level(score.total, 40, 70) == "high"


def test_regular_buyer_is_safe_and_signals_add_up():
    last = TODAY - datetime.timedelta(days=10)
    first = TODAY - datetime.timedelta(days=700)
    score = rules.churn_score(TODAY, last, first, 24, 12, 12, 60000, 60000, 365, signals=30)
    assert (score.recency, score.frequency, score.spend, score.signals) == (0, 0, 0, 30)
    assert score.total == 30
    assert rules.churn_level(score.total, 40, 70) == "low"
    capped = rules.churn_score(TODAY, None, None, 0, 0, 3, 0, 100, 365, signals=80)
    assert capped.total == 100


def test_dates():
    assert rules.occasion_date(2, 29, 2027) == datetime.date(2027, 2, 28)
    assert rules.occasion_date(2, 29, 2028) == datetime.date(2028, 2, 29)
    assert rules.months_ago(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert rules.months_ago(datetime.date(2026, 1, 15), 12) == datetime.date(2025, 1, 15)
    assert rules.months_ago(datetime.date(2026, 1, 15), 24) == datetime.date(2024, 1, 15)


def test_recency_moves_in_steps_of_five():
    first = TODAY - datetime.timedelta(days=400)
    scores = {
        rules.churn_score(
            TODAY, TODAY - datetime.timedelta(days=d), first, 5, 4, 4, 10, 10, 365
        ).recency
        for d in range(100, 300)
    }
    assert scores and all(score % 5 == 0 for score in scores)
    assert len(scores) <= 21


def test_birthday_problem():
    today = datetime.date(2026, 6, 15)
    assert rules.birthday_problem(datetime.date(1975, 8, 18), today) is None
    assert rules.birthday_problem(today, today) is None
    assert rules.birthday_problem(datetime.date(1900, 1, 1), today) is None
    assert rules.birthday_problem(None, today) is None
    assert rules.birthday_problem(datetime.date(2026, 6, 16), today) == "future"
    assert rules.birthday_problem(datetime.date(1899, 12, 31), today) == "too_old"


@pytest.mark.parametrize("months", [1, 3, 6, 12, 24])
def test_window_exit_date_is_the_first_day_out(months):
    day = datetime.date(2023, 1, 1)
    while day < datetime.date(2025, 1, 1):
        exit_day = rules.window_exit_date(day, months)
        # in the window the day before, out of it on the exit day (brute force)
        assert rules.months_ago(exit_day - datetime.timedelta(days=1), months) <= day
        assert rules.months_ago(exit_day, months) > day
        day += datetime.timedelta(days=1)


def test_window_exit_at_month_ends():
    assert rules.window_exit_date(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 3, 1)
    assert rules.window_exit_date(datetime.date(2026, 1, 15), 12) == datetime.date(2027, 1, 16)
    assert rules.window_exit_date(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 3, 1)


@pytest.mark.parametrize("usual", [1.0, 7.5, 30.0, 91.25, 365.0])
def test_recency_change_days_matches_brute_force(usual):
    for days in range(0, int(3 * usual) + 5):
        current = rules.recency_step(days, usual)
        step = rules.recency_change_days(days, usual)
        if current == 100:
            assert step is None
            continue
        later = [rules.recency_step(days + k, usual) for k in range(1, step + 1)]
        assert later[-1] != current, (days, step)
        assert all(value == current for value in later[:-1]), (days, step)
