"""Test helpers shared by every app's tests: running calls at the same moment in threads."""

import threading
from collections.abc import Callable, Sequence

from django.db import connection

# Long enough for a loaded CI machine; a thread still running after it fails the test.
JOIN_TIMEOUT = 120


def run_concurrently(calls: Sequence[Callable[[], object]], *, timeout: float = JOIN_TIMEOUT):
    """Run every callable in its own thread, all released at once by a barrier.

    Each thread has its own database connection (Django gives one per thread), closed when
    the call ends, so the calls really race in the database (use a transactional test).
    Returns one outcome per call, in order: what it returned, or the exception it raised.
    Fails if a thread is still running after `timeout` seconds.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except BaseException as exc:  # handed to the test, which asserts on it
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {len(threads)} concurrent calls still running after {timeout}s"
    return outcomes


def raised(outcomes: Sequence[object]) -> list[BaseException]:
    """The exceptions among the outcomes of run_concurrently."""
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
