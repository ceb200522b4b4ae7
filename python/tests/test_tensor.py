# SPDX-License-Identifier: Apache-2.0
"""Tensors: zero-copy wrapping of numpy arrays, views, conversions, element
access, lifetimes (finalizers, context managers, interpreter shutdown)."""
import gc
import os
import subprocess
import sys
import textwrap
import unittest

import numpy as np

import librnn
from librnn import Tensor

from _util import PYDIR


class TestTensor(unittest.TestCase):
    def test_zeros_and_properties(self):
        with Tensor.zeros((2, 3, 4)) as t:
            self.assertEqual(t.shape, (2, 3, 4))
            self.assertEqual(t.ndim, 3)
            self.assertEqual(t.size, 24)
            self.assertEqual(t.nbytes, 96)
            self.assertEqual(t.dtype, np.float32)
            self.assertEqual(t.dim(-1), 4)
            self.assertEqual(len(t), 2)
            self.assertTrue(np.array_equal(t.numpy(), np.zeros((2, 3, 4), np.float32)))
            self.assertIn("(2, 3, 4)", repr(t))
        i = Tensor.zeros((5,), "int32")
        self.assertEqual(i.dtype, np.int32)
        s = Tensor.zeros(())
        self.assertEqual(s.shape, ())
        s[()] = 2.5
        self.assertEqual(s[()], 2.5)

    def test_wrap_is_zero_copy_both_ways(self):
        a = np.arange(12, dtype=np.float32).reshape(3, 4)
        t = Tensor.wrap(a)
        self.assertEqual(t.data_ptr(), a.ctypes.data)
        self.assertEqual(t[1, 2], 6.0)
        a[1, 2] = 42.0
        self.assertEqual(t[1, 2], 42.0)      # the tensor reads the array
        t[0, 0] = -1.0
        self.assertEqual(a[0, 0], -1.0)      # writes go to the array
        t.fill(3.0)
        self.assertTrue((a == 3.0).all())
        v = t.numpy(copy=False)
        self.assertTrue(np.shares_memory(v, a))
        self.assertFalse(np.shares_memory(t.numpy(), a))

    def test_wrap_keeps_the_array_alive(self):
        a = np.arange(1000, dtype=np.int32)
        t = Tensor.wrap(a)
        del a
        gc.collect()
        junk = [np.full(1000, 7, np.int32) for _ in range(50)]  # reuse freed memory if any
        self.assertEqual(t[999], 999)
        self.assertEqual(int(t.numpy().sum()), sum(range(1000)))
        del junk

    def test_view_keeps_the_tensor_alive(self):
        gc.collect()
        before = librnn.memory_used()
        t = Tensor.zeros((256,))
        t.fill(1.5)
        v = t.numpy(copy=False)
        del t
        gc.collect()
        self.assertGreater(librnn.memory_used(), before)
        self.assertEqual(float(v.sum()), 384.0)
        del v
        gc.collect()
        self.assertEqual(librnn.memory_used(), before)

    def test_wrap_refuses_what_it_cannot_share(self):
        a = np.zeros((4, 4), np.float32)
        with self.assertRaises(ValueError):
            Tensor.wrap(a[:, ::2])           # not contiguous
        with self.assertRaises(TypeError):
            Tensor.wrap(np.zeros(3))         # float64
        with self.assertRaises(TypeError):
            Tensor.wrap([1.0, 2.0])          # not an array
        with self.assertRaises(ValueError):
            Tensor.wrap(np.zeros((2, 0), np.float32))
        ro = np.ones(4, np.float32)
        ro.flags.writeable = False
        with self.assertRaises(ValueError):
            Tensor.wrap(ro)                  # the library could write into it
        t = Tensor.from_numpy(ro)            # a copy instead
        self.assertNotEqual(t.data_ptr(), ro.ctypes.data)
        self.assertEqual(t[3], 1.0)

    def test_from_numpy_converts_only_when_needed(self):
        a = np.ones((2, 2), np.float32)
        self.assertEqual(Tensor.from_numpy(a).data_ptr(), a.ctypes.data)
        d = np.ones((2, 2))                   # float64 -> float32 copy
        t = Tensor.from_numpy(d)
        self.assertEqual(t.dtype, np.float32)
        self.assertNotEqual(t.data_ptr(), d.ctypes.data)
        i = Tensor.from_numpy(np.array([[1, 2], [3, 4]], np.int64))
        self.assertEqual(i.dtype, np.int32)
        self.assertEqual(i[1, 0], 3)
        f = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
        self.assertEqual(Tensor.from_numpy(f)[1, 0], 3.0)   # C-ordered copy
        with self.assertRaises(OverflowError):
            Tensor.from_numpy(np.array([2 ** 40]))

    def test_clone_copy_reshape(self):
        a = np.arange(6, dtype=np.float32)
        t = Tensor.wrap(a)
        c = t.clone()
        a[0] = 100
        self.assertEqual(c[0], 0.0)
        c.copy_from(np.full(6, 2, np.float32))
        self.assertEqual(c.numpy().tolist(), [2.0] * 6)
        c.reshape((2, 3))
        self.assertEqual(c.shape, (2, 3))
        with self.assertRaises(librnn.RnnError) as cm:
            c.reshape((4, 2))
        self.assertEqual(cm.exception.status_name, "RNN_ERR_SHAPE")
        with self.assertRaises(librnn.RnnError) as cm:
            c.copy_from(Tensor.zeros((6,)))
        self.assertEqual(cm.exception.status_name, "RNN_ERR_SHAPE")
        with self.assertRaises(librnn.RnnError) as cm:
            c.copy_from(Tensor.zeros((2, 3), "int32"))
        self.assertEqual(cm.exception.status_name, "RNN_ERR_DTYPE")

    def test_element_errors(self):
        t = Tensor.zeros((2, 3))
        with self.assertRaises(librnn.RnnError) as cm:
            t[1, 7]
        self.assertEqual(cm.exception.status_name, "RNN_ERR_RANGE")
        self.assertIn("index[1]", cm.exception.message)
        for short in (1, (1,), (1, 2, 0)):  # the library used to read past a short index
            with self.assertRaises(librnn.RnnError) as cm:
                t[short]
            self.assertEqual(cm.exception.status_name, "RNN_ERR_INVALID_ARG")
            self.assertIn("n_index must be the tensor's rank, 2", cm.exception.message)
        with self.assertRaises(librnn.RnnError):
            t[0] = 1.0
        t[1, 2] = 5.0
        self.assertEqual(t[1, 2], 5.0)

    def test_close_is_idempotent_and_final(self):
        gc.collect()
        before = librnn.memory_used()
        t = Tensor.zeros((64,))
        t.close()
        t.close()
        self.assertTrue(t.closed)
        self.assertEqual(librnn.memory_used(), before)
        with self.assertRaises(ValueError):
            t.shape
        self.assertIn("closed", repr(t))

    def test_array_protocol(self):
        t = Tensor.from_numpy(np.arange(4, dtype=np.float32))
        self.assertEqual(np.asarray(t).tolist(), [0.0, 1.0, 2.0, 3.0])
        self.assertEqual(np.asarray(t, dtype=np.float64).dtype, np.float64)


