"""The run's main thread waits on its slots with a stop signal's handler running in that same
thread: a second Ctrl-C that lands after the thread has looked at the time left and before it
waits notifies no one, and the wait was the one chosen before, the first signal's 30 s
(tests/test_tune_stop_button.py took 30 s in about 1 of 5 runs of the file); a first signal
landing so waited until a slot ended. The wait now looks again at least every
LOOK_AGAIN_SECONDS. Played here with an event (the slots' ``slots_changed``, which the main
thread waits on since the view's lock may be held by a slot computing a suggestion) whose wait is
entered just after such a signal: what it was asked to wait is recorded, no time passes."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from kfp_tune.steps.slots import INTERRUPT_WAIT_SECONDS, LOOK_AGAIN_SECONDS, _Schedule


class SignalLandsBeforeTheWait(threading.Event):
    """Each wait is entered just after a stop signal's handler ran (without a notify this wait
    could see); the second wait finds the slots ended."""

    def __init__(self, schedule: SimpleNamespace, second_signal: bool):
        super().__init__()
        self.schedule, self.second_signal = schedule, second_signal
        self.timeouts: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.timeouts.append(timeout)
        if len(self.timeouts) == 1:
            if self.second_signal:
                self.schedule.wait_until = time.monotonic()  # the second signal: stop waiting now
            else:
                self.schedule.interrupted = "SIGINT"
                self.schedule.wait_until = time.monotonic() + INTERRUPT_WAIT_SECONDS
        else:
            self.schedule.slots_alive = 0
        return False


@pytest.mark.parametrize("second_signal", [True, False], ids=["second-signal", "first-signal"])
def test_a_signal_that_lands_before_the_wait_is_seen_within_a_second(second_signal: bool) -> None:
    schedule: Any = SimpleNamespace(slots_alive=1, interrupted="SIGINT" if second_signal else "",
                                    wait_until=time.monotonic() + INTERRUPT_WAIT_SECONDS)
    schedule.slots_changed = SignalLandsBeforeTheWait(schedule, second_signal)
    _Schedule.wait_for_slots(schedule)
    first = schedule.slots_changed.timeouts[0]
    assert first is not None and first <= LOOK_AGAIN_SECONDS  # not the 30 s chosen before, nor for ever
    assert len(schedule.slots_changed.timeouts) == (1 if second_signal else 2)  # the second signal ends the wait at the next look
