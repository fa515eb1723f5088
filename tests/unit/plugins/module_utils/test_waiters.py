# -*- coding: utf-8 -*-
"""The waiter engine (plugins/module_utils/waiters.py) with a fake clock: progress-aimed polls, the poll-rate
limit, the missing-object rule, failed states, deadlines, ApiError annotation and progress reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import client as C
from ansible_collections.alicloud.ecs_images.plugins.module_utils import waiters as W
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import ALL_IMAGE_STATUSES


class Sequence:
    """fetch() returning the given objects in order, then the last one forever; records poll times."""

    def __init__(self, clock, *objs):
        self.clock = clock
        self.objs = list(objs)
        self.times = []

    def __call__(self):
        self.times.append(self.clock.now())
        return self.objs.pop(0) if len(self.objs) > 1 else self.objs[0]


class Linear:
    """A resource going linearly from 0 to 100 % in ``duration`` seconds (after ``queued`` seconds at 0 %),
    reported in whole percent, rounded down; then Available."""

    def __init__(self, clock, duration, queued=0.0, visible_after=0.0, progress_key='progress'):
        self.clock = clock
        self.start = clock.now()
        self.duration = duration
        self.queued = queued
        self.visible_after = visible_after
        self.key = progress_key
        self.times = []

    @property
    def ready_at(self):
        return self.start + self.queued + self.duration

    def __call__(self):
        now = self.clock.now()
        self.times.append(now)
        elapsed = now - self.start
        if elapsed < self.visible_after:
            return None
        if now >= self.ready_at:
            return {'status': 'Available', self.key: '100%'}
        running = max(0.0, elapsed - self.queued)
        return {'status': 'Waiting' if elapsed < self.queued else 'Creating',
                self.key: '%d%%' % int(100 * running / self.duration)}


def wait_linear(clock, resource, timeout=7200, **kwargs):
    return W.wait_until(resource, lambda o: o is not None and o['status'] == 'Available', timeout=timeout,
                        progress=lambda o: o.get('progress'), sleep=clock.sleep, now=clock.now, **kwargs)


def polls_per_minute(times, duration):
    return len(times) / (duration / 60.0)


# ------------------------------------------------------------------------------------------- the schedule

@pytest.mark.parametrize('duration', [60.0, 90.0, 123.4, 300.0, 600.0, 1800.0, 7000.0])
def test_progress_wait_notices_completion_quickly_and_polls_gently(duration):
    clock = FakeClock(start=0.0)
    resource = Linear(clock, duration)
    obj = wait_linear(clock, resource)
    assert obj['status'] == 'Available'
    latency = resource.times[-1] - resource.ready_at
    assert 0 <= latency < 1.0, (latency, resource.times)
    assert polls_per_minute(resource.times, duration) <= W.POLLS_PER_MINUTE, resource.times
    gaps = [b - a for a, b in zip(resource.times, resource.times[1:])]
    assert max(gaps) <= W.MAX_INTERVAL + 1e-9


def test_queued_phase_then_progress_is_followed():
    clock = FakeClock(start=0.0)
    resource = Linear(clock, duration=300.0, queued=120.0)
    wait_linear(clock, resource)
    assert 0 <= resource.times[-1] - resource.ready_at < 1.0
    assert polls_per_minute(resource.times, 420.0) <= W.POLLS_PER_MINUTE


def test_rate_limit_holds_even_for_an_eager_schedule():
    """No progress, and a schedule asking for a poll every 0.1 s: the token bucket keeps the average."""
    clock = FakeClock(start=0.0)
    fetch = Sequence(clock, {'status': 'Creating'})
    schedule = W.PollSchedule(first_delay=0.1, min_interval=0.1, max_interval=0.1)
    with pytest.raises(W.WaitTimeout):
        W.wait_until(fetch, lambda o: False, timeout=600, schedule=schedule, sleep=clock.sleep, now=clock.now)
    assert len(fetch.times) <= W.POLL_BURST + 600 * W.POLLS_PER_MINUTE / 60.0 + 1
    assert len(fetch.times) >= 600 * W.POLLS_PER_MINUTE / 60.0 - 1


def test_without_progress_the_delays_back_off_to_the_cap():
    clock = FakeClock(start=0.0)
    fetch = Sequence(clock, {'status': 'Stopping'})
    with pytest.raises(W.WaitTimeout):
        W.wait_until(fetch, lambda o: False, timeout=600, sleep=clock.sleep, now=clock.now)
    gaps = [b - a for a, b in zip(fetch.times, fetch.times[1:])]
    assert gaps[0] == pytest.approx(W.FIRST_DELAY)
    assert gaps == sorted(gaps[:-1]) + gaps[-1:]        # never shorter than the one before (but the last)
    assert max(gaps) <= W.MAX_INTERVAL + 1e-9
    assert fetch.times[-1] == pytest.approx(600.0)      # a last poll at the deadline, not later


class Transition:
    """A resource without progress (an instance) that reaches ``Stopped`` ``duration`` seconds after the wait
    started; records poll times."""

    def __init__(self, clock, duration):
        self.clock = clock
        self.ready_at = clock.now() + duration
        self.times = []

    def __call__(self):
        self.times.append(self.clock.now())
        return {'status': 'Stopped' if self.clock.now() >= self.ready_at else 'Stopping'}


def wait_transition(clock, duration, expected, timeout=600):
    resource = Transition(clock, duration)
    W.wait_until(resource, lambda o: o['status'] == 'Stopped', timeout=timeout, expected=expected,
                 sleep=clock.sleep, now=clock.now)
    return resource


@pytest.mark.parametrize('expected', [5.0, 10.0, 15.0, 20.0, 40.0, 90.0])
def test_expected_duration_is_noticed_at_once_and_polls_are_earned(expected):
    """A transition that takes its typical time: noticed within the margin, and the polls of the wait never
    exceed the rate (the bucket starts empty; a probe only when it leaves a token for the aimed poll)."""
    clock = FakeClock(start=0.0)
    resource = wait_transition(clock, expected, expected)
    latency = resource.times[-1] - resource.ready_at
    assert 0 <= latency <= W.MARGIN + 1e-9, resource.times
    assert len(resource.times) <= 1 + expected * W.POLLS_PER_MINUTE / 60.0, resource.times
    assert resource.times[0] > 0                         # no poll at once: the transition was just requested
    assert len(resource.times) == (2 if expected * W.POLLS_PER_MINUTE / 60.0 >= 2 else 1), resource.times


def test_expected_duration_probe_sees_a_fast_transition():
    """Transitions of 20 s or more are probed once early: a cloud (or emulator) faster than typical is
    noticed at the probe."""
    clock = FakeClock(start=0.0)
    resource = wait_transition(clock, 0.5, 40.0)
    assert resource.times == [pytest.approx(W.FIRST_DELAY)]


@pytest.mark.parametrize('duration', [12.0, 25.0, 60.0])
def test_longer_than_expected_is_repolled_within_the_rate(duration):
    clock = FakeClock(start=0.0)
    resource = wait_transition(clock, duration, 10.0)
    assert resource.times[0] == pytest.approx(10.0 + W.MARGIN)
    latency = resource.times[-1] - resource.ready_at
    assert 0 <= latency <= 60.0 / W.POLLS_PER_MINUTE + 1e-6, resource.times
    assert len(resource.times) <= 1 + (resource.times[-1]) * W.POLLS_PER_MINUTE / 60.0, resource.times


def test_a_short_transition_pays_no_token_debt():
    """A 5 s transition (forced stop) is read once at its typical end; when it takes a little longer, the next
    read comes one token's time (10 s) after that, not after paying back a debt for the early first read."""
    clock = FakeClock(start=0.0)
    resource = wait_transition(clock, 6.0, 5.0)
    assert resource.times[0] == pytest.approx(5.0 + W.MARGIN)
    assert resource.times[1] == pytest.approx(5.0 + 60.0 / W.POLLS_PER_MINUTE)


