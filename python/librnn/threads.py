# SPDX-License-Identifier: Apache-2.0
"""How many threads librnn's batch loops use (``rnn_set_thread_policy``).

``librnn.set_num_threads(n)`` sets the most threads a computation uses. Under
the default ``"adaptive"`` policy, ``fit``, ``evaluate``, ``predict`` and
decoding time their batches and run on fewer threads while that measures
faster (another process holding a core makes OpenMP threads spin for a
descheduled sibling); ``"fixed"`` always uses the configured count. See
docs/guide/threads.md.

Example::

    from librnn import threads
    threads.set_thread_policy("fixed")
"""
from __future__ import annotations

from ._lib import THREAD_POLICIES, enum, lib

__all__ = ["get_active_threads", "get_thread_policy", "set_thread_policy"]


def set_thread_policy(policy: str) -> None:
    """Sets the process-wide thread policy (``rnn_set_thread_policy``).

    Args:
        policy: "adaptive" (the default) or "fixed".

    Raises:
        ValueError: ``policy`` is neither.
    """
    lib.rnn_set_thread_policy(enum(THREAD_POLICIES, policy, "policy"))


def get_thread_policy() -> str:
    """The thread policy in force (``rnn_get_thread_policy``).

    Returns:
        "adaptive" or "fixed".
    """
    code = lib.rnn_get_thread_policy()
    return next(k for k, v in THREAD_POLICIES.items() if v == code)


def get_active_threads() -> int:
    """Threads the calling thread's last batch loop ran on (``rnn_get_active_threads``).

    Returns:
        During ``fit`` (from a callback) the count of the batch just done;
        afterwards the count the last fit, evaluate, predict or decoding ended
        with; ``get_num_threads()`` when none ran on this thread or the policy
        is "fixed".
    """
    return lib.rnn_get_active_threads()
