"""How much work one cron call may do: a time budget read from the server's limits.

Odoo kills a cron that runs past its limit (``--limit-time-real-cron``, else
``--limit-time-real``; in the multi-worker server also ``--limit-time-cpu``)
and rolls the call back. The limit does not cover one call: the worker's
watchdog is pinged once per pass, and a pass is the worker's sleep plus every
ready job, each called up to ``MAX_BATCH_PER_CRON_JOB`` (10) times in a row. A
fixed batch size is therefore either too small for an idle machine or killed
on a loaded one. So a VIP cron called by Odoo's cron runner works by time: it
runs sub-batches, sized from the time the previous ones took, until its share
of the limit is spent (``call_seconds``: half the limit over the ten calls of
a pass), reports what is left with ``_notify_progress`` and returns; the
runner commits and calls again.

Outside the runner (tests, code calling the cron method) and on a server with
no limit, a call does one batch of the configured size, as before.

Nothing here imports Odoo (the Odoo-free suite checks it); the config mapping
is passed in.
"""

import time

# share of the limit the calls of one pass may use: the rest is the worker's
# sleep (cut short by cron triggers) and the other jobs of the pass
PASS_SHARE = 0.5
# the sizes aim at this share of what is left, so that a slower sub-batch
# than the previous ones still ends inside the budget
SAFETY = 0.7
# at most this many seconds between two calls of one pass (the runner's commit)
PASS_GAP = 2.0


def cron_time_limit(config):
    """The seconds a pass of cron jobs may last on this server, or None when
    nothing limits it. ``config`` is ``odoo.tools.config`` (or a dict)."""
    limit = config.get("limit_time_real_cron")
    if limit is None or limit < 0:
        limit = config.get("limit_time_real") or 0
    elif limit == 0:
        # multi-worker: 0 turns the cron watchdog off; threaded: the thread
        # then falls back to the request limit
        limit = 0 if config.get("workers") else config.get("limit_time_real") or 0
    if config.get("workers"):
        cpu = config.get("limit_time_cpu") or 0
        if cpu > 0:
            limit = min(limit, cpu) if limit > 0 else cpu
    return limit if limit > 0 else None


def call_seconds(config, max_calls=10, share=PASS_SHARE):
    """The time budget of one cron call: ``share`` of the pass limit over the
    ``max_calls`` calls the runner makes in a row, or None (no limit)."""
    limit = cron_time_limit(config)
    if not limit:
        return None
    return limit * share / max_calls


class PassClock:
    """The start of the current pass of cron calls in this process, for the
    multi-worker server (see the module's docstring)."""

    def __init__(self, gap=PASS_GAP, clock=time.monotonic):
        self.gap = gap
        self.clock = clock
        self.start = None
        self.last = None

    def call_started(self, limit, share=PASS_SHARE):
        """A call starts: the seconds left of the pass's share of ``limit``."""
        now = self.clock()
        if (
            self.start is None
            or self.last is None
            or now - self.last > self.gap
            or now - self.start > limit
        ):
            self.start = now
        self.last = now
        return max(0.0, self.start + limit * share - now)

    def touch(self):
        """A call is still working (or just stopped)."""
        self.last = self.clock()


class CallBudget:
    """The sub-batch sizes of one cron call.

    ``next_size()`` gives the size of the next sub-batch, or 0 when the call
    should stop; ``spent(count)`` records how many items the sub-batch took.
    Without a budget (``seconds`` None) the call is one batch of ``max_size``.
    With one, the first sub-batch is ``first_size`` (small enough for any
    machine), the next ones what the time left allows at the rate measured so
    far, at most ``max_size``; a call always does its first sub-batch, so it
    makes progress however small the budget.
    """

    def __init__(self, seconds, max_size, first_size=None, clock=time.monotonic, on_tick=None):
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.seconds = seconds
        self.max_size = max_size
        self.first_size = max(1, min(first_size or max_size, max_size))
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.batches = 0
        self.finished = False
        self.on_tick = on_tick

    @property
    def limited(self):
        return self.seconds is not None

    def elapsed(self):
        return self.clock() - self.start

    def next_size(self):
        if self.on_tick:
            self.on_tick()
        if self.finished:
            return 0
        if not self.batches:
            return self.first_size if self.limited else self.max_size
        if not self.limited or not self.done:
            return 0
        left = self.seconds - self.elapsed()
        if left <= 0:
            return 0
        per_item = self.elapsed() / self.done
        if per_item <= 0:
            return self.max_size
        return min(self.max_size, int(left * SAFETY / per_item))

    def spent(self, count, size=None):
        """Record a sub-batch of ``count`` items; when it was asked ``size``
        and did fewer, nothing is left: the call stops."""
        self.batches += 1
        self.done += count
        if size is not None and count < size:
            self.finished = True