def test_expected_duration_waits_are_bounded_by_the_timeout():
    clock = FakeClock(start=0.0)
    resource = Transition(clock, 1000.0)
    with pytest.raises(W.WaitTimeout):
        W.wait_until(resource, lambda o: o['status'] == 'Stopped', timeout=5, expected=10.0,
                     sleep=clock.sleep, now=clock.now)
    assert resource.times == [pytest.approx(5.0)]


def test_schedule_aims_just_after_the_latest_possible_end():
    s = W.PollSchedule(margin=0.3, min_interval=1.0, max_interval=30.0)
    s.observe(0, 10)
    s.observe(10, 20)            # 1 %/s; 10 <= t + c < 11 and 20 <= 10 + c < 21: c in [10, 11) -> end <= 90
    assert s.finish_time() == pytest.approx(90.0)
    # too far: poll at the cap at most, when the percent changes if c were 10.5 (halves the uncertainty)
    assert s.wanted_delay(10) == pytest.approx(29.5, abs=0.01)
    for t in (39.5, 69.5, 84.25):   # true offset 10.8: the end is at 89.2
        s.observe(t, int(t + 10.8))
    assert abs(s.finish_time() - 89.2) < 0.3
    # at most 0.3 s after the latest possible end (earlier: a poll that narrows the estimate first)
    assert 1.0 <= s.wanted_delay(84.25) <= s.finish_time() + 0.3 - 84.25 + 1e-9


