"""The client's request budget, built directly: each test fails on a one-line break of Budget.

A wait is observed without timing luck through ``acquire(until=...)``: with a deadline of
"now" it returns False exactly when the budget would make the caller wait, and counts nothing.
"""

from __future__ import annotations

import threading
import time

from tunnelframe._ratelimit import Budget


def _would_wait(budget: Budget) -> bool:
    return not budget.acquire(until=time.monotonic())


def _reply(remaining: int, reset_s: int) -> dict[str, str]:
    return {"Ratelimit": f'"default";r={remaining};t={reset_s}'}


def test_the_local_window_holds_the_request_after_limit() -> None:
    budget = Budget(2, 60)
    assert budget.acquire(until=time.monotonic())
    assert budget.acquire(until=time.monotonic())
    assert _would_wait(budget)


def test_requests_in_flight_are_taken_off_the_servers_count() -> None:
    budget = Budget(100, 60)
    for _ in range(3):
        assert budget.acquire()
    # The server says 2 left, but two other requests are still in flight and may not be in
    # its count yet: 2 - 2 = 0 left.
    budget.release(_reply(2, 60))
    assert _would_wait(budget)


def test_a_finished_request_is_no_longer_in_flight() -> None:
    budget = Budget(100, 60)
    assert budget.acquire()
    budget.release(None)
    assert budget.acquire()
    budget.release(_reply(1, 60))  # nothing else in flight: exactly one request left
    assert budget.acquire(until=time.monotonic())
    assert _would_wait(budget)  # and each request sent spends one


def test_an_older_higher_count_does_not_undo_a_newer_lower_one() -> None:
    budget = Budget(100, 60)
    assert budget.acquire()
    assert budget.acquire()
    budget.release(_reply(0, 60))  # the newer reply, arrived first
    budget.release(_reply(50, 60))  # an older reply of the same window, arrived late
    assert _would_wait(budget)


def test_a_shorter_reset_in_the_same_window_wins() -> None:
    budget = Budget(100, 60)
    assert budget.acquire()
    assert budget.acquire()
    budget.release(_reply(0, 1))
    budget.release(_reply(0, 60))
    assert _would_wait(budget)
    # the wait ends with the sooner reset (1 s), not after 60 s
    assert budget.acquire(until=time.monotonic() + 10)


def test_a_shorter_429_pause_does_not_cut_a_longer_one() -> None:
    budget = Budget(100, 60)
    budget.pause(60)
    budget.pause(0.5)
    assert not budget.acquire(until=time.monotonic() + 10)


def test_a_pause_holds_every_request_then_ends() -> None:
    budget = Budget(100, 60)
    budget.pause(0.5)
    assert _would_wait(budget)
    assert budget.acquire(until=time.monotonic() + 10)


def test_no_pause_is_longer_than_max_wait() -> None:
    budget = Budget(100, 60, max_wait=0.5)
    budget.pause(86400)
    assert budget.acquire(until=time.monotonic() + 10)


def test_a_cancelled_budget_sends_nothing() -> None:
    cancelled = threading.Event()
    budget = Budget(100, 60, cancelled=cancelled)
    cancelled.set()
    assert not budget.acquire()