class TestShutdown(unittest.TestCase):
    def test_objects_alive_at_exit_are_released_cleanly(self):
        # Models, layers, optimizers, tensors and views still alive (some in
        # reference cycles, a layer outliving its Model variable) when the
        # interpreter exits: the finalizers run once, in a safe order.
        code = textwrap.dedent("""
            import atexit, weakref, numpy as np, librnn
            # Registered before any finalizer exists, so it runs after them (LIFO).
            assert not weakref.finalize._registered_with_atexit
            atexit.register(lambda: print("left", librnn.memory_used()))
            m = librnn.Model(seed=1)
            m.input(shape=(None, 3))
            layer = m.lstm(4, return_sequences=True)
            m.dense(2)
            opt = librnn.Adam(0.01).create(m)
            m.compile(loss="mse", optimizer="sgd")
            borrowed = m.optimizer
            x = np.ones((2, 5, 3), np.float32)
            m.forward(x, training=True)
            t = librnn.Tensor.wrap(x)
            view = librnn.Tensor.zeros((3,)).numpy(copy=False)
            class Holder: pass
            h = Holder(); h.self = h; h.model = m; h.opt = opt   # a cycle
            del m
            print("ok", layer.name, flush=True)
        """)
        env = dict(os.environ, PYTHONPATH=PYDIR)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["ok", "lstm", "left", "0"])
        self.assertEqual(r.stderr.strip(), "")


if __name__ == "__main__":
    unittest.main()