def test_schedule_narrows_the_end_with_every_sample():
    s = W.PollSchedule()
    for t in (0.0, 13.0, 29.0, 47.3):     # true progress 0.7 %/s + 0.45: floor() as the cloud reports it
        s.observe(t, int(0.7 * t + 0.45))
    true_end = (100 - 0.45) / 0.7
    assert 0 <= s.finish_time() - true_end < 1 / 0.7     # less than one percent


def test_schedule_keeps_min_interval_before_the_aimed_poll():
    s = W.PollSchedule(margin=0.3, min_interval=1.0, max_interval=30.0)
    s.observe(0, 1)
    s.observe(1, 2)              # 1 %/s, c in [1, 2) -> end <= 99
    # at t=68.5 the target is 30.8 s away (> cap 30): polling at the cap would leave 0.8 s (< min interval);
    # the poll comes when the percent changes if c were 1.5: at 97.5
    assert s.wanted_delay(68.5) == pytest.approx(29.0, abs=0.01)


def test_schedule_repolls_soon_when_the_aimed_poll_was_early_and_backs_off():
    s = W.PollSchedule(margin=0.3, min_interval=1.0, max_interval=30.0, factor=1.5)
    s.observe(0, 50)
    s.observe(10, 99)            # 4.9 %/s: the end is at most 0.2 s after t=10: aim
    first = s.wanted_delay(10)
    assert 0 < first < 1.0
    s.observe(10.5, 100)         # 100 % but not done (e.g. Usable lags Status): back off from min_interval
    assert s.wanted_delay(10.5) == pytest.approx(1.0)
    assert s.wanted_delay(11.5) == pytest.approx(1.5)
    assert s.wanted_delay(13.0) == pytest.approx(2.25)


def test_schedule_restarts_when_progress_goes_back():
    s = W.PollSchedule()
    s.observe(0, 50)
    s.observe(1, 60)
    assert s.finish_time() is not None
    s.observe(2, 5)
    assert s.finish_time() is None


def test_poll_times_documents_the_schedule():
    times = W.poll_times(120.0)
    assert times[0] == 0 and 120.0 <= times[-1] < 121.0
    assert len(times) <= 120.0 / 60.0 * W.POLLS_PER_MINUTE


# ----------------------------------------------------------------------------------- outcomes and rules

def test_failed_state_fails_at_once_with_the_message():
    clock = FakeClock()
    fetch = Sequence(clock, {'s': 'Creating'}, {'s': 'CreateFailed'}, {'s': 'Available'})
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_until(fetch, lambda o: o['s'] == 'Available', lambda o: 'broken' if o['s'] == 'CreateFailed' else None,
                     timeout=600, sleep=clock.sleep, now=clock.now)
    assert str(exc.value) == 'broken' and exc.value.failed is True and len(fetch.times) == 2
    assert exc.value.last == {'s': 'CreateFailed'} and exc.value.polls == 2
    assert isinstance(exc.value, W.WaitTimeout)         # except WaitTimeout catches both


def test_zero_timeout_polls_once():
    clock = FakeClock()
    fetch = Sequence(clock, {'status': 'Creating'})
    with pytest.raises(W.WaitTimeout) as exc:
        W.wait_until(fetch, lambda o: False, timeout=0, sleep=clock.sleep, now=clock.now)
    assert len(fetch.times) == 1 and clock.sleeps == [] and not exc.value.failed


