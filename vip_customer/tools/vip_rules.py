"""Pure VIP rules: tier decisions, churn scoring and care dates.

Nothing here imports Odoo, so the same functions run inside the tier engine
and in the repository's Odoo-free test suite. Keep it that way.
"""

import calendar
import datetime
from dataclasses import dataclass, field

CHANGE_NEW = "new"
CHANGE_UPGRADE = "upgrade"
CHANGE_DOWNGRADE = "downgrade"
CHANGE_REMOVED = "removed"


@dataclass(frozen=True)
class TierRule:
    """What the engine needs to know of a ``vip.tier``."""

    id: int
    level: int
    min_spend: float = 0.0
    min_count: int = 0
    retention_spend: float = 0.0
    retention_count: int = 0
    window_months: int = 12
    grace_days: int = 0

    def meets_entry(self, metrics):
        spend, count = metrics.get(self.window_months, (0.0, 0))
        return spend >= self.min_spend and count >= self.min_count

    def meets_retention(self, metrics):
        spend, count = metrics.get(self.window_months, (0.0, 0))
        return spend >= self.retention_spend and count >= self.retention_count


@dataclass(frozen=True)
class TierDecision:
    """Outcome for one customer.

    ``tier_id`` is the tier after this run, ``pending_tier_id`` and
    ``downgrade_date`` describe a downgrade waiting for its grace period,
    ``change`` is None when the tier stays and ``rule`` is the tier whose
    rule decided (its window gives the metrics to record).
    """

    tier_id: int | None
    pending_tier_id: int | None = None
    downgrade_date: datetime.date | None = None
    change: str | None = None
    rule: TierRule | None = None


def _change_kind(old, new):
    if old is None:
        return CHANGE_NEW
    if new is None:
        return CHANGE_REMOVED
    return CHANGE_UPGRADE if new.level > old.level else CHANGE_DOWNGRADE


def decide_tier(tiers, metrics, current_id, downgrade_date, today):
    """Decide a customer's tier.

    :param tiers: iterable of :class:`TierRule` (any order)
    :param metrics: ``{window_months: (spend, purchase_count)}``
    :param current_id: id of the tier the customer holds, or None
    :param downgrade_date: date a pending downgrade takes effect, or None
    :param today: the evaluation date

    Upgrades apply at once. A customer keeps a tier while its retention
    threshold is met (hysteresis); below it, a downgrade to the highest lower
    tier whose retention threshold is met is scheduled ``grace_days`` ahead
    and applied once that date is reached, unless the customer recovers.
    """
    ordered = sorted(tiers, key=lambda t: t.level, reverse=True)
    by_id = {t.id: t for t in ordered}
    current = by_id.get(current_id)
    qualified = next((t for t in ordered if t.meets_entry(metrics)), None)

    if current is None:
        # No tier, or the held tier was archived or belongs elsewhere:
        # the entry rules alone decide, at once.
        new_id = qualified.id if qualified else None
        if new_id == current_id:
            return TierDecision(current_id, rule=qualified)
        change = (
            _change_kind(None, qualified)
            if current_id is None
            else (CHANGE_REMOVED if qualified is None else CHANGE_NEW)
        )
        return TierDecision(new_id, change=change, rule=qualified)

    if qualified is not None and qualified.level > current.level:
        return TierDecision(qualified.id, change=CHANGE_UPGRADE, rule=qualified)

    if current.meets_retention(metrics):
        return TierDecision(current.id, rule=current)

    target = next(
        (t for t in ordered if t.level < current.level and t.meets_retention(metrics)), None
    )
    target_id = target.id if target else None
    if current.grace_days <= 0 or (downgrade_date is not None and today >= downgrade_date):
        return TierDecision(target_id, change=_change_kind(current, target), rule=current)
    if downgrade_date is None:
        downgrade_date = today + datetime.timedelta(days=current.grace_days)
    return TierDecision(
        current.id, pending_tier_id=target_id, downgrade_date=downgrade_date, rule=current
    )


# ---------------------------------------------------------------------------
# Churn risk
# ---------------------------------------------------------------------------

CHURN_WEIGHTS = {"recency": 0.4, "frequency": 0.3, "spend": 0.3}


@dataclass(frozen=True)
class ChurnScore:
    recency: int
    frequency: int
    spend: int
    signals: int = 0
    total: int = field(default=0)


