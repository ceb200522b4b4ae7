# SPDX-License-Identifier: Apache-2.0
"""Data-parallel training over MPI through librnn-mpi (``librnn-mpi.so.0``),
the optional part built with ``-Dmpi`` (docs/guide/distributed.md).

Run the same script on every rank (``mpirun -np 2 python3 train.py``)::

    import librnn
    from librnn.mpi import Collective

    coll = Collective()            # MPI_COMM_WORLD; or Collective(comm) with mpi4py
    model = build_and_compile()    # the same model on every rank
    model.set_collective(coll)     # rank 0's weights go to every rank
    hist = model.fit(x, y, batch_size=64, epochs=3)   # the same x, y everywhere
    if coll.rank == 0:
        model.save("model.rnn")

Each rank trains on its share of every global batch of ``batch_size``
samples, the gradients are summed over the ranks, and every rank ends with
the same weights and sees the same figures.

The library is found through ``LIBRNN_MPI_PATH`` (a file path) when set,
else next to librnn itself (``LIBRNN_PATH``'s folder), else through the
system loader; it is loaded (with its MPI, globally, as MPI's plug-ins need)
on first use, so ``import librnn`` works without it.
"""
from __future__ import annotations

import ctypes
import weakref
from ctypes import POINTER, Structure, c_double, c_int, c_int64, c_uint, c_uint32, c_void_p
from typing import Any

from . import _lib

SONAME = "librnn-mpi.so.0"
_handle: Any = None


class rnn_mpi_options(Structure):
    """The C struct ``rnn_mpi_options`` (include/rnn/mpi.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("timeout_seconds", c_double), ("flags", c_uint),
                ("progress_us", c_int)]


class rnn_mpi_stats(Structure):
    """The C struct ``rnn_mpi_stats`` (include/rnn/mpi.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("allreduces", c_int64),
                ("allreduce_bytes", c_int64), ("broadcasts", c_int64),
                ("broadcast_bytes", c_int64), ("completed_before_wait", c_int64),
                ("inflight_seconds", c_double), ("wait_seconds", c_double),
                ("broadcast_seconds", c_double), ("progress_tests", c_int64),
                ("completed_by_progress", c_int64)]


def _library() -> Any:
    """The loaded librnn-mpi with its functions declared.

    Returns:
        The ctypes library.

    Raises:
        ImportError: librnn-mpi cannot be found or loaded.
    """
    global _handle
    if _handle is not None:
        return _handle
    P = POINTER
    S = _lib.STATUS
    # RTLD_GLOBAL: Open MPI's components, loaded by libmpi with dlopen,
    # resolve libmpi's symbols globally (mpi4py loads it so as well)
    h, errors = _lib.load_optional(SONAME, "LIBRNN_MPI_PATH", "mpi", "rnn-mpi", {
        "rnn_mpi_options_init": (None, [P(rnn_mpi_options)]),
        "rnn_mpi_create": (S, [c_void_p, P(rnn_mpi_options), P(c_void_p)]),
        "rnn_mpi_create_world": (S, [P(rnn_mpi_options), P(c_void_p)]),
        "rnn_mpi_destroy": (None, [c_void_p]),
        "rnn_mpi_collective": (S, [c_void_p, P(P(_lib.rnn_collective))]),
        "rnn_mpi_get_stats": (S, [c_void_p, P(rnn_mpi_stats)]),
        "rnn_mpi_reset_stats": (S, [c_void_p])}, mode=ctypes.RTLD_GLOBAL)
    if h is None:
        why = ("cannot load %s (%s); install the Debian package librnn-mpi0, build librnn with "
               "-Dmpi (needs libopenmpi-dev) or set LIBRNN_MPI_PATH" % (SONAME, "; ".join(errors)))
        _lib.unsupported("librnn.mpi", why)  # librnn.last_error() says it too
        raise ImportError("librnn-mpi: " + why)
    probe = rnn_mpi_options()
    h.rnn_mpi_options_init(ctypes.byref(probe))
    if probe.struct_size != ctypes.sizeof(rnn_mpi_options):
        raise ImportError("librnn-mpi: rnn_mpi_options is %d bytes in the library, %d in the "
                          "binding" % (probe.struct_size, ctypes.sizeof(rnn_mpi_options)))
    _handle = h
    return h


def _destroy(h, handle):
    h.rnn_mpi_destroy(handle)