def test_first_object_saves_the_first_poll():
    clock = FakeClock()
    fetch = Sequence(clock, {'status': 'Available'})
    obj = W.wait_until(fetch, lambda o: o['status'] == 'Available', timeout=60, first_object={'status': 'Creating'},
                       sleep=clock.sleep, now=clock.now)
    assert obj == {'status': 'Available'} and len(fetch.times) == 1 and clock.sleeps == [W.FIRST_DELAY]


def test_timeout_message_names_the_wait_and_last_state():
    clock = FakeClock()
    fetch = Sequence(clock, {'status': 'Creating', 'progress': '42%'})
    with pytest.raises(W.WaitTimeout) as exc:
        W.wait_until(fetch, lambda o: False, timeout=100, what='image m-1 to be Available',
                     progress=lambda o: o['progress'], sleep=clock.sleep, now=clock.now)
    text = str(exc.value)
    assert 'timed out after 100s waiting for image m-1 to be Available' in text and 'Creating, 42%' in text
    assert clock.now() - 1000.0 == pytest.approx(100.0)


def test_new_resource_not_listed_yet_is_waited_for_until_the_timeout():
    """The real cloud lists new images late: misses are tolerated (not 3 polls) until the resource shows up."""
    clock = FakeClock(start=0.0)
    resource = Linear(clock, duration=300.0, visible_after=45.0)
    obj = wait_linear(clock, resource)
    assert obj['status'] == 'Available' and sum(1 for t in resource.times if t < 45.0) > 3


def test_missing_until_the_deadline_is_a_timeout_saying_not_found():
    clock = FakeClock()
    fetch = Sequence(clock, None)
    with pytest.raises(W.WaitTimeout) as exc:
        W.wait_until(fetch, lambda o: o is not None, timeout=300, what='image m-1 to be Available',
                     sleep=clock.sleep, now=clock.now)
    assert not exc.value.failed and 'was not found' in str(exc.value) and exc.value.last is None
    assert clock.now() - 1000.0 == pytest.approx(300.0)


def test_missing_grace_fails_once_exceeded():
    clock = FakeClock()
    fetch = Sequence(clock, {'status': 'Creating'}, None)
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_until(fetch, lambda o: o is not None and o['status'] == 'Available', timeout=3600,
                     what='copy m-1', missing_grace=60, sleep=clock.sleep, now=clock.now)
    assert 'copy m-1 no longer exists' in str(exc.value)
    assert 60 <= clock.now() - 1000.0 <= 60 + W.MAX_INTERVAL + W.FIRST_DELAY


def test_waiting_for_removal_returns_none():
    clock = FakeClock()
    fetch = Sequence(clock, {'status': 'Available'}, {'status': 'Available'}, None)
    assert W.wait_until(fetch, lambda o: o is None, timeout=60, sleep=clock.sleep, now=clock.now) is None
    assert len(fetch.times) == 3


def test_api_error_during_the_wait_propagates_marked():
    clock = FakeClock()
    calls = []

    def fetch():
        calls.append(1)
        if len(calls) > 1:
            raise C.ApiError('DescribeImages', 'InternalError', 'boom', http_status=500, attempts=8)
        return {'status': 'Creating'}

    with pytest.raises(C.ApiError) as exc:
        W.wait_until(fetch, lambda o: False, timeout=60, what='image m-1 to be Available', sleep=clock.sleep,
                     now=clock.now)
    assert exc.value.during == 'waiting for image m-1 to be Available' and exc.value.code == 'InternalError'


def test_every_poll_is_reported(monkeypatch):
    clock = FakeClock(start=0.0)
    sent = []
    monkeypatch.setattr(W.progress_transport, 'emit', lambda *a, **k: sent.append((a, k)))
    resource = Linear(clock, duration=60.0)
    W.wait_until(resource, lambda o: o is not None and o['status'] == 'Available', timeout=600,
                 progress=lambda o: o['progress'], report=W.reporter(None, 'copy', 'm-1', 'cn-beijing'),
                 sleep=clock.sleep, now=clock.now)
    assert len(sent) == len(resource.times)
    args, kwargs = sent[-1]
    assert args == (None, 'copy', 'm-1') and kwargs['region'] == 'cn-beijing'
    assert kwargs['status'] == 'Available' and kwargs['percent'] == 100
    assert all(isinstance(k['percent'], int) for a, k in sent)


