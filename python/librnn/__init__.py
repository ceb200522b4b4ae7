# SPDX-License-Identifier: Apache-2.0
"""librnn for Python: recurrent neural networks (SimpleRNN, LSTM, GRU, attention)
on oneDNN, through ctypes over the C library ``librnn.so.0``.

The library is found through ``LIBRNN_PATH`` when set (the path of the .so),
else through the system loader. See python/README.md for an example.

Failed library calls raise :class:`RnnError`; arguments the binding itself
refuses raise ``TypeError`` or ``ValueError``. Importing the package raises
``ImportError`` when the library cannot be loaded or is of another version.
"""
from __future__ import annotations

import sys
import traceback
from typing import Any, Callable

from . import _lib
from ._lib import RnnError, lib
from ._version import __version__
from .metrics import corpus_bleu, sentence_bleu, sequences
from .model import Callback, History, LambdaCallback, Layer, Model, load
from .keras_files import load_keras, load_keras_weights
from .onnx import load_onnx
from .optimizers import SGD, Adam, AdamW, Nadam, Optimizer, OptimizerConfig, RMSprop
from .tensor import Tensor

__all__ = [
    "Adam", "AdamW", "Callback", "History", "LambdaCallback", "Layer", "Model", "Nadam",
    "Optimizer", "OptimizerConfig", "RMSprop", "RnnError", "SGD", "Tensor", "corpus_bleu",
    "dtype_size", "get_num_threads", "last_error", "load", "load_keras", "load_keras_weights",
    "load_onnx", "memory_used", "sentence_bleu",
    "sequences", "set_allocator", "set_log_callback", "set_num_threads",
    "set_workspace_limit", "get_workspace_limit", "status_string", "version", "version_number",
    "__version__",
]


def version() -> str:
    """The C library's version string at run time (``rnn_version_string``).

    Returns:
        The version, e.g. "0.1.0" (the binding's ``__version__`` is the version
        it was written for).
    """
    return lib.rnn_version_string().decode()


def version_number() -> int:
    """The C library's version as a number (``rnn_version_number``).

    Returns:
        MAJOR * 10000 + MINOR * 100 + PATCH.
    """
    return lib.rnn_version_number()


def status_string(status: int) -> str:
    """English text of an ``rnn_status`` code (``rnn_status_string``).

    Args:
        status: The code, e.g. :attr:`RnnError.status`.

    Returns:
        The text (the library's text for unknown codes).
    """
    return lib.rnn_status_string(int(status)).decode()


def last_error() -> str:
    """Message of the last failed librnn call on this thread (``rnn_last_error``).

    Returns:
        The message, "" if none.
    """
    return lib.rnn_last_error().decode("utf-8", "replace")


def memory_used() -> int:
    """Bytes librnn currently holds through its allocator (``rnn_memory_used``).

    Returns:
        The number of bytes.
    """
    return lib.rnn_memory_used()


def set_workspace_limit(nbytes: int) -> None:
    """Caps each recurrent layer's training workspace (``rnn_set_workspace_limit``).

    A recurrent layer keeps every step's states and gates from its training
    forward for its backward. Above ``nbytes`` per layer and direction, it
    keeps one chunk of time and recomputes the others' forward during the
    backward pass (gradient checkpointing): the same results up to rounding,
    for about one more forward pass. See docs/guide/memory.md.

    Args:
        nbytes: The cap in bytes; 0 (the default) sets none.

    Raises:
        ValueError: ``nbytes`` is negative.
    """
    if int(nbytes) < 0:
        raise ValueError(f"set_workspace_limit: nbytes must be >= 0 (got {nbytes})")
    lib.rnn_set_workspace_limit(int(nbytes))


def get_workspace_limit() -> int:
    """The cap set by :func:`set_workspace_limit` (``rnn_get_workspace_limit``).

    Returns:
        Bytes, 0 for no cap.
    """
    return lib.rnn_get_workspace_limit()


def dtype_size(dtype: Any) -> int:
    """Bytes per element of a librnn dtype (``rnn_dtype_size``).

    Args:
        dtype: 'float32' or 'int32' (or the numpy dtype).

    Returns:
        4 for both.

    Raises:
        TypeError: ``dtype`` is neither float32 nor int32.
    """
    from .tensor import _dtype_code
    return lib.rnn_dtype_size(_dtype_code(dtype))


def set_num_threads(n: int) -> None:
    """Sets the threads for librnn and oneDNN computations (``rnn_set_num_threads``).

    Args:
        n: Number of threads; 0 restores the OpenMP default.

    Raises:
        RnnError: ``n`` < 0 or > 4096 (RNN_ERR_INVALID_ARG).
    """
    lib.rnn_set_num_threads(int(n))


def get_num_threads() -> int:
    """The threads librnn and oneDNN computations use (``rnn_get_num_threads``).

    Returns:
        The number of threads (the default resolved).
    """
    return lib.rnn_get_num_threads()


_log_state: dict[str, Any] = {}


def set_log_callback(fn: Callable[[int, str], Any] | None, max_level: str | int = "info") -> None:
    """Receives librnn's diagnostics (``rnn_set_log_callback``).

    ``fn`` may be called from any thread that calls librnn and must not call
    librnn itself; exceptions in it are printed and swallowed.

    Args:
        fn: Called as ``fn(level, message)`` (level 1 error .. 4 debug); None
            removes the callback.
        max_level: The most verbose level passed on: 'error', 'warn'
            ('warning'), 'info' or 'debug' (or 1..4). Defaults to "info".

    Raises:
        ValueError: ``max_level`` is not a level.
    """
    level = _lib.enum(_lib.LOG_LEVELS, max_level, "max_level")
    if fn is None:
        lib.rnn_set_log_callback(_lib.rnn_log_fn(), None, level)  # type: ignore[call-overload]
        _log_state.clear()
        return

    def log(user, lvl, msg):
        try:
            fn(lvl, msg.decode("utf-8", "replace") if msg else "")
        except BaseException:  # never unwind through C
            traceback.print_exc(file=sys.stderr)

    cb = _lib.rnn_log_fn(log)
    lib.rnn_set_log_callback(cb, None, level)
    _log_state["cb"] = cb  # alive while installed


_alloc_state: dict[str, Any] = {}


def set_allocator(alloc: Callable[[int], int | None] | None,
                  free: Callable[[int], Any] | None) -> None:
    """Replaces librnn's allocator (``rnn_set_allocator``).

    Allowed only while librnn holds no memory (``memory_used() == 0``).
    Exceptions in the functions count as out of memory (``alloc``) or are
    printed (``free``).

    Args:
        alloc: ``alloc(size) -> address`` (an int, 0 or None when out of
            memory); None, with ``free`` None too, restores malloc/free.
        free: ``free(address)``; None together with ``alloc``.

    Raises:
        RnnError: librnn holds memory (RNN_ERR_STATE).
    """
    if alloc is None and free is None:
        lib.rnn_set_allocator(_lib.rnn_alloc_fn(), _lib.rnn_free_fn(),  # type: ignore
                              None)
        _alloc_state.clear()
        return

    def a(user, size):
        try:
            return int(alloc(size) or 0) or None
        except BaseException:
            traceback.print_exc(file=sys.stderr)
            return None

    def f(user, ptr):
        try:
            free(ptr)
        except BaseException:
            traceback.print_exc(file=sys.stderr)

    ca, cf = _lib.rnn_alloc_fn(a), _lib.rnn_free_fn(f)
    lib.rnn_set_allocator(ca, cf, None)
    _alloc_state["cbs"] = (ca, cf)

