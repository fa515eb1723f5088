# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""THE waiter engine: every wait of the collection (images, copies, import/export tasks, instances, disks)
goes through :func:`wait_until`.

One schedule (:class:`PollSchedule`): once the resource reports its progress in percent, the finishing time
is estimated from the observed rate and one poll is aimed just after it (the completion is noticed within
about a second); until then, and for resources that report no progress, the delays back off. A token bucket
keeps the average poll rate of one waited resource at or below ``POLLS_PER_MINUTE`` whatever the shape of
the schedule.

One missing-object rule: a resource that is not found (``fetch()`` returns None) is tolerated until the
wait's timeout, or for ``missing_grace`` seconds of misses in a row when given (the cloud lists new images
late, and may briefly lose sight of one).

One pair of exceptions: :class:`WaitTimeout` (the deadline passed) and :class:`WaitFailed` (the resource
reached a failed state: the message is the cloud's). A read failing during a wait raises the client's
ApiError, marked with ``during`` (what was being waited for). The failure boundary in base.py reports all
of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils import progress as progress_transport
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    FAILED_STATUSES, describe_image, image_usable)

# Average polls per minute of one waited resource, at most (the token bucket's rate), and how many polls
# may come in a burst (the first reads of a wait, the re-polls right after an aimed poll came too early).
POLLS_PER_MINUTE = 6.0
POLL_BURST = 3.0
# Scheduling defaults (seconds): see PollSchedule.
FIRST_DELAY = 2.0
MIN_INTERVAL = 1.0
MAX_INTERVAL = 30.0
BACKOFF_FACTOR = 1.5
MARGIN = 0.2

# The clock of every wait (tests replace these two with a fake clock; a waiter's sleep=/now= arguments win).
SLEEP = time.sleep
NOW = time.monotonic


class WaitTimeout(Exception):
    """The resource did not reach the wanted state before the deadline.

    ``last`` is the last object seen (None when it was never found), ``polls`` the reads made, ``elapsed``
    the seconds waited, ``what`` the description of the wait."""

    failed = False

    def __init__(self, message, last=None, polls=0, elapsed=0.0, what=None):
        super(WaitTimeout, self).__init__(message)
        self.last = last
        self.polls = polls
        self.elapsed = elapsed
        self.what = what


class WaitFailed(WaitTimeout):
    """The resource reached a failed state (or disappeared); the message holds the cloud's reason.

    Subclass of WaitTimeout so that ``except WaitTimeout`` handles both; ``e.failed`` tells them apart."""

    failed = True


