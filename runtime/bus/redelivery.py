"""A message a consumer failed on: when to deliver it again, and what to log.

A database outage heals by itself: the message comes again after the bus's base delay and
the failure is logged at debug level (the store logs the outage once, as a warning). So
does a record that arrived before an earlier one of its log (``transient``). Any other
failure is a bug or an event the consumer cannot apply; delivering it again every fraction
of a second would write the same traceback to the log thousands of times a minute and keep
a core busy. So its delay doubles with each failed delivery up to ``MAX_DELAY``, its
traceback is logged at the first failure, and after that one line at the 2nd, 4th, 8th, ...
failure. Meanwhile the consumer's lag shows the stall (``/readyz``, ``kim.consumer.lag``).
"""

from __future__ import annotations

import logging

from runtime.eventstore.outage import unavailable

MAX_DELAY = 30.0
"""Seconds: the longest wait before a failing message is delivered again."""


def transient(exc: BaseException) -> bool:
    """A failure that heals by itself: the database away, or a record early."""
    return unavailable(exc) or bool(getattr(exc, "transient", False))


def delay_after(base: float, attempt: int, exc: BaseException) -> float:
    """Seconds to wait before the delivery after failed delivery number ``attempt``."""
    if transient(exc):
        return base
    return min(MAX_DELAY, base * float(2 ** min(max(attempt, 1) - 1, 16)))


def log_attempt(
    logger: logging.Logger, exc: BaseException, attempt: int, message: str, *args: object
) -> None:
    """Log failed delivery number ``attempt`` of one message (see the module docstring)."""
    if transient(exc):
        logger.debug(message + " (%s: %s)", *args, type(exc).__name__, exc)
    elif attempt <= 1:
        logger.error(message, *args, exc_info=exc)
    elif attempt & (attempt - 1) == 0:  # 2, 4, 8, ...: a line, without the traceback again
        logger.error(
            message + " (failed %d times; last: %s: %s)", *args, attempt, type(exc).__name__, exc
        )