class Collective:
    """An MPI communicator for data-parallel training (``rnn_mpi``), to give to
    :meth:`librnn.Model.set_collective` on every rank.

    Creating and closing one are collective calls: every rank does them
    together. Close it (or let it be collected) after the models that use it;
    a model keeps the Collective it was given alive.

    Attributes:
        rank: This process' rank in the communicator.
        size: The number of ranks.
    """

    def __init__(self, comm: Any = None, timeout: float | None = None,
                 overlap: bool = True, progress_us: int | None = None) -> None:
        """Wraps ``comm`` (``rnn_mpi_create``), or MPI_COMM_WORLD.

        Args:
            comm: An mpi4py communicator (its handle is passed by address, as
                ``MPI._addressof(comm)`` gives it), or None for MPI_COMM_WORLD,
                initializing MPI when nobody has (``rnn_mpi_create_world``; MPI
                is then finalized when this object is closed). Defaults to None.
            timeout: Seconds a wait for the other ranks may last before the
                training call fails with RNN_ERR_COLLECTIVE; None: the library's
                default (120 s) or the RNN_MPI_TIMEOUT environment variable.
                Defaults to None.
            overlap: Sum each layer's gradients while the backward of the layers
                below runs (False: after the whole backward, for measuring).
                Defaults to True.
            progress_us: The progress thread that moves the sums on while the
                backward runs: None for the library's default (one testing
                every 50 us when MPI's thread level allows it, or the
                RNN_MPI_PROGRESS environment variable), 0 for none, N > 0 for
                one testing every N microseconds (refused when MPI was
                initialized below MPI_THREAD_SERIALIZED). Defaults to None.

        Raises:
            ImportError: librnn-mpi is not installed, or ``comm`` is given
                without mpi4py.
            RnnError: MPI is not initialized or was finalized (RNN_ERR_STATE),
                a bad timeout (RNN_ERR_INVALID_ARG), or MPI failed
                (RNN_ERR_COLLECTIVE).
        """
        h = _library()
        o = rnn_mpi_options()
        h.rnn_mpi_options_init(ctypes.byref(o))
        if timeout is not None:
            o.timeout_seconds = float(timeout)
        if not overlap:
            o.flags = 1  # RNN_COLLECTIVE_NO_OVERLAP
        if progress_us is not None:
            o.progress_us = int(progress_us)
        out = c_void_p()
        if comm is None:
            h.rnn_mpi_create_world(ctypes.byref(o), ctypes.byref(out))
        else:
            from mpi4py import MPI  # only for a communicator of its own
            h.rnn_mpi_create(c_void_p(MPI._addressof(comm)), ctypes.byref(o),
                             ctypes.byref(out))
        self._h = out
        self._lib = h
        self._fin = weakref.finalize(self, _destroy, h, out)
        coll = POINTER(_lib.rnn_collective)()
        h.rnn_mpi_collective(out, ctypes.byref(coll))
        self._coll = coll
        self.rank = int(coll.contents.rank)
        self.size = int(coll.contents.size)

    def _collective(self) -> Any:
        if not self._fin.alive:
            raise ValueError("collective is closed")
        return self._coll

    def close(self) -> None:
        """Releases the communicator (``rnn_mpi_destroy``; a collective call), and
        finalizes MPI when this object initialized it; idempotent."""
        self._fin()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` released the communicator."""
        return not self._fin.alive

    def stats(self) -> dict[str, float]:
        """What the collectives did so far on this rank (``rnn_mpi_get_stats``).

        Returns:
            A dict: "allreduces", "allreduce_bytes", "broadcasts",
            "broadcast_bytes", "completed_before_wait" (sums already done when
            the training loop came to wait for them), "inflight_seconds" (time
            the sums ran behind computation), "wait_seconds" (time blocked
            waiting for them), "broadcast_seconds", "progress_tests" (tests
            the progress thread made) and "completed_by_progress" (sums it
            found complete).

        Raises:
            ValueError: The collective is closed.
        """
        self._collective()
        s = rnn_mpi_stats()
        s.struct_size = ctypes.sizeof(s)
        self._lib.rnn_mpi_get_stats(self._h, ctypes.byref(s))
        return {name: getattr(s, name) for name, _ in s._fields_ if name != "struct_size"}

    def reset_stats(self) -> None:
        """Sets the statistics back to zero (``rnn_mpi_reset_stats``).

        Raises:
            ValueError: The collective is closed.
        """
        self._collective()
        self._lib.rnn_mpi_reset_stats(self._h)

    def __enter__(self) -> Collective:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<librnn.mpi.Collective closed>"
        return "<librnn.mpi.Collective rank=%d size=%d>" % (self.rank, self.size)


__all__ = ["Collective"]
