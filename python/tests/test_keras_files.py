# SPDX-License-Identifier: Apache-2.0
"""librnn.load_keras on real Keras 3 files (tests/keras_files/fixtures), through
librnn-keras; skipped when that library was not built (-Dkeras)."""
import os
import struct
import unittest

import numpy as np

import librnn
from librnn import keras_files

from _util import ROOT

FIX = os.path.join(ROOT, "tests", "keras_files", "fixtures")


def read_fixture(path):
    """The RNNFIX01 arrays of tests/golden/fixture.h, by name."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == b"RNNFIX01"
    (n,), at, out = struct.unpack_from("<I", b, 8), 12, {}
    for _ in range(n):
        (ln,) = struct.unpack_from("<I", b, at)
        name = b[at + 4:at + 4 + ln].decode()
        at += 4 + ln
        dt, rank = struct.unpack_from("<II", b, at)
        dims = struct.unpack_from("<%dq" % rank, b, at + 8)
        at += 8 + 8 * rank
        count = int(np.prod(dims)) if rank else 1
        a = np.frombuffer(b, "<f4" if dt == 1 else "<i4", count, at).reshape(dims)
        at += 4 * count
        out[name] = a
    return out


def available():
    try:
        keras_files._keras()
        return True
    except librnn.RnnError:
        return False


@unittest.skipUnless(available(), "librnn-keras not built (meson -Dkeras)")
class TestLoadKeras(unittest.TestCase):
    def check(self, name):
        f = read_fixture(os.path.join(FIX, name + ".bin"))
        m = librnn.load_keras(os.path.join(FIX, name + ".keras"))
        xs = [f["x.%d" % i] for i in range(4) if "x.%d" % i in f]
        ys = m.forward(xs if len(xs) > 1 else xs[0])
        ys = ys if isinstance(ys, list) else [ys]
        for o, y in enumerate(ys):
            want, mask = f["y.%d" % o], f["m.%d" % o]
            err = float(np.abs((np.asarray(y) - want) * mask).max())
            self.assertLessEqual(err, 1e-5, "%s output %d" % (name, o))
        m.close()

    def test_real_keras_files_match_keras(self):
        """A real .keras file of each example architecture gives Keras' outputs to 1e-5."""
        for name in ("sentiment", "pos_tagger", "char_gru", "encoder", "seq2seq", "misc"):
            with self.subTest(name=name):
                self.check(name)

    def test_weights_file(self):
        """model.save_weights() output goes into a model of the same architecture."""
        m = librnn.load_keras(os.path.join(FIX, "sentiment.keras"))
        librnn.load_keras_weights(m, os.path.join(FIX, "sentiment.weights.h5"))
        f = read_fixture(os.path.join(FIX, "sentiment_w.bin"))
        self.assertLessEqual(float(np.abs(m.forward(f["x.0"]) - f["y.0"]).max()), 1e-5)
        m.close()

    def test_keras_models_load_model(self):
        """librnn.keras.models.load_model reads a real .keras file through librnn-keras."""
        from librnn import keras
        f = read_fixture(os.path.join(FIX, "char_gru.bin"))
        m = keras.models.load_model(os.path.join(FIX, "char_gru.keras"))
        self.assertIsInstance(m, librnn.Model)
        self.assertLessEqual(float(np.abs(m.forward(f["x.0"]) - f["y.0"]).max()), 1e-5)
        m.close()

    def test_unsupported_is_refused(self):
        """An unsupported argument is an RnnError naming the layer and the value."""
        with self.assertRaises(librnn.RnnError) as c:
            librnn.load_keras(os.path.join(FIX, "unsupported_arg.keras"))
        self.assertEqual(c.exception.status, 12)
        self.assertIn("recurrent_activation='hard_sigmoid'", str(c.exception))


if __name__ == "__main__":
    unittest.main()
