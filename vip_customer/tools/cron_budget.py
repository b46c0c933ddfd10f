"""How much work one cron call may do: a time budget read from the server's limits.

Odoo kills a cron that runs past its limit (``--limit-time-real-cron``, else
``--limit-time-real``; in the multi-worker server also ``--limit-time-cpu``)
and rolls the call back. The limit does not cover one call: the worker's
watchdog is pinged once per pass, and a pass is the worker's sleep plus every
ready job, each called up to ``MAX_BATCH_PER_CRON_JOB`` (10) times in a row. A
fixed batch size is therefore either too small for an idle machine or killed
on a loaded one. So a VIP cron called by Odoo's cron runner works by time: it
runs sub-batches, sized from the time the previous ones took, until the pass's
share of the limit (half of it, ``PASS_SHARE``) is spent, reports what is
left with ``_notify_progress`` and returns; the runner commits and calls
again.

When does the pass start? The threaded server records it on the cron thread
(``start_time``). The multi-worker server does not say, so ``PassClock``
keeps the earliest moment it can have started: a new worker process started
a pass when it started; calls back to back (less than ``PASS_GAP`` seconds
apart, the runner's commit between two calls) belong to the same pass; after
a pause, or once a call gave up its pass, the new pass started when our last
call ended (the worker pinged its watchdog, then slept). Every error makes
the budget smaller, never larger.

A call that finds the pass's share spent does no work: it asks for a call in
a new pass (``ir.cron._trigger()``: the worker is woken at once and its
watchdog pinged) and reports nothing done, so the runner ends the job for
this pass. A call with time left always does its first (small) batch.

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
# a sub-batch is at most this many times the previous one: the rate measured on a
# few items says little about many (a batch of 20 invitations at 37 ms each sized
# the next at 419, which took 52 ms each and ran the call 22 s into a 30 s limit)
GROWTH = 4


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


class PassClock:
    """The earliest start of the current pass of cron calls in this process,
    for the multi-worker server (see the module's docstring). ``process_start``
    gives the process's start on ``clock``'s scale; ``pid`` its id."""

    def __init__(self, gap=PASS_GAP, clock=time.monotonic, process_start=None, pid=None):
        self.gap = gap
        self.clock = clock
        self.process_start = process_start or clock
        self.pid = pid or (lambda: None)
        self.owner = None
        self.start = None
        self.last = None
        self.ended = False

    def call_started(self, limit, share=PASS_SHARE):
        """A call starts: the seconds left of the pass's share of ``limit``
        (0 or less: the pass's share is spent)."""
        now = self.clock()
        pid = self.pid()
        if self.owner != pid or self.last is None:
            # a worker process of its own: its first pass started with it
            self.owner = pid
            self.start = self.process_start()
        elif self.ended or now - self.last > self.gap:
            # a new pass: the worker pinged its watchdog after our last call at the earliest
            self.start = self.last
        # alive, so the watchdog was pinged within the last limit
        self.start = max(self.start, now - limit)
        self.ended = False
        self.last = now
        return self.start + limit * share - now

    def touch(self):
        """A call is still working (or just stopped)."""
        self.last = self.clock()

    def end_pass(self):
        """A call gave up its pass: the next call starts a new one."""
        self.ended = True
        self.last = self.clock()


class CallBudget:
    """The sub-batch sizes of one cron call.

    ``next_size()`` gives the size of the next sub-batch, or 0 when the call
    should stop; ``spent(count)`` records how many items the sub-batch took.
    Without a budget (``seconds`` None) the call is one batch of ``max_size``.
    With one, the first sub-batch is ``first_size`` (small enough for any
    machine), the next ones what the time left allows at the rate measured so
    far, at most ``GROWTH`` times the previous one and ``max_size``; a call
    with any time left does its first sub-batch, so it makes progress however
    small the budget. With none
    (``seconds`` 0 or less) the call is ``deferred``: no batch at all.
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
        self.last_size = 0
        self.finished = False
        self.on_tick = on_tick

    @property
    def limited(self):
        return self.seconds is not None

    @property
    def deferred(self):
        """No time at all: the call should leave the work to a new pass."""
        return self.limited and self.seconds <= 0

    def elapsed(self):
        return self.clock() - self.start

    def next_size(self):
        if self.on_tick:
            self.on_tick()
        if self.finished or self.deferred:
            return 0
        if not self.batches:
            size = self.first_size if self.limited else self.max_size
        elif not self.limited or not self.done:
            return 0
        else:
            left = self.seconds - self.elapsed()
            if left <= 0:
                return 0
            per_item = self.elapsed() / self.done
            size = min(self.max_size, GROWTH * self.last_size)
            if per_item > 0:
                size = min(size, int(left * SAFETY / per_item))
        if size > 0:
            self.batches += 1
            self.last_size = size
        return size

    def __iter__(self):
        """The sizes of the call's sub-batches, as long as ``next_size`` gives
        one: record each with ``spent``; ``stop`` ends the call's work."""
        while size := self.next_size():
            yield size

    def stop(self):
        """Nothing more to do in this call."""
        self.finished = True

    def spent(self, count, size=None):
        """Record a sub-batch of ``count`` items; when it was asked ``size``
        and did fewer, nothing is left: the call stops."""
        self.done += count
        if size is not None and count < size:
            self.finished = True