def _pct(value):
    return int(round(max(0.0, min(1.0, value)) * 100))


def churn_score(
    today,
    last_date,
    first_date,
    horizon_count,
    count,
    prev_count,
    spend,
    prev_spend,
    window_days,
    signals=0,
):
    """Score churn risk from 0 (safe) to 100 (leaving), component by component.

    * recency: days since the last purchase against the customer's usual
      interval between purchases (over the whole horizon): 0 at one usual
      interval, 100 at three or more, in steps of 5; no purchase at all in the
      horizon is 100;
    * frequency: drop of the purchase count against the previous window;
    * spend: drop of spend against the previous window;
    * signals: points added by other add-ons (open complaints, detractors).
    """
    if last_date is None:
        recency = 100
    else:
        if horizon_count >= 2 and first_date and last_date > first_date:
            usual = (last_date - first_date).days / (horizon_count - 1)
        else:
            usual = window_days
        usual = max(usual, 1.0)
        # in steps of 5: recency moves every day, and a customer whose risk
        # did not really change should not be rewritten every night
        recency = recency_step((today - last_date).days, usual)
    frequency = _pct((prev_count - count) / prev_count) if prev_count > 0 else 0
    spend_drop = _pct((prev_spend - spend) / prev_spend) if prev_spend > 0 else 0
    weighted = (
        CHURN_WEIGHTS["recency"] * recency
        + CHURN_WEIGHTS["frequency"] * frequency
        + CHURN_WEIGHTS["spend"] * spend_drop
    )
    signals = max(0, int(signals))
    total = min(100, int(round(weighted)) + signals)
    return ChurnScore(recency, frequency, spend_drop, signals, total)


# The churn level of a customer "at risk": one definition for the engine's
# risk episodes, the "At Risk" filter and badge (res.partner.vip_at_risk).
AT_RISK_LEVEL = "high"


def churn_level(score, medium_threshold, high_threshold):
    """Map a score to ``low`` / ``medium`` / ``high`` (``AT_RISK_LEVEL``)."""
    if score >= high_threshold:
        return AT_RISK_LEVEL
    if score >= medium_threshold:
        return "medium"
    return "low"


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


def occasion_date(month, day, year):
    """The date of a yearly occasion in ``year``; 29 February falls on the 28th
    in common years so that leap-day birthdays are not skipped."""
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day, last))


def months_ago(today, months):
    """``today`` moved back by whole months, clamped to the month's last day."""
    month_index = today.year * 12 + (today.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    return datetime.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def window_exit_date(date, months):
    """The first day on which a purchase of ``date`` is no longer in a window of
    ``months`` months (a purchase is in the window of ``today`` while ``date >=
    months_ago(today, months)``): the incremental tier night re-evaluates a
    customer on that day, whatever else happens."""
    month_index = date.year * 12 + (date.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    day = datetime.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))
    # months_ago(day, months) <= date here; a few days on at most (month ends)
    while months_ago(day, months) <= date:
        day += datetime.timedelta(days=1)
    return day


def recency_step(days, usual):
    """The churn recency component after ``days`` without a purchase, with a
    ``usual`` interval between purchases (see :func:`churn_score`)."""
    ratio = days / max(usual, 1.0)
    return 5 * round(_pct((ratio - 1.0) / 2.0) / 5)


def recency_change_days(days, usual):
    """How many days after ``days`` without a purchase the recency component
    next changes (it only grows, in steps of 5, up to 100 at three usual
    intervals), or None when it is already 100."""
    current = recency_step(days, usual)
    if current >= 100:
        return None
    low, high = 1, max(int(3 * max(usual, 1.0)) + 2 - days, 1)
    while recency_step(days + high, usual) == current:  # pragma: no cover - safety
        high *= 2
    while low < high:
        middle = (low + high) // 2
        if recency_step(days + middle, usual) == current:
            low = middle + 1
        else:
            high = middle
    return low


# Oldest birthday accepted: before it, a date is a typing or an Excel mistake.
BIRTHDAY_MIN = datetime.date(1900, 1, 1)


def birthday_problem(birthday, today):
    """Why ``birthday`` cannot be a person's: ``"future"`` (after ``today``),
    ``"too_old"`` (before ``BIRTHDAY_MIN``), or ``None`` when it can be."""
    if not birthday:
        return None
    if birthday > today:
        return "future"
    if birthday < BIRTHDAY_MIN:
        return "too_old"
    return None
