# SPDX-License-Identifier: Apache-2.0
"""The Python binding's data parallelism (librnn.mpi), run on every rank by
run_mpi.py (mpirun -np 2 python3 test_mpi_python.py PYTHON_DIR):

- Collective() on MPI_COMM_WORLD (librnn-mpi initializes MPI): a fit with
  the model attached gives every rank the same weights and figures, equal
  to one process' fit over the whole batches (computed on every rank), with
  the default progress thread and without it (progress_us=0);
- with mpi4py installed, Collective(comm) on a split of its communicator;
- errors: RNN_ERR_COLLECTIVE is in the status table, a closed collective
  is refused.

Each rank prints "PYTHON rank R: ok" or "PYTHON rank R: FAIL ..." and exits 1
on failure.
"""
import os
import sys

sys.path.insert(0, sys.argv[1])

import numpy as np  # noqa: E402

import librnn  # noqa: E402
from librnn import _lib  # noqa: E402
from librnn.mpi import Collective  # noqa: E402

T, V, C = 7, 20, 5


def data(n, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, size=n)
    x = rng.integers(1, V, size=(n, T)).astype(np.int32)
    y = rng.integers(0, C, size=(n, T)).astype(np.int32)
    for i, length in enumerate(lengths):
        x[i, length:] = 0
        y[i, length:] = 0
    return x, y


def model():
    m = librnn.Model(seed=42)
    m.input(shape=(T,), dtype="int32")
    m.embedding(V, 8, mask_zero=True)
    m.lstm(6, return_sequences=True, bidirectional=True)
    m.dense(C, activation="softmax")
    m.compile(loss="sparse_categorical_crossentropy", optimizer=librnn.SGD(0.1, momentum=0.9),
              reduction="masked_mean")
    return m


def weights(m):
    out = []
    for i in range(m.num_layers):
        for v in m.layer(i).params.values():
            out.append(np.asarray(v, dtype=np.float64).ravel())
    return np.concatenate(out)


def check_fit(coll, label):
    x, y = data(41, 1)
    xv, yv = data(9, 2)
    ref = model()
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, seed=3, validation_data=(xv, yv))
    m = model()
    m.set_collective(coll)
    assert m.collective_rank == (coll.rank, coll.size), m.collective_rank
    h = m.fit(x, y, batch_size=8, epochs=2, seed=3, validation_data=(xv, yv))
    w, wr = weights(m), weights(ref)
    rel = np.max(np.abs(w - wr)) / np.max(np.abs(wr))
    assert rel <= 1e-6, "%s: weights %g from one process" % (label, rel)
    for k in ("loss", "val_loss"):
        a, b = np.array(h.history[k]), np.array(h_ref.history[k])
        assert np.all(np.abs(a - b) <= 1e-5 * np.abs(b)), (label, k, a, b)
    s = coll.stats()
    assert s["allreduces"] > 0 and s["allreduce_bytes"] >= 4 * w.size, s
    m.sync_weights()
    m.set_collective(None)
    assert m.collective_rank == (0, 1)
    return rel, h.history["loss"], s


def main():
    rank = -1
    try:
        librnn.set_num_threads(1)
        assert _lib.STATUS_NAMES[14] == "RNN_ERR_COLLECTIVE"
        coll = Collective(timeout=float(os.environ.get("RNN_MPI_TIMEOUT", "60")))
        rank = coll.rank
        assert coll.size >= 2, coll.size
        rel, losses, s = check_fit(coll, "world")
        # librnn-mpi initialized MPI with MPI_THREAD_SERIALIZED: the default
        # progress thread ran; progress_us=0 goes without it
        assert s["progress_tests"] > 0, s
        with Collective(progress_us=0) as c0:
            rel0, _, s0 = check_fit(c0, "world without a progress thread")
            assert s0["progress_tests"] == 0 and s0["completed_by_progress"] == 0, s0
        notes = ["world: %.2g from one process, %d sums, %d progress tests; without the "
                 "thread %.2g" % (rel, s["allreduces"], s["progress_tests"], rel0)]
        try:
            from mpi4py import MPI  # noqa: F401
        except ImportError:
            notes.append("mpi4py not installed: its communicator is not tested")
        else:
            sub = MPI.COMM_WORLD.Split(0, MPI.COMM_WORLD.Get_rank())
            with Collective(sub) as c2:
                assert (c2.rank, c2.size) == (sub.Get_rank(), sub.Get_size())
                rel2, _, _ = check_fit(c2, "mpi4py")
            sub.Free()
            notes.append("mpi4py communicator: %.2g" % rel2)
        closed = Collective()
        closed.close()
        try:
            librnn.Model().set_collective(closed)
        except ValueError:
            pass
        else:
            raise AssertionError("a closed collective was accepted")
        coll.close()
        print("PYTHON rank %d: ok (%s)" % (rank, "; ".join(notes)), flush=True)
        return 0
    except Exception as e:  # every rank reports; mpirun ends the others
        print("PYTHON rank %d: FAIL %s: %s" % (rank, type(e).__name__, e), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
