# SPDX-License-Identifier: Apache-2.0
"""librnn for Python: recurrent neural networks (SimpleRNN, LSTM, GRU, attention)
on oneDNN, through ctypes over the C library ``librnn.so.0``.

The library is found through ``LIBRNN_PATH`` when set (the path of the .so),
else through the system loader. See python/README.md for an example.
"""
import sys
import traceback

from . import _lib
from ._lib import RnnError, lib
from ._version import __version__
from .metrics import corpus_bleu, sentence_bleu, sequences
from .model import Callback, History, LambdaCallback, Layer, Model, load
from .optimizers import SGD, Adam, AdamW, Nadam, Optimizer, OptimizerConfig, RMSprop
from .tensor import Tensor

__all__ = [
    "Adam", "AdamW", "Callback", "History", "LambdaCallback", "Layer", "Model", "Nadam",
    "Optimizer", "OptimizerConfig", "RMSprop", "RnnError", "SGD", "Tensor", "corpus_bleu",
    "dtype_size", "get_num_threads", "last_error", "load", "memory_used", "sentence_bleu",
    "sequences", "set_allocator", "set_log_callback", "set_num_threads", "status_string",
    "version", "version_number", "__version__",
]


def version():
    """The C library's version string at run time (rnn_version_string)."""
    return lib.rnn_version_string().decode()


def version_number():
    """MAJOR * 10000 + MINOR * 100 + PATCH of the C library."""
    return lib.rnn_version_number()


def status_string(status):
    """English text of an rnn_status code."""
    return lib.rnn_status_string(int(status)).decode()


def last_error():
    """Message of the last failed librnn call on this thread ("" if none)."""
    return lib.rnn_last_error().decode("utf-8", "replace")


def memory_used():
    """Bytes librnn currently holds through its allocator."""
    return lib.rnn_memory_used()


def dtype_size(dtype):
    """Bytes per element of 'float32' or 'int32'."""
    from .tensor import _dtype_code
    return lib.rnn_dtype_size(_dtype_code(dtype))


def set_num_threads(n):
    """Threads for librnn and oneDNN computations (0: the OpenMP default)."""
    lib.rnn_set_num_threads(int(n))


def get_num_threads():
    return lib.rnn_get_num_threads()


_log_state = {}


def set_log_callback(fn, max_level="info"):
    """Receives librnn's diagnostics as ``fn(level, message)`` (level 1 error ..
    4 debug), for messages up to ``max_level``; None removes it. ``fn`` may be
    called from any thread that calls librnn and must not call librnn itself;
    exceptions in it are printed and swallowed."""
    level = _lib.enum(_lib.LOG_LEVELS, max_level, "max_level")
    if fn is None:
        lib.rnn_set_log_callback(_lib.rnn_log_fn(), None, level)
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


_alloc_state = {}


def set_allocator(alloc, free):
    """Replaces librnn's allocator: ``alloc(size) -> address`` (an int, 0 when out
    of memory) and ``free(address)``; ``set_allocator(None, None)`` restores
    malloc/free. Allowed only while librnn holds no memory (memory_used() == 0).
    Exceptions in them count as out of memory (alloc) or are printed (free)."""
    if alloc is None and free is None:
        lib.rnn_set_allocator(_lib.rnn_alloc_fn(), _lib.rnn_free_fn(), None)
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

