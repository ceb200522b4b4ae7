# SPDX-License-Identifier: Apache-2.0
"""librnn.load_onnx and Model.save_onnx (librnn-onnx, -Donnx): skipped when
librnn-onnx cannot be loaded."""
import os
import struct
import tempfile
import unittest

import numpy as np

import librnn
from librnn import onnx as lonnx

FIXTURES = os.environ.get("RNN_ONNX_FIXTURES") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "onnx", "fixtures")


def _available():
    try:
        lonnx._library()
        return True
    except ImportError:
        return False


def _read_io(path):
    with open(path, "rb") as f:
        data = f.read()
    _, count, n_in = struct.unpack_from("<III", data, 4)
    at, out = 16, []
    for _ in range(count):
        dt, rank = struct.unpack_from("<II", data, at)
        at += 8
        dims = struct.unpack_from("<%dq" % rank, data, at)
        at += 8 * rank
        n = int(np.prod(dims)) if dims else 1
        a = np.frombuffer(data, dtype="<f4" if dt == 1 else "<i4", count=n, offset=at)
        at += 4 * n
        out.append(a.reshape(dims))
    return out[:n_in], out[n_in:]


@unittest.skipUnless(_available(), "librnn-onnx is not available (build with -Donnx)")
class TestOnnx(unittest.TestCase):
    def test_load_file_and_bytes_match_pytorch(self):
        path = os.path.join(FIXTURES, "torch_tagger.onnx")
        if not os.path.exists(path):
            self.skipTest("no fixtures (not a source tree)")
        ins, outs = _read_io(os.path.join(FIXTURES, "torch_tagger.io"))
        for src in (path, open(path, "rb").read()):
            m = librnn.load_onnx(src)
            y = m.predict(ins[0], batch_size=len(ins[0]))
            self.assertLess(float(np.max(np.abs(y - outs[0]))), 1e-5)
            self.assertEqual(m.get_metadata("onnx.input.0"), "x")
            m.close()

    def test_sequence_lens_is_given_as_lengths(self):
        # A graph whose LSTM reads sequence_lens (graph input "len"): the model
        # takes x alone, the lengths go to forward()/predict(), and every output
        # matches ONNX Runtime's at every position, the padded ones included.
        path = os.path.join(FIXTURES, "op_seqlens_lstm_bidir.onnx")
        if not os.path.exists(path):
            self.skipTest("no fixtures (not a source tree)")
        (x, lens), outs = _read_io(os.path.join(FIXTURES, "op_seqlens_lstm_bidir.io"))
        m = librnn.load_onnx(path)
        self.assertEqual(m.num_inputs, 1)
        self.assertEqual(m.get_metadata("onnx.input.0.sequence_lens"), "len")
        got = m.forward(x, lengths=lens)
        self.assertEqual(len(got), len(outs))
        for g, want in zip(got, outs):
            self.assertLess(float(np.max(np.abs(g - want))), 1e-5)
        y = m.predict(x, lengths=lens, batch_size=len(x))
        self.assertLess(float(np.max(np.abs(y - outs[0]))), 1e-5)
        m.close()

    def test_refused_graph_names_the_node(self):
        path = os.path.join(FIXTURES, "refuse_clip.onnx")
        if not os.path.exists(path):
            self.skipTest("no fixtures (not a source tree)")
        with self.assertRaises(librnn.RnnError) as cm:
            librnn.load_onnx(path)
        self.assertIn("node 'cell' (LSTM)", str(cm.exception))
        self.assertIn("'clip'", str(cm.exception))

    def test_save_onnx_round_trip(self):
        m = librnn.Model(seed=3)
        m.input(shape=(None,), dtype="int32")
        m.embedding(20, 4)
        m.gru(5, return_sequences=True, bidirectional=True)
        m.dense(3, activation="softmax")
        x = np.arange(12, dtype=np.int32).reshape(2, 6) % 20
        want = m.predict(x)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.onnx")
            m.save_onnx(p)
            back = librnn.load_onnx(p)
            np.testing.assert_allclose(back.predict(x), want, atol=1e-5)