def test_reporter_finds_the_ansible_module():
    class Ansible:
        def exit_json(self):
            pass

    class Alicloud:
        def __init__(self):
            self.module = Ansible()

    class Client:
        def __init__(self):
            self.progress_module = Alicloud()

    assert W._ansible_module(Client()).__class__ is Ansible
    assert W._ansible_module(Alicloud()).__class__ is Ansible
    assert W._ansible_module(object()) is None


# ------------------------------------------------------------------------------------------- image waits

class FakeEcs:
    """DescribeImages answers from scripted states (one per call, the last repeats)."""

    def __init__(self, images):
        self.images = list(images)
        self.calls = []

    def call(self, action, params=None, client_token=None, region=None):
        self.calls.append((action, dict(params or {}), region))
        assert action == 'DescribeImages'
        image = self.images.pop(0) if len(self.images) > 1 else self.images[0]
        return {'Images': {'Image': [image] if image else []}}


def test_wait_image_passes_every_status_and_region():
    clock = FakeClock()
    ecs = FakeEcs([{'ImageId': 'm-1', 'Status': 'Creating', 'Progress': '10%'},
                   {'ImageId': 'm-1', 'Status': 'Available', 'Progress': '100%'}])
    image = W.wait_image(ecs, 'm-1', 600, region='cn-beijing', sleep=clock.sleep, now=clock.now)
    assert image['Status'] == 'Available'
    _action, params, region = ecs.calls[0]
    assert params == {'ImageId': 'm-1', 'Status': ALL_IMAGE_STATUSES} and region == 'cn-beijing'


def test_wait_image_create_failed_fails_at_once_with_the_cloud_message():
    clock = FakeClock()
    ecs = FakeEcs([{'ImageId': 'm-1', 'Status': 'Creating', 'Progress': '40%'},
                   {'ImageId': 'm-1', 'Status': 'CreateFailed', 'Progress': '40%', 'FailReason': 'disk unreadable'}])
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_image(ecs, 'm-1', 600, sleep=clock.sleep, now=clock.now)
    assert str(exc.value) == 'image m-1 is CreateFailed (progress 40%): disk unreadable' and len(ecs.calls) == 2


def test_wait_image_tolerates_late_listing():
    clock = FakeClock()
    ecs = FakeEcs([None] * 6 + [{'ImageId': 'm-1', 'Status': 'Available'}])
    assert W.wait_image(ecs, 'm-1', 600, sleep=clock.sleep, now=clock.now)['Status'] == 'Available'
    assert len(ecs.calls) == 7


def test_image_progress_falls_back_to_the_slowest_disk():
    assert W.image_progress({'Progress': '37%'}) == 37
    raw = {'Progress': '', 'DiskDeviceMappings': {'DiskDeviceMapping': [{'Progress': '80%'}, {'Progress': '20%'}]}}
    assert W.image_progress(raw) == 20
    assert W.image_progress({'progress': 0, 'disk_device_mappings': [{'progress': '55%'}]}) == 55
    assert W.image_progress(None) is None


def test_reporter_each_sends_one_line_per_resource(monkeypatch):
    clock = FakeClock(start=0.0)
    sent = []
    monkeypatch.setattr(W.progress_transport, 'emit', lambda *a, **k: sent.append((a, k)))
    monkeypatch.setattr(W.progress_transport, 'flush', lambda module: sent.append(('flush', {})))
    states = iter([{'i-2': {'Status': 'Pending'}, 'i-1': {'Status': 'Starting'}},
                   {'i-1': {'Status': 'Running'}, 'i-2': {'Status': 'Running'}}])
    W.wait_until(lambda: next(states), lambda found: all(i['Status'] == 'Running' for i in found.values()),
                 timeout=600, report=W.reporter_each(None, 'instance', 'cn-beijing'),
                 sleep=clock.sleep, now=clock.now)
    assert [(a[2], k['status']) if a != 'flush' else a for a, k in sent] == [
        ('i-1', 'Starting'), ('i-2', 'Pending'), 'flush', ('i-1', 'Running'), ('i-2', 'Running'), 'flush']
    assert all(a[:2] == (None, 'instance') and k['region'] == 'cn-beijing' for a, k in sent if a != 'flush')