class PollSchedule:
    """Chooses the delay before the next poll of one waited resource.

    * Progress known: ``observe(t, percent)`` records every poll's percent (whole percent, rounded down, as the
      cloud reports it). From two different values on, the rate is fitted (least squares) and every sample
      bounds where the progress stands (``percent <= rate * t + c < percent + 1``): the intersection gives the
      latest time the resource can reach 100 %, and one poll is aimed ``margin`` seconds after it when it is
      at most ``max_interval`` away. Farther away, the schedule polls ``max_interval`` ahead (keeping at least
      ``min_interval`` before the aimed poll); each of these polls narrows the estimate. Progress going back
      (a new phase) starts over; 0 % (queued) and 100 % are not used for the fit.
    * No estimate yet (no progress reported, or not moving), or the aimed poll came too early: back off from
      ``first_delay`` (after an aimed poll: from ``min_interval``) by ``factor``, at most ``max_interval``.
    * No progress, but an expected duration (``expected``: the typical seconds of the transition the caller
      just requested, counted from the start of the wait; instances report no progress): the bucket starts
      empty (every poll is earned at the rate; a transition shorter than one token's worth starts with what
      its aimed poll needs), the first poll is aimed ``margin`` seconds after the expected
      end, preceded by one early probe at ``first_delay`` only when the budget still leaves a token for the
      aimed poll (``expected * rate >= 2``: transitions of 20 s or more). A transition that takes longer is
      re-polled as after any aimed poll that came too early.
    * Whatever the above says, a token bucket (``polls_per_minute``, ``burst`` polls at most) delays a poll
      until a token is there, so the average poll rate of the resource stays at or below that rate.
    """

    def __init__(self, first_delay=FIRST_DELAY, min_interval=MIN_INTERVAL, max_interval=MAX_INTERVAL,
                 factor=BACKOFF_FACTOR, margin=MARGIN, polls_per_minute=POLLS_PER_MINUTE, burst=POLL_BURST,
                 expected=None):
        self.first_delay = float(first_delay)
        self.min_interval = float(min_interval)
        self.max_interval = max(float(max_interval), self.min_interval)
        self.factor = float(factor)
        self.margin = float(margin)
        self.rate = float(polls_per_minute) / 60.0
        self.burst = float(burst)
        self.samples = []          # (time, percent) of the current phase, 0 < percent < 100
        self._last_percent = None
        self._backoff = None       # last backoff delay while no estimate is usable
        self._late = None          # None: no aimed poll missed yet; 0: one quick re-aim done; else last delay
        self._tokens = self.burst
        self._token_time = None
        self.expected = float(expected) if expected else None
        self._start = None

    def begin(self, now):
        """The wait starts at ``now``: returns the delay before its first poll (``expected`` waits), else None
        (poll at once, or after ``first_delay`` as the caller says)."""
        self._start = float(now)
        if self.expected is None:
            return None
        # empty, but for a transition shorter than one token's worth (every wait polls at least once): the aimed
        # poll finds exactly one token, so the polls after it keep the rate instead of paying a debt
        self._tokens, self._token_time = max(0.0, 1.0 - self.expected * self.rate), self._start
        if self.expected * self.rate >= 2.0 and self.expected - self.first_delay >= 2 * self.min_interval:
            return self.first_delay            # the probe: it leaves a token for the aimed poll
        return max(0.0, self.expected + self.margin)

    # -- observations
    def observe(self, now, percent):
        if percent is None:
            return
        percent = float(percent)
        if self._last_percent is not None and percent < self._last_percent:
            self.samples = []      # progress went back (a new phase): start over
            self._late = None
        self._last_percent = percent
        if 0 < percent < 100:
            self.samples.append((float(now), percent))

    def polled(self, now):
        """Take a token for a poll made at ``now``."""
        self._refill(now)
        self._tokens -= 1.0

    def _refill(self, now):
        if self._token_time is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._token_time) * self.rate)
        self._token_time = now

    # -- estimate
    def fit(self):
        """``(rate, low, high)``: percent per second, and the bounds of the offset ``c`` in
        ``percent = rate * t + c`` that every sample allows (``low > high``: the samples are not linear); None
        when unknown."""
        if self._last_percent is not None and self._last_percent >= 100:
            return None
        samples = self.samples
        if len(set(p for _t, p in samples)) < 2:
            return None
        n = float(len(samples))
        mean_t = sum(t for t, _p in samples) / n
        mean_p = sum(p for _t, p in samples) / n
        var = sum((t - mean_t) ** 2 for t, _p in samples)
        rate = sum((t - mean_t) * (p - mean_p) for t, p in samples) / var if var > 0 else 0
        if rate <= 0:
            return None
        low = max(p - rate * t for t, p in samples)           # p <= rate * t + c
        high = min(p + 1.0 - rate * t for t, p in samples)    # rate * t + c < p + 1
        if low > high:
            low = high = mean_p + 0.5 - rate * mean_t
        return rate, low, high

    def finish_time(self):
        """The latest time at which the progress can reach 100 % given the samples, or None when unknown."""
        fit = self.fit()
        if fit is None:
            return None
        rate, low, _high = fit
        return (100.0 - low) / rate

    def wanted_delay(self, now):
        """The delay the estimate (or the backoff) asks for, before the rate limit."""
        fit = self.fit()
        if fit is not None:
            rate, low, high = fit
            target = (100.0 - low) / rate + self.margin - now
            if target > self.max_interval:
                self._late = None
                delay = max(min(self.max_interval, target - self.min_interval), self.min_interval)
                # Poll when the percent would change if the offset were mid-way between its bounds: whatever
                # the answer, it halves the uncertainty of the finishing time.
                boundary = self._boundary(rate, low, high, now, delay)
                return boundary if boundary is not None else delay
            if target >= 2 * self.min_interval and (high - low) / rate > self.margin and \
                    self._tokens + target * self.rate >= 2.0:
                # the end is still uncertain by more than the margin, and the budget allows one more poll
                # before it without delaying the aimed one: halve the uncertainty first
                boundary = self._boundary(rate, low, high, now, target - self.min_interval)
                if boundary is not None:
                    return boundary
            if target >= self.min_interval or (target > 0 and self._late is None):
                self._late = 0.0 if target < self.min_interval else None
                return target
        elif self.expected is not None and self._start is not None and \
                now - self._start < self.expected and self._late is None:
            self._late = 0.0                   # the aimed poll: if it comes too early, re-poll as below
            return self._start + self.expected + self.margin - now
        elif self.expected is None and (self._last_percent is None or self._last_percent < 100):
            self._backoff = self.first_delay if self._backoff is None else min(self.max_interval,
                                                                               self._backoff * self.factor)
            return self._backoff
        # 100 % but not done yet (e.g. Usable lags Status), or the aimed poll came too early: re-poll soon,
        # backing off
        self._late = self.min_interval if not self._late else min(self.max_interval, self._late * self.factor)
        return self._late

    def _boundary(self, rate, low, high, now, latest):
        """Delay (between min_interval and ``latest``) to the last time before ``now + latest`` at which the
        reported percent changes if the offset lies mid-way between ``low`` and ``high``; None if none."""
        middle = (low + high) / 2.0
        delay = (int(rate * (now + latest) + middle) - middle) / rate - now + 0.001
        return delay if self.min_interval <= delay <= latest else None

    def next_delay(self, now):
        """Seconds to sleep before the next poll (the estimate, then the rate limit)."""
        delay = self.wanted_delay(now)
        self._refill(now)
        if self.rate > 0 and self._tokens + delay * self.rate < 1.0:
            delay = (1.0 - self._tokens) / self.rate
        return delay


