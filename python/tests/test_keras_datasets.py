# SPDX-License-Identifier: Apache-2.0
"""librnn.keras reading batches: keras.utils.PyDataset (and Sequence) and Python
generators in fit, evaluate and predict; the same batches as arrays give the
same weights, on_epoch_begin/on_epoch_end are called as Keras calls them,
generators that run out stop training with Keras' warning, and what Keras would
do differently is refused."""
import io
import contextlib
import unittest
import warnings

import numpy as np

from librnn import keras
from librnn.keras import layers

from test_keras_api import KerasTest, compiled_tagger, tag_data


class Slices(keras.utils.PyDataset):
    """Batches of ``size`` consecutive samples, in the order ``order`` (which
    on_epoch_end redraws when ``reshuffle``)."""

    def __init__(self, x, y, size, reshuffle=False, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.size, self.reshuffle = x, y, size, reshuffle
        self.order = np.arange(len(x))
        self.begun = self.ended = 0

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        idx = self.order[i * self.size:(i + 1) * self.size]
        return self.x[idx], self.y[idx]

    def on_epoch_begin(self):
        self.begun += 1

    def on_epoch_end(self):
        self.ended += 1
        if self.reshuffle:
            self.order = np.random.default_rng(self.ended).permutation(len(self.x))


def weights_after(fit):
    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    m = compiled_tagger()
    h = fit(m)
    return m.get_weights(), h


def two_inputs():
    a = keras.Input((None,), dtype="int32")
    b = keras.Input((3,))
    x = layers.Concatenate()([layers.GRU(6)(layers.Embedding(20, 4)(a)), b])
    m = keras.Model([a, b], layers.Dense(1, activation="sigmoid")(x))
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
    return m


class TestPyDataset(KerasTest):
    def test_same_batches_same_weights(self):
        x, y = tag_data(n=40)
        w_arr, h_arr = weights_after(lambda m: m.fit(x, y, batch_size=8, epochs=3,
                                                     shuffle=False, verbose=0))
        w_ds, h_ds = weights_after(lambda m: m.fit(Slices(x, y, 8), epochs=3, verbose=0))
        w_gen, _ = weights_after(lambda m: m.fit(
            ((x[i:i + 8], y[i:i + 8]) for _ in range(3) for i in range(0, 40, 8)),
            steps_per_epoch=5, epochs=3, verbose=0))
        for a, b, c in zip(w_arr, w_ds, w_gen):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)
        self.assertEqual(h_ds.params["steps"], 5)
        for k in ("loss", "accuracy"):
            np.testing.assert_allclose(h_arr.history[k], h_ds.history[k], rtol=1e-6)

    def test_epoch_hooks_and_redrawing(self):
        x, y = tag_data(n=40)
        ds, val = Slices(x, y, 8, reshuffle=True), Slices(x[:16], y[:16], 8)
        m = compiled_tagger()
        h = m.fit(ds, epochs=3, validation_data=val, verbose=0)
        self.assertEqual((ds.begun, ds.ended), (3, 3))
        self.assertEqual((val.begun, val.ended), (3, 3))
        self.assertEqual(h.epoch, [0, 1, 2])
        self.assertEqual(len(h.history["val_loss"]), 3)
        self.assertFalse(np.array_equal(ds.order, np.arange(40)))
        # validation over the dataset equals evaluate over its arrays
        ev = m.evaluate(x[:16], y[:16], batch_size=8, verbose=0, return_dict=True)
        ev_ds = m.evaluate(Slices(x[:16], y[:16], 8), verbose=0, return_dict=True)
        for k in ev:
            self.assertAlmostEqual(ev[k], ev_ds[k], places=5)
        np.testing.assert_allclose(m.predict(Slices(x, y, 8), verbose=0),
                                   m.predict(x, verbose=0), rtol=1e-6, atol=1e-7)

    def test_sequence_alias_and_settings(self):
        self.assertIs(keras.utils.Sequence, keras.utils.PyDataset)
        d = Slices(*tag_data(n=8), 4, workers=2, use_multiprocessing=False, max_queue_size=3)
        self.assertEqual((d.workers, d.use_multiprocessing, d.max_queue_size), (2, False, 3))
        self.assertEqual(d.num_batches, 2)

        class NoLen(keras.utils.PyDataset):
            def __getitem__(self, i):
                return None
        with self.assertRaises(NotImplementedError):
            NoLen().num_batches

    def test_several_inputs(self):
        r = np.random.default_rng(0)
        x = r.integers(1, 20, (64, 6)).astype(np.int32)
        b = r.random((64, 3)).astype(np.float32)
        y = (b.sum(1) > 1.5).astype(np.float32)

        def gen(n=64):
            while True:
                for i in range(0, n, 16):
                    yield (x[i:i + 16], b[i:i + 16]), y[i:i + 16]
        keras.utils.set_random_seed(5)
        m = two_inputs()
        h = m.fit(gen(), steps_per_epoch=4, epochs=2, validation_data=gen(32),
                  validation_steps=2, verbose=0)
        keras.utils.set_random_seed(5)
        m2 = two_inputs()
        h2 = m2.fit([x, b], y, batch_size=16, epochs=2, shuffle=False,
                    validation_data=([x[:32], b[:32]], y[:32]), verbose=0)
        for k in h.history:
            np.testing.assert_allclose(h.history[k], h2.history[k], rtol=1e-5)
        self.assertEqual(m.predict(gen(), steps=3, verbose=0).shape, (48, 1))

    def test_generator_runs_out(self):
        x, y = tag_data(n=40)
        m = compiled_tagger()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            h = m.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 40, 4) if i + 8 <= 40),
                      steps_per_epoch=4, epochs=5, verbose=0)
        self.assertEqual(h.epoch, [0, 1, 2])      # 9 batches: 4, 4, then 1 and a stop
        self.assertTrue(any("ran out of data" in str(a.message) for a in w))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            h = m.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 40, 8)), epochs=3, verbose=0)
        self.assertEqual(h.epoch, [0])            # until the end, then nothing left
        self.assertTrue(any("ran out of data" in str(a.message) for a in w))

    def test_progress_of_unknown_length(self):
        x, y = tag_data(n=24)
        m = compiled_tagger()
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)), epochs=1, verbose=2)
            m.evaluate(((x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)), verbose=2)
        self.assertIn("3/3 - ", out.getvalue())
        self.assertNotIn("0/", out.getvalue())

    def test_refused(self):
        x, y = tag_data(n=16)
        m = compiled_tagger()
        ds = Slices(x, y, 4)
        for fn, kind, what in [
                (lambda: m.fit(ds, y, verbose=0), ValueError, "`y` argument"),
                (lambda: m.fit(ds, validation_split=0.2, verbose=0), ValueError,
                 "validation_split"),
                (lambda: m.fit(ds, steps_per_epoch=2, verbose=0), NotImplementedError,
                 "steps_per_epoch=2 with a PyDataset of 4 batches"),
                (lambda: m.fit(ds, steps_per_epoch=0, verbose=0), ValueError, "positive"),
                (lambda: m.fit(lambda: None, verbose=0), NotImplementedError, "function"),
                (lambda: m.fit(iter([x]), verbose=0), ValueError, "must give (x, y)"),
                (lambda: m.fit(iter([(x, y, np.ones(16))]), verbose=0), NotImplementedError,
                 "sample weights"),
                (lambda: m.fit(iter([(x, y[:3])]), verbose=0), ValueError,
                 "same number of samples"),
                (lambda: m.fit(iter([]), verbose=0), ValueError, "gave no batch"),
                (lambda: m.fit(x, y, steps_per_epoch=2, verbose=0), NotImplementedError,
                 "steps_per_epoch"),
                (lambda: m.evaluate(x, y, steps=2, verbose=0), NotImplementedError, "steps")]:
            with self.assertRaises(kind) as cm:
                fn()
            self.assertIn(what, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
