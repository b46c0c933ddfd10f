"""The customer-value rules of vip_customer (RFM quintiles, segments), without Odoo."""

import datetime

import pytest
from conftest import load_pure_module

value = load_pure_module("vip_customer/tools/vip_value.py")


def scores(values):
    """The quintile of each value among ``values`` (higher is better)."""
    total = len(values)
    return [
        value.rfm_quintile(sum(other < mine for other in values), values.count(mine), total)
        for mine in values
    ]


def test_five_distinct_customers_get_one_score_each():
    assert scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]


def test_ten_customers_two_per_fifth():
    assert scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_the_middle_of_their_ranks():
    # the two best tie: mid-rank 4.5 of 5 -> top fifth for both
    assert scores([1, 2, 3, 9, 9]) == [1, 2, 3, 5, 5]
    # one-time buyers, most of the customers: in the middle, not at the bottom
    assert scores([1, 1, 1, 2, 4]) == [2, 2, 2, 4, 5]
    # everybody alike, or a single customer: the middle
    assert scores([7, 7, 7, 7]) == [3, 3, 3, 3]
    assert scores([7]) == [3]


@pytest.mark.parametrize("args", [(0, 0, 5), (-1, 1, 5), (4, 2, 5), (0, 1, 0)])
def test_quintile_refuses_impossible_ranks(args):
    with pytest.raises(ValueError):
        value.rfm_quintile(*args)


def test_every_score_combination_has_one_segment():
    seen = set()
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                segment = value.rfm_segment(r, f, m)
                assert segment in value.SEGMENTS
                seen.add(segment)
    assert seen == set(value.SEGMENTS), "every segment is reachable"


@pytest.mark.parametrize(
    ("rfm", "segment"),
    [
        ((5, 5, 5), "champions"),
        ((4, 4, 4), "champions"),
        ((4, 3, 4), "loyal"),
        ((3, 5, 5), "loyal"),
        ((5, 1, 1), "new"),
        ((4, 2, 3), "new"),
        ((4, 3, 1), "potential"),
        ((3, 1, 1), "potential"),
        ((2, 5, 5), "cant_lose"),
        ((1, 4, 4), "cant_lose"),
        ((2, 3, 3), "at_risk"),
        ((1, 5, 1), "at_risk"),
        ((2, 1, 1), "hibernating"),
        ((2, 2, 3), "hibernating"),
        ((1, 1, 1), "lost"),
        ((1, 2, 3), "lost"),
    ],
)
def test_documented_segments(rfm, segment):
    assert value.rfm_segment(*rfm) == segment


def test_tenure_and_average_yearly_spend():
    today = datetime.date(2026, 12, 1)
    assert value.tenure_years(today - datetime.timedelta(days=400), today) == 1.1
    assert value.tenure_years(today - datetime.timedelta(days=700), today) == 1.9
    assert value.tenure_years(today, today) == 0.0
    assert value.avg_yearly_spend(30000, 1.1) == 27272.73
    # under a year counts a year
    assert value.avg_yearly_spend(8000, 0.1) == 8000
