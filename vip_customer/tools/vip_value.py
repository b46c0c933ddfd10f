"""Pure customer-value rules: RFM quintiles, segments, tenure.

Nothing here imports Odoo: the nightly refresh of res.partner
(``models/res_partner_value.py``) turns these definitions into its one SQL
statement, and the repository's Odoo-free suite checks them.

* A score (recency, frequency, monetary) is the customer's fifth among the
  company's customers with purchases, 1 (bottom fifth) to 5 (top fifth), by
  percentile rank: a tie shares the middle of its ranks, so customers who all
  bought once are all in the middle (3), not all at the bottom.
* The segment is the first rule of ``SEGMENT_RULES`` the scores meet
  (R = recency, F = frequency, M = monetary); every combination has one.
"""

import datetime
from collections import namedtuple

SCORE_MIN = 1
SCORE_MAX = 5
# "Lifetime": every purchase the purchase sources know of since this date.
LIFETIME_START = datetime.date(1900, 1, 1)
DAYS_PER_YEAR = 365.25


def rfm_quintile(below, ties, total):
    """The 1-5 score of a customer ranked among ``total`` customers:
    ``below`` customers have a worse value, ``ties`` (the customer included)
    the same one. The fifth its mid-rank falls in, in integers (the SQL
    computes the same): ``1 + floor(5 * (below + ties / 2) / total)``."""
    if total <= 0 or ties <= 0 or below < 0 or below + ties > total:
        raise ValueError("rfm_quintile: need 0 <= below, 0 < ties, below + ties <= total")
    return SCORE_MIN + (SCORE_MAX * (2 * below + ties)) // (2 * total)


SegmentRule = namedtuple("SegmentRule", "segment recency_min recency_max fm_min frequency_max")
# First match wins: R between recency_min and recency_max, F + M >= fm_min and
# F <= frequency_max. The field help of vip_rfm_segment says the same in words.
SEGMENT_RULES = (
    SegmentRule("champions", 4, 5, 8, 5),
    SegmentRule("loyal", 3, 5, 6, 5),
    SegmentRule("new", 4, 5, 0, 2),
    SegmentRule("potential", 3, 5, 0, 5),
    SegmentRule("cant_lose", 1, 2, 8, 5),
    SegmentRule("at_risk", 1, 2, 6, 5),
    SegmentRule("hibernating", 2, 2, 0, 5),
    SegmentRule("lost", 1, 1, 0, 5),
)
SEGMENTS = tuple(rule.segment for rule in SEGMENT_RULES)


def rule_matches(rule, recency, frequency, monetary):
    return (
        rule.recency_min <= recency <= rule.recency_max
        and frequency + monetary >= rule.fm_min
        and frequency <= rule.frequency_max
    )


def rfm_segment(recency, frequency, monetary):
    """The segment code of the scores (see ``SEGMENT_RULES``)."""
    for rule in SEGMENT_RULES:
        if rule_matches(rule, recency, frequency, monetary):
            return rule.segment
    raise ValueError(f"no segment for R{recency} F{frequency} M{monetary}")


def tenure_years(first_date, today):
    """Years since the first purchase, to one decimal."""
    return round((today - first_date).days / DAYS_PER_YEAR, 1)


def avg_yearly_spend(lifetime_spend, tenure):
    """Lifetime spend per year of tenure; a customer of less than a year
    counts one year (a month's purchases are not a yearly rate)."""
    return round(lifetime_spend / max(tenure, 1.0), 2)
