"""Scaled simulation clock.

Simulated durations are multiplied by ``time_scale`` to get real seconds; state machines store the real
time a transition started and compute their status lazily when read (no background threads).
"""
import threading
import time


class Clock:
    def __init__(self, time_scale=1.0):
        self._lock = threading.Lock()
        self.time_scale = float(time_scale)

    def now(self):
        return time.time()

    def scaled(self, sim_seconds):
        """Real seconds that ``sim_seconds`` of simulated time take."""
        return float(sim_seconds) * self.time_scale

    def set_time_scale(self, time_scale):
        with self._lock:
            self.time_scale = float(time_scale)