def poll_times(duration, timeout=3600, schedule=None, start_percent=0.0, expected=None):
    """When the engine polls a resource that goes linearly from ``start_percent`` to 100 % in ``duration``
    seconds, each poll instantaneous (for docs, tests and tuning). Returns the list of poll times up to the
    one that sees 100 %. With ``expected`` the resource reports no progress (an instance) and the wait is
    aimed at that typical duration (see PollSchedule)."""
    schedule = schedule or PollSchedule(expected=expected)
    clock = [0.0]

    def percent():
        t = clock[0]
        return 100.0 if t >= duration else start_percent + (100.0 - start_percent) * t / duration

    times = []

    def fetch():
        times.append(clock[0])
        return {'p': int(percent())}

    def sleep(seconds):
        clock[0] += seconds

    try:
        wait_until(fetch, lambda o: o['p'] >= 100, timeout=timeout,
                   progress=(lambda o: None) if schedule.expected else (lambda o: o['p']),
                   schedule=schedule, sleep=sleep, now=lambda: clock[0])
    except WaitTimeout:
        pass
    return times


def _percent(value):
    """'37%' / 37 / '37' -> 37.0; anything else -> None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(str(value).strip().rstrip('%').strip())
    except ValueError:
        return None


def wait_until(fetch, done, failed=None, timeout=600, what='resource', progress=None, status=None,
               first_object=None, missing_grace=None, schedule=None, report=None, sleep=None, now=None,
               first_delay=None, max_delay=None, factor=None, poll_first=True, expected=None):
    """Poll ``fetch()`` until ``done(obj)`` is true; return that object.

    * ``fetch()`` returns the current object, or None when it is not found. ``done`` is called with None too
      (a wait for a deletion is ``done=lambda o: o is None``); otherwise None falls under the missing-object
      rule: tolerated until the deadline, or for ``missing_grace`` seconds of misses in a row (then
      WaitFailed: "was not found" / "no longer exists").
    * ``failed(obj)`` (never called with None) returning a message raises WaitFailed at once.
    * ``progress(obj)`` gives the percent done (or None) for the schedule, ``status(obj)`` the status text for
      messages and progress reports.
    * ``first_object``: an object already read (no poll at once); otherwise the first poll is at once
      (``poll_first=False``: after the schedule's first delay).
    * The last poll happens at the deadline (``timeout`` seconds after the start, 0 = poll once); then
      WaitTimeout.
    * ``report``: callable(obj, status, percent) on every poll (see :func:`reporter`).
    * ``schedule``: a PollSchedule (default one); ``first_delay``/``max_delay``/``factor``/``expected`` tune
      the default. ``expected``: the typical duration in seconds of the transition just requested, for a
      resource that reports no progress (see PollSchedule); the first poll is then scheduled, not at once.
    * An ApiError from ``fetch`` propagates with ``during`` set to "waiting for <what>".
    """
    sleep = SLEEP if sleep is None else sleep
    now = NOW if now is None else now
    if schedule is None:
        tuning = dict((k, v) for k, v in (('first_delay', first_delay), ('max_interval', max_delay),
                                          ('factor', factor), ('expected', expected)) if v is not None)
        schedule = PollSchedule(**tuning)
    progress = progress or (lambda obj: None)
    status = status or (lambda obj: (obj.get('status') or obj.get('Status')) if isinstance(obj, dict) else None)
    timeout = max(0.0, float(timeout))
    start = now()
    deadline = start + timeout
    polls = 0
    seen = False
    missing_since = None
    obj = first_object
    scheduled = schedule.begin(start)
    if obj is None:
        if scheduled is None and not poll_first:
            scheduled = schedule.first_delay
        if scheduled and timeout > 0:
            sleep(min(scheduled, timeout))
        obj, polls = _poll(fetch, what, schedule, now, polls)
    while True:
        t = now()
        if obj is None:
            if done(None):
                return None
            missing_since = t if missing_since is None else missing_since
            if missing_grace is not None and t - missing_since >= missing_grace:
                state = 'no longer exists' if seen else 'was not found'
                raise WaitFailed('%s %s (not found for %ds)' % (what, state, t - missing_since), None, polls,
                                 t - start, what)
            percent = None
        else:
            seen = True
            missing_since = None
            percent = _percent(progress(obj))
            if report is not None:
                report(obj, status(obj), percent)
            if done(obj):
                return obj
            message = failed(obj) if failed is not None else None
            if message:
                raise WaitFailed(message, obj, polls, t - start, what)
            schedule.observe(t, percent)
        if t >= deadline:
            if obj is None:
                state = ('it no longer exists' if seen else
                         'it was not found (not listed yet, or it does not exist)')
            else:
                state = 'last seen %s' % (status(obj) or 'in an unknown state')
                if percent is not None:
                    state += ', %d%%' % percent
            raise WaitTimeout('timed out after %ds waiting for %s (%s; %d polls)' % (timeout, what, state, polls),
                              obj, polls, t - start, what)
        sleep(max(0.0, min(schedule.next_delay(t), deadline - t)))
        obj, polls = _poll(fetch, what, schedule, now, polls)


def _poll(fetch, what, schedule, now, polls):
    schedule.polled(now())
    try:
        return fetch(), polls + 1
    except Exception as exc:  # annotate (ApiError) and re-raise: the failure boundary reports it
        if getattr(exc, 'during', None) is None:
            try:
                exc.during = 'waiting for %s' % what
            except AttributeError:  # pragma: no cover - exceptions without a __dict__
                pass
        raise


def reporter(owner, what, resource_id, region=None):
    """A ``report`` callable for wait_until that sends each poll to the progress transport
    (module_utils.progress.emit; a no-op unless progress reporting is on). ``owner`` is the AnsibleModule, an
    AlicloudModule, or an EcsClient made by AlicloudModule.client() (it knows its module); anything else
    reports with module None."""
    module = _ansible_module(owner)

    def report(obj, status, percent):
        progress_transport.emit(module, what, resource_id, region=region, status=status,
                                percent=int(percent) if percent is not None else None)
    return report


def reporter_each(owner, what, region=None):
    """A ``report`` callable for a wait on several resources at once whose fetch returns ``{id: raw object}``
    (ecs_instance waits for all its instances in one read): one progress line per resource, with its Status,
    written together (emit() holds back what comes less than MIN_GAP after its last write)."""
    module = _ansible_module(owner)

    def report(found, status, percent):
        for resource_id, item in sorted(found.items()):
            progress_transport.emit(module, what, resource_id, region=region, status=item.get('Status'))
        progress_transport.flush(module)
    return report


def _ansible_module(owner):
    owner = getattr(owner, 'progress_module', owner)
    inner = getattr(owner, 'module', None)
    if inner is not None and hasattr(inner, 'exit_json'):
        return inner
    return owner if hasattr(owner, 'exit_json') else None


# --------------------------------------------------------------------------------------------- images

def image_failure_message(image):
    status = image.get('Status') or image.get('status')
    message = 'image %s is %s' % (image.get('ImageId') or image.get('image_id'), status)
    progress = image.get('Progress') or image.get('progress')
    if progress:
        message += ' (progress %s)' % progress
    for key in ('FailReason', 'StatusMessage', 'Message'):
        if image.get(key):
            message += ': %s' % image[key]
            break
    return message


def image_progress(image):
    """Percent done of an image being created, copied or imported: its Progress, else the slowest disk's."""
    if not image:
        return None
    value = _percent(image.get('Progress', image.get('progress')))
    if not value:
        mappings = image.get('DiskDeviceMappings') or {}
        disks = mappings.get('DiskDeviceMapping') if isinstance(mappings, dict) else mappings
        if not disks:
            disks = image.get('disk_device_mappings') or []
        values = [_percent(d.get('Progress', d.get('progress'))) for d in disks or []]
        values = [v for v in values if v is not None]
        if values:
            value = min(values)
    return value


def wait_image(client, image_id, timeout, region=None, target=('Available',), what=None, first_object=None,
               missing_grace=None, schedule=None, sleep=None, now=None, kind='image'):
    """Wait until the image's Status is in ``target``; returns the raw API image. Fails at once on
    CreateFailed/UnAvailable (unless targeted). A new image not listed yet is waited for (missing-object
    rule). Progress is reported as ``kind`` ('image', 'copy', 'import')."""
    if isinstance(target, str):
        target = (target,)
    what = what or 'image %s to be %s' % (image_id, '/'.join(target))

    def failed(image):
        if image.get('Status') in FAILED_STATUSES and image.get('Status') not in target:
            return image_failure_message(image)
        return None

    report = reporter(client, kind, image_id, region or getattr(client, 'region', None))
    return wait_until(lambda: describe_image(client, image_id, region=region),
                      lambda image: image is not None and image.get('Status') in target, failed, timeout, what,
                      progress=image_progress, first_object=first_object, missing_grace=missing_grace,
                      schedule=schedule, report=report,
                      sleep=sleep, now=now)


def wait_image_gone(client, image_id, timeout, region=None, sleep=None, now=None):
    """Wait until DescribeImages no longer lists the image (any status)."""
    return wait_until(lambda: describe_image(client, image_id, region=region), lambda image: image is None,
                      None, timeout, 'image %s to be removed' % image_id, first_delay=1.0,
                      report=reporter(client, 'image', image_id, region), sleep=sleep, now=now)


def wait_image_usable(client, image_id, timeout, region=None, sleep=None, now=None):
    """Wait until the image can be used (``images.image_usable``: Available/Deprecated and not ``Usable:
    false``; the cloud may report Available before Usable); fails at once on CreateFailed/UnAvailable.
    Returns the raw image."""

    def failed(image):
        if image.get('Status') in FAILED_STATUSES:
            return image_failure_message(image)
        return None

    return wait_until(lambda: describe_image(client, image_id, region=region), image_usable, failed, timeout,
                      'image %s to be usable' % image_id, progress=image_progress,
                      report=reporter(client, 'image', image_id, region or getattr(client, 'region', None)),
                      sleep=sleep, now=now)
