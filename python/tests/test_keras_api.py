# SPDX-License-Identifier: Apache-2.0
"""librnn.keras without Keras: building (Sequential, functional, shared layers),
summary text (Keras 3's, literally), fit/History/evaluate/predict, callbacks and
their order, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, schedules,
saving and loading, weights, progress output (verbose 0/1/2) and the
NotImplementedError cases. test_keras_parity.py compares with real Keras."""
import contextlib
import io
import os
import re
import sys
import tempfile
import unittest
import warnings

import numpy as np

import librnn
from librnn import keras
from librnn.keras import layers


def tag_data(n=96, t=8, vocab=20, tags=4, seed=0, pad=True):
    """Right-padded token ids (0 = padding) and tags = id % tags."""
    r = np.random.default_rng(seed)
    x = r.integers(1, vocab, size=(n, t)).astype(np.int32)
    if pad:
        for i, L in enumerate(r.integers(3, t + 1, size=n)):
            x[i, L:] = 0
    return x, x % tags


def tagger(vocab=20, tags=4, units=12, name=None):
    return keras.Sequential([keras.Input(shape=(None,), dtype="int32"),
                             layers.Embedding(vocab, 8, mask_zero=True),
                             layers.LSTM(units, return_sequences=True),
                             layers.Dense(tags, activation="softmax")], name=name)


def compiled_tagger(lr=0.02, **kw):
    m = tagger(**kw)
    m.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


@contextlib.contextmanager
def columns(n=80):
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(n)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def summary(model):
    out = []
    with columns():
        model.summary(print_fn=out.append)
    return "".join(out)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def quiet():
    return contextlib.redirect_stdout(io.StringIO())


class KerasTest(unittest.TestCase):
    def setUp(self):
        keras.backend.clear_session()
        keras.utils.set_random_seed(1)
        warnings.simplefilter("ignore")

    def tearDown(self):
        warnings.resetwarnings()


class TestBuilding(KerasTest):
    def test_sequential_and_functional_are_the_same_model(self):
        seq = keras.Sequential(name="s")
        seq.add(keras.Input(shape=(None, 3)))
        seq.add(layers.GRU(5, return_sequences=True))
        seq.add(layers.Dense(2))
        inp = keras.Input(shape=(None, 3))
        out = layers.Dense(2)(layers.GRU(5, return_sequences=True)(inp))
        fun = keras.Model(inputs=inp, outputs=out)
        self.assertEqual(seq.count_params(), fun.count_params())
        self.assertEqual(seq.count_params(), 5 * 3 * (3 + 5 + 2) + 5 * 2 + 2)
        self.assertEqual([type(l).__name__ for l in seq.layers], ["GRU", "Dense"])
        self.assertEqual([type(l).__name__ for l in fun.layers], ["InputLayer", "GRU", "Dense"])
        fun.set_weights(seq.get_weights())
        x = np.random.default_rng(0).standard_normal((4, 6, 3)).astype(np.float32)
        np.testing.assert_allclose(fun.predict(x, verbose=0), seq.predict(x, verbose=0),
                                   rtol=1e-6)
        np.testing.assert_allclose(fun(x).numpy(), seq.predict(x, verbose=0), rtol=1e-6)
        self.assertEqual(seq.output_shape, (None, None, 2))
        self.assertEqual(fun.input_shape, (None, None, 3))
        self.assertIs(seq.get_layer(index=0), seq.layers[0])
        self.assertIs(fun.get_layer(fun.layers[1].name), fun.layers[1])

    def test_keras_names(self):
        a, b = layers.LSTM(2), layers.LSTM(2)
        self.assertEqual((a.name, b.name), ("lstm", "lstm_1"))
        self.assertEqual(layers.GlobalMaxPooling1D().name, "global_max_pooling1d")
        self.assertEqual(layers.SimpleRNN(2).name, "simple_rnn")
        self.assertEqual(keras.Sequential().name, "sequential")
        keras.backend.clear_session()
        self.assertEqual(layers.LSTM(2).name, "lstm")

    def test_shared_layer_and_weights_follow_the_layer(self):
        enc = layers.LSTM(4)
        a, b = keras.Input((None, 3)), keras.Input((None, 3))
        out = layers.Dense(1, activation="sigmoid")(layers.Concatenate()([enc(a), enc(b)]))
        pair = keras.Model([a, b], out)
        single = keras.Model(a, enc(a))       # another model using the same LSTM
        self.assertEqual(pair.count_params(), 4 * 4 * (3 + 4 + 1) + 9)
        x = np.random.default_rng(1).standard_normal((5, 4, 3)).astype(np.float32)
        y = np.ones((5, 1), np.float32)
        pair.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
        before = single.predict(x, verbose=0)
        pair.fit([x, x], y, epochs=2, verbose=0)
        after = single.predict(x, verbose=0)   # sees the trained weights
        self.assertGreater(np.abs(after - before).max(), 1e-4)
        np.testing.assert_array_equal(enc.get_weights()[0], single.get_weights()[0])
        # the same weights read through either model
        for w1, w2 in zip(pair.layers[2].get_weights(), enc.get_weights()):
            np.testing.assert_array_equal(w1, w2)

    def test_keras_char_seq2seq_with_inference_models(self):
        """Keras' character-level seq2seq example: a training model, then encoder and
        decoder inference models made of the same (trained) layers."""
        n_in, n_out, latent = 5, 6, 8
        encoder_inputs = keras.Input(shape=(None, n_in))
        encoder = layers.LSTM(latent, return_state=True)
        _, state_h, state_c = encoder(encoder_inputs)
        encoder_states = [state_h, state_c]
        decoder_inputs = keras.Input(shape=(None, n_out))
        decoder_lstm = layers.LSTM(latent, return_sequences=True, return_state=True)
        decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
        decoder_dense = layers.Dense(n_out, activation="softmax")
        model = keras.Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                      metrics=["accuracy"])
        r = np.random.default_rng(0)
        enc = np.eye(n_in, dtype=np.float32)[r.integers(0, n_in, (32, 4))]
        dec = np.eye(n_out, dtype=np.float32)[r.integers(0, n_out, (32, 5))]
        model.fit([enc, dec], dec, batch_size=8, epochs=2, validation_split=0.2, verbose=0)

        encoder_model = keras.Model(encoder_inputs, encoder_states)
        h_in, c_in = keras.Input(shape=(latent,)), keras.Input(shape=(latent,))
        out, h, c = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
        decoder_model = keras.Model([decoder_inputs, h_in, c_in],
                                    [decoder_dense(out), h, c])
        states = encoder_model.predict(enc[:3], verbose=0)
        self.assertEqual([a.shape for a in states], [(3, latent), (3, latent)])
        probs, h1, c1 = decoder_model.predict([dec[:3]] + states, verbose=0)
        np.testing.assert_allclose(probs, model.predict([enc[:3], dec[:3]], verbose=0),
                                   rtol=1e-5, atol=1e-6)

    def test_initializers_weights_and_trainable(self):
        matrix = np.arange(40, dtype=np.float32).reshape(10, 4)
        e1 = layers.Embedding(10, 4, embeddings_initializer=keras.initializers.Constant(matrix))
        e2 = layers.Embedding(10, 4, weights=[matrix], trainable=False)
        d = layers.Dense(3, kernel_initializer="ones", bias_initializer=keras.initializers
                         .Constant(0.5))
        r = layers.LSTM(2, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0),
                        bias_initializer="ones")
        inp = keras.Input((None,), dtype="int32")
        m = keras.Model(inp, [d(e1(inp)), r(e2(inp))])
        np.testing.assert_array_equal(e1.get_weights()[0], matrix)
        np.testing.assert_array_equal(e2.get_weights()[0], matrix)
        np.testing.assert_array_equal(d.get_weights()[0], np.ones((4, 3)))
        np.testing.assert_array_equal(d.get_weights()[1], np.full(3, 0.5))
        kernel, _, bias = r.get_weights()
        self.assertGreater(kernel.std(), 0.5)                   # stddev 1, drawn in numpy
        np.testing.assert_array_equal(bias, np.ones(8))         # unit_forget_bias on ones
        self.assertEqual(len(m.non_trainable_weights), 1)
        self.assertIn("Non-trainable params: 40 (160.00 B)", summary(m))
        m.compile(optimizer=keras.optimizers.SGD(1.0),
                  loss=[keras.losses.MeanSquaredError(), None])
        x = np.array([[1, 2, 3]], np.int32)
        m.fit(x, np.zeros((1, 3, 3), np.float32), verbose=0)
        np.testing.assert_array_equal(e2.get_weights()[0], matrix)   # frozen
        self.assertFalse(np.array_equal(e1.get_weights()[0], matrix))

    def test_layer_weights_round_trip(self):
        m = tagger()
        w = [np.random.default_rng(k).standard_normal(a.shape).astype(np.float32)
             for k, a in enumerate(m.get_weights())]
        m.set_weights(w)
        for a, b in zip(m.get_weights(), w):
            np.testing.assert_array_equal(a, b)
        lstm = m.layers[1]
        self.assertEqual([v.shape for v in lstm.weights], [(8, 48), (12, 48), (48,)])
        lstm.weights[2].assign(np.zeros(48))
        np.testing.assert_array_equal(lstm.get_weights()[2], np.zeros(48))
        with self.assertRaises(ValueError):
            m.set_weights(w[:-1])
        with self.assertRaises(ValueError):
            lstm.set_weights([w[2], w[1], w[3]])

    def test_sequential_builds_from_data(self):
        m = keras.Sequential([layers.Embedding(20, 4), layers.GRU(3)])
        self.assertIn("0 (unbuilt)", summary(m))
        self.assertFalse(m.built)
        p = m.predict(np.ones((2, 5), np.int64), verbose=0)
        self.assertEqual(p.shape, (2, 3))
        self.assertIn("(None, 5, 4)", summary(m))
        m2 = keras.Sequential([layers.LSTM(3, input_shape=(None, 2)), layers.Dense(1)])
        self.assertEqual(m2.input_shape, (None, None, 2))

    def test_bidirectional_states_and_two_outputs(self):
        inp = keras.Input((None, 3))
        out = layers.Bidirectional(layers.LSTM(4, return_state=True), merge_mode="sum")(inp)
        self.assertEqual(len(out), 5)
        m = keras.Model(inp, out)
        p = m.predict(np.ones((2, 3, 3), np.float32), verbose=0)
        self.assertEqual([a.shape for a in p], [(2, 4)] * 5)
        ctx, w = layers.Attention()([layers.GRU(3, return_sequences=True)(inp)] * 2,
                                    return_attention_scores=True)
        m = keras.Model({"seq": inp}, {"ctx": ctx, "w": w})
        p = m.predict({"seq": np.ones((2, 4, 3), np.float32)}, verbose=0)
        self.assertEqual(sorted(p), ["ctx", "w"])
        self.assertEqual(p["w"].shape, (2, 4, 4))


SEQ_SUMMARY = (
    'Model: "tagger"\n'
    '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n'
    '┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n'
    '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n'
    '│ embedding (Embedding)           │ (None, None, 8)        │           400 │\n'
    '├─────────────────────────────────┼────────────────────────┼───────────────┤\n'
    '│ bidirectional (Bidirectional)   │ (None, None, 12)       │           720 │\n'
    '├─────────────────────────────────┼────────────────────────┼───────────────┤\n'
    '│ time_distributed                │ (None, None, 4)        │            52 │\n'
    '│ (TimeDistributed)               │                        │               │\n'
    '└─────────────────────────────────┴────────────────────────┴───────────────┘\n'
    ' Total params: 1,172 (4.58 KB)\n'
    ' Trainable params: 772 (3.02 KB)\n'
    ' Non-trainable params: 400 (1.56 KB)\n')

FUNCTIONAL_SUMMARY = (
    'Model: "functional"\n'
    '┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓\n'
    '┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃\n'
    '┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩\n'
    '│ words (InputLayer)  │ (None, None)      │          0 │ -                 │\n'
    '├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n'
    '│ embedding           │ (None, None, 8)   │        400 │ words[0][0]       │\n'
    '│ (Embedding)         │                   │            │                   │\n'
    '├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n'
    '│ not_equal           │ (None, None)      │          0 │ words[0][0]       │\n'
    '│ (NotEqual)          │                   │            │                   │\n'
    '├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n'
    '│ gru (GRU)           │ [(None, None, 6), │        288 │ embedding[0][0],  │\n'
    '│                     │ (None, 6)]        │            │ not_equal[0][0]   │\n'
    '├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n'
    '│ dense (Dense)       │ (None, None, 4)   │         28 │ gru[0][0]         │\n'
    '└─────────────────────┴───────────────────┴────────────┴───────────────────┘\n'
    ' Total params: 716 (2.80 KB)\n'
    ' Trainable params: 716 (2.80 KB)\n'
    ' Non-trainable params: 0 (0.00 B)\n')


class TestSummary(KerasTest):
    """The texts below are what Keras 3.15 prints for the same models (80 columns)."""

    def test_sequential_table(self):
        m = keras.Sequential([keras.Input((None,), dtype="int32"),
                              layers.Embedding(50, 8, mask_zero=True, trainable=False),
                              layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
                              layers.TimeDistributed(layers.Dense(4, activation="softmax"))],
                             name="tagger")
        self.assertEqual(summary(m), SEQ_SUMMARY)
        out = io.StringIO()
        with columns(), contextlib.redirect_stdout(out):
            self.assertIsNone(m.summary())
        self.assertEqual(out.getvalue(), SEQ_SUMMARY)

    def test_functional_table_with_mask_and_states(self):
        i = keras.Input((None,), dtype="int32", name="words")
        s, h = layers.GRU(6, return_sequences=True, return_state=True)(
            layers.Embedding(50, 8, mask_zero=True)(i))
        m = keras.Model(i, [layers.Dense(4, activation="softmax")(s), h])
        self.assertEqual(summary(m), FUNCTIONAL_SUMMARY)

    def test_optimizer_params_after_training(self):
        m = compiled_tagger()
        self.assertNotIn("Optimizer params", summary(m))
        x, y = tag_data(n=16)
        m.fit(x, y, verbose=0)
        n = m.count_params()
        self.assertIn(" Optimizer params: {:,} ".format(2 * n + 2), summary(m))
        self.assertIn(" Total params: {:,} ".format(3 * n + 2), summary(m))


class TestFit(KerasTest):
    def test_tiny_model_learns(self):
        x, y = tag_data()
        m = compiled_tagger()
        h = m.fit(x, y, batch_size=16, epochs=8, validation_split=0.25, verbose=0)
        self.assertGreater(h.history["val_accuracy"][-1], 0.9)
        self.assertLess(h.history["loss"][-1], h.history["loss"][0])
        loss, acc = m.evaluate(x, y, verbose=0)
        self.assertGreater(acc, 0.9)
        p = m.predict(x, verbose=0)
        real = x > 0
        self.assertAlmostEqual(float((p.argmax(-1) == y)[real].mean()), acc, places=5)

    def test_history(self):
        x, y = tag_data(n=40)
        m = compiled_tagger()
        h = m.fit(x, y, batch_size=8, epochs=3, validation_data=(x[:8], y[:8]), verbose=0)
        self.assertIs(h, m.history)
        self.assertIsInstance(h, keras.callbacks.History)
        self.assertEqual(list(h.history), ["accuracy", "loss", "val_accuracy", "val_loss"])
        self.assertEqual(h.epoch, [0, 1, 2])
        self.assertEqual(h.params, {"verbose": 0, "epochs": 3, "steps": 5})
        for v in h.history.values():
            self.assertEqual(len(v), 3)
            self.assertTrue(all(isinstance(a, float) for a in v))
        h = m.fit(x, y, batch_size=8, epochs=4, initial_epoch=2, verbose=0)
        self.assertEqual(h.epoch, [2, 3])
        self.assertEqual(list(h.history), ["accuracy", "loss"])

    def test_loss_weighted_as_keras(self):
        # Keras averages the batches' losses weighted by their samples, also when
        # the mask makes each batch's loss a mean over another number of steps
        x, y = tag_data(n=40, pad=False)
        x[:16, 2:] = 0                  # a first batch of 2 steps a sample, then 8
        m = tagger()
        m.compile(optimizer=keras.optimizers.SGD(1e-12), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        parts = [(m.test_on_batch(x[i:i + 16], y[i:i + 16])[0], len(x[i:i + 16]))
                 for i in range(0, 40, 16)]
        by_samples = sum(v * n for v, n in parts) / 40
        by_steps = m.evaluate(x, y, batch_size=40, verbose=0)[0]
        self.assertGreater(abs(by_samples - by_steps), 1e-4)    # the data tell them apart
        self.assertAlmostEqual(m.evaluate(x, y, batch_size=16, verbose=0)[0], by_samples,
                               places=5)
        h = m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        self.assertAlmostEqual(h.history["loss"][0], by_samples, places=5)

    def test_evaluate_forms(self):
        x, y = tag_data(n=20)
        m = tagger()
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
        self.assertIsInstance(m.evaluate(x, y, verbose=0), float)
        self.assertEqual(m.metrics_names, ["loss"])
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["acc"])
        r = m.evaluate(x, y, verbose=0)
        self.assertEqual(len(r), 2)
        d = m.evaluate(x, y, verbose=0, return_dict=True)
        self.assertEqual(sorted(d), ["acc", "loss"])
        self.assertAlmostEqual(d["loss"], r[0])
        tob = m.train_on_batch(x, y)
        self.assertEqual(len(tob), 2)
        self.assertEqual(sorted(m.test_on_batch(x, y, return_dict=True)), ["acc", "loss"])

    def test_masked_loss_is_the_mean_over_unmasked_steps(self):
        """Keras 3 averages a masked per-step loss over the real steps only."""
        x, y = tag_data(n=16)
        m = tagger()
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        p = m.predict(x, verbose=0)
        ce = -np.log(np.take_along_axis(p, y[..., None], -1)[..., 0])
        self.assertAlmostEqual(m.evaluate(x, y, batch_size=16, verbose=0),
                               float(ce[x > 0].mean()), places=5)
        self.assertAlmostEqual(float(m.test_on_batch(x, y)), float(ce[x > 0].mean()), places=5)

    def test_multi_input_fit_in_python(self):
        """Two inputs: fit runs train steps from Python; the accuracy counts only the
        real (unmasked) steps, as the C fit does for one input."""
        V = 12
        a, b = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
        emb = layers.Embedding(V, 6, mask_zero=True)
        _, h, c = layers.LSTM(10, return_state=True)(emb(a))
        seq = layers.LSTM(10, return_sequences=True)(emb(b), initial_state=[h, c])
        m = keras.Model([a, b], layers.Dense(V, activation="softmax")(seq))
        m.compile(optimizer=keras.optimizers.Adam(0.03), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        xa, _ = tag_data(n=64, t=5, vocab=V, seed=1)
        xb, _ = tag_data(n=64, t=6, vocab=V, seed=2)
        y = xb.copy()
        h = m.fit([xa, xb], y, batch_size=16, epochs=6, verbose=0, validation_split=0.25)
        self.assertGreater(h.history["accuracy"][-1], h.history["accuracy"][0])
        d = m.evaluate([xa, xb], y, verbose=0, return_dict=True)
        p = m.predict([xa, xb], verbose=0)
        self.assertAlmostEqual(d["accuracy"], float((p.argmax(-1) == y)[xb > 0].mean()),
                               places=5)


class Recorder(keras.callbacks.Callback):
    def __init__(self, stop_at=None):
        super().__init__()
        self.calls, self.stop_at = [], stop_at

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))
        assert self.model is not None and self.params["steps"] == 3

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):   # reached through on_train_batch_end
        self.calls.append(("batch_end", batch, sorted(logs)))
        if self.stop_at == ("batch", batch):
            self.model.stop_training = True

    def on_test_begin(self, logs=None):
        self.calls.append(("test_begin",))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))
        if self.stop_at == ("epoch", epoch):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", sorted(logs or {})))


class TestCallbacks(KerasTest):
    def setUp(self):
        super().setUp()
        self.x, self.y = tag_data(n=48)

    def test_order(self):
        m = compiled_tagger()
        rec = Recorder()
        m.fit(self.x, self.y, batch_size=16, epochs=2, callbacks=[rec], verbose=0,
              validation_data=(self.x[:8], self.y[:8]))
        keys = ["accuracy", "loss"]
        vkeys = ["accuracy", "loss", "val_accuracy", "val_loss"]
        want = [("train_begin",)]
        for e in range(2):
            want.append(("epoch_begin", e))
            for b in range(3):
                want += [("batch_begin", b), ("batch_end", b, keys)]
            want += [("test_begin",), ("epoch_end", e, vkeys)]
        want.append(("train_end", vkeys))
        self.assertEqual(rec.calls, want)

    def test_stop_training(self):
        m = compiled_tagger()
        rec = Recorder(stop_at=("batch", 1))
        h = m.fit(self.x, self.y, batch_size=16, epochs=5, callbacks=[rec], verbose=0)
        self.assertEqual(h.epoch, [0])       # the epoch ends (and is logged), then stops
        self.assertEqual([c[1] for c in rec.calls if c[0] == "batch_end"], [0, 1])
        rec = Recorder(stop_at=("epoch", 1))
        h = m.fit(self.x, self.y, batch_size=16, epochs=5, callbacks=[rec], verbose=0)
        self.assertEqual(h.epoch, [0, 1])
        lam = []
        h = m.fit(self.x, self.y, batch_size=16, epochs=2, verbose=0, callbacks=[
            keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, l: lam.append(b))])
        self.assertEqual(lam, [0, 1, 2, 0, 1, 2])

    def test_exception_in_callback(self):
        m = compiled_tagger()

        class Boom(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                raise KeyError("boom")

        with self.assertRaises(KeyError):
            m.fit(self.x, self.y, batch_size=16, callbacks=[Boom()], verbose=0)
        self.assertEqual(len(m.fit(self.x, self.y, verbose=0).epoch), 1)   # still usable

    def test_early_stopping_restores_best_weights(self):
        m = compiled_tagger()
        snaps = []
        keep = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda e, logs: snaps.append(m.get_weights()))
        # the loss falls every epoch: with mode="max" only the first epoch is best
        es = keras.callbacks.EarlyStopping(monitor="loss", mode="max", patience=1,
                                           restore_best_weights=True, verbose=1)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            h = m.fit(self.x, self.y, batch_size=16, epochs=6, callbacks=[keep, es], verbose=0)
        self.assertEqual(h.epoch, [0, 1])
        self.assertEqual(es.stopped_epoch, 1)
        self.assertEqual(out.getvalue(), "Epoch 2: early stopping\nRestoring model weights "
                                         "from the end of the best epoch: 1.\n")
        for a, b in zip(m.get_weights(), snaps[0]):
            np.testing.assert_array_equal(a, b)
        es = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=50)
        h = m.fit(self.x, self.y, epochs=2, validation_split=0.5, callbacks=[es], verbose=0)
        self.assertEqual(len(h.epoch), 2)

    def test_model_checkpoint(self):
        m = compiled_tagger()
        with tempfile.TemporaryDirectory() as tmp:
            every = os.path.join(tmp, "m-{epoch:02d}-{loss:.2f}.rnn")
            best = os.path.join(tmp, "best.rnn")
            saved = []
            h = m.fit(self.x, self.y, batch_size=16, epochs=3, verbose=0, callbacks=[
                keras.callbacks.ModelCheckpoint(every),
                keras.callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True),
                keras.callbacks.LambdaCallback(on_epoch_end=lambda e, l: saved.append(
                    m.predict(self.x, verbose=0)))])
            names = sorted(f for f in os.listdir(tmp) if f.startswith("m-"))
            self.assertEqual(names, ["m-%02d-%.2f.rnn" % (e + 1, h.history["loss"][e])
                                     for e in range(3)])
            again = keras.models.load_model(best)
            np.testing.assert_allclose(again.predict(self.x, verbose=0), saved[-1], rtol=1e-6)
            with self.assertRaises(NotImplementedError):
                keras.callbacks.ModelCheckpoint(os.path.join(tmp, "m.h5"))

    def test_reduce_lr_on_plateau_and_schedules(self):
        m = compiled_tagger(lr=0.01)
        plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", mode="max", patience=1,
                                                    factor=0.5)
        h = m.fit(self.x, self.y, batch_size=16, epochs=3, callbacks=[plateau], verbose=0)
        # logged at each epoch's end, before that epoch's reduction (as Keras)
        np.testing.assert_allclose(h.history["learning_rate"], [0.01, 0.01, 0.005],
                                   rtol=1e-6)
        self.assertAlmostEqual(float(m.optimizer.learning_rate), 0.0025, places=7)
        m.optimizer.learning_rate = 0.02
        self.assertAlmostEqual(m.optimizer.learning_rate.numpy(), 0.02, places=7)
        sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
        h = m.fit(self.x, self.y, batch_size=16, epochs=2, callbacks=[sched], verbose=0)
        np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.05], rtol=1e-6)

        decay = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
        m = tagger()
        m.compile(optimizer=keras.optimizers.SGD(decay), loss="sparse_categorical_crossentropy")
        seen = []

        class LR(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                seen.append(float(self.model.optimizer.learning_rate))

        m.fit(self.x, self.y, batch_size=16, epochs=2, callbacks=[LR()], verbose=0)
        np.testing.assert_allclose(seen, [decay(s) for s in range(6)], rtol=1e-6)
        self.assertEqual(int(m.optimizer.iterations), 6)
        with self.assertRaises(TypeError):
            m.optimizer.learning_rate = 0.5


class TestSaving(KerasTest):
    def test_round_trip_functional_with_state_and_optimizer(self):
        V = 10
        a, b = keras.Input((None,), dtype="int32", name="a"), keras.Input((None,), dtype="int32")
        emb = layers.Embedding(V, 4, mask_zero=True)
        _, h = layers.GRU(6, return_state=True)(emb(a))
        seq = layers.GRU(6, return_sequences=True)(emb(b), initial_state=h)
        m = keras.Model([a, b], layers.Dense(V, activation="softmax")(seq), name="s2s")
        m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        xa, _ = tag_data(n=32, t=4, vocab=V)
        xb, _ = tag_data(n=32, t=5, vocab=V, seed=3)
        m.fit([xa, xb], xb, epochs=2, batch_size=8, verbose=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s2s.rnn")
            m.save(path)
            keras.backend.clear_session()   # the mask operations are named afresh
            again = keras.models.load_model(path)
            self.assertEqual(again.name, "s2s")
            self.assertEqual([l.name for l in again.layers], [l.name for l in m.layers])
            self.assertEqual(summary(again), summary(m))
            np.testing.assert_allclose(again.predict([xa, xb], verbose=0),
                                       m.predict([xa, xb], verbose=0), rtol=1e-6)
            self.assertEqual(int(again.optimizer.iterations), 8)   # the optimizer's state
            m.fit([xa, xb], xb, epochs=1, batch_size=8, shuffle=False, verbose=0)
            again.fit([xa, xb], xb, epochs=1, batch_size=8, shuffle=False, verbose=0)
            for w1, w2 in zip(again.get_weights(), m.get_weights()):
                np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)
            plain = keras.models.load_model(path, compile=False)
            self.assertFalse(plain.compiled)
            # weights only
            m.save_weights(os.path.join(tmp, "w.rnn"))
            fresh = keras.Model.from_config(m.get_config())
            fresh.load_weights(os.path.join(tmp, "w.rnn"))
            np.testing.assert_allclose(fresh.predict([xa, xb], verbose=0),
                                       m.predict([xa, xb], verbose=0), rtol=1e-6)

    def test_every_layer_saves_and_loads(self):
        seq_in = keras.Input((12, 5), name="frames")
        tok_in = keras.Input((None,), dtype="int32", name="tokens")
        x = layers.Conv1D(6, 3, padding="same", activation="relu")(seq_in)
        x = layers.MaxPooling1D(2)(x)
        x = layers.SpatialDropout1D(0.1)(x)
        x = layers.LayerNormalization(epsilon=1e-4)(x)
        x = layers.SimpleRNN(4, return_sequences=True, activation="relu")(x)
        flat = layers.Activation("tanh")(layers.Flatten()(x))
        pooled = layers.GlobalMaxPooling1D()(x)
        v = layers.Dropout(0.2)(layers.Dense(5)(layers.Concatenate()([flat, pooled])))
        rep = layers.RepeatVector(3)(v)
        e = layers.Embedding(9, 5)(tok_in)
        q = layers.Bidirectional(layers.GRU(4, return_sequences=True, reset_after=False),
                                 merge_mode="mul")(e)
        a1 = layers.Attention()([q, layers.TimeDistributed(layers.Dense(4))(rep)])
        a2 = layers.AdditiveAttention(use_scale=False)([a1, q])
        out = layers.GlobalAveragePooling1D()(layers.LSTM(3, return_sequences=True,
                                                          go_backwards=True)(a2))
        m = keras.Model([seq_in, tok_in], out)
        r = np.random.default_rng(2)
        xs = [r.standard_normal((4, 12, 5)).astype(np.float32),
              r.integers(1, 9, (4, 6)).astype(np.int32)]
        want = m.predict(xs, verbose=0)
        with tempfile.TemporaryDirectory() as tmp:
            m.save(os.path.join(tmp, "all.rnn"))
            again = keras.models.load_model(os.path.join(tmp, "all.rnn"))
        self.assertEqual([(l.name, l.class_name) for l in again.layers],
                         [(l.name, l.class_name) for l in m.layers])
        np.testing.assert_allclose(again.predict(xs, verbose=0), want, rtol=1e-6)
        self.assertEqual(again.count_params(), m.count_params())

    def test_file_formats(self):
        m = compiled_tagger()
        with tempfile.TemporaryDirectory() as tmp:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                m.save(os.path.join(tmp, "m.keras"))
            self.assertIn("librnn's model file format", str(w[0].message))
            again = keras.models.load_model(os.path.join(tmp, "m.keras"))
            self.assertEqual(again.count_params(), m.count_params())
            with self.assertRaisesRegex(NotImplementedError, "HDF5"):
                m.save(os.path.join(tmp, "m.h5"))
            import zipfile
            with zipfile.ZipFile(os.path.join(tmp, "real.keras"), "w") as z:
                z.writestr("config.json", "{}")
            # a zip goes to librnn-keras (librnn.load_keras), which refuses
            # this one's empty config (or is not installed): RnnError either way
            with self.assertRaisesRegex(librnn.RnnError, "class_name|librnn-keras"):
                keras.models.load_model(os.path.join(tmp, "real.keras"))


class TestProgress(KerasTest):
    def setUp(self):
        super().setUp()
        self.x, self.y = tag_data(n=64)

    def fd2(self):
        """What the C library would write to file descriptor 2 (nothing)."""
        sys.stderr.flush()
        saved = os.dup(2)
        f = tempfile.TemporaryFile()
        os.dup2(f.fileno(), 2)

        def done():
            os.dup2(saved, 2)
            os.close(saved)
            f.seek(0)
            data = f.read()
            f.close()
            return data
        return done

    def test_verbose_2(self):
        m = compiled_tagger()
        out, done = io.StringIO(), self.fd2()
        with contextlib.redirect_stdout(out):
            h = m.fit(self.x, self.y, batch_size=16, epochs=2, validation_split=0.25,
                      verbose=2)
        self.assertEqual(done(), b"")
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual(lines[0], "Epoch 1/2")
        pat = (r"^3/3 - \d+s - \d+(ms|us|s)/step - accuracy: (\d\.\d{4}) - loss: (\d\.\d{4}) - "
               r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")
        for k, line in ((0, lines[1]), (1, lines[3])):
            mt = re.match(pat, line)
            self.assertIsNotNone(mt, line)
            self.assertEqual(mt.group(2), "%.4f" % h.history["accuracy"][k])
            self.assertEqual(mt.group(3), "%.4f" % h.history["loss"][k])

    def test_verbose_1_on_a_terminal_and_in_a_log(self):
        m = compiled_tagger()
        out, done = _Terminal(), self.fd2()
        with contextlib.redirect_stdout(out):
            m.fit(self.x, self.y, batch_size=16, epochs=2, verbose=1)
        self.assertEqual(done(), b"")
        text = out.getvalue()
        self.assertTrue(text.startswith("Epoch 1/2\n\r\x1b[1m1/4\x1b[0m \x1b[32m━━━━━\x1b[0m"),
                        repr(text[:80]))
        plain = re.sub("\x1b\\[[0-9;]*m", "", text)
        finals = re.findall(r"\r(4/4 ━{20} \d+s \d+(?:ms|us|s)/step - accuracy: \d\.\d{4} - "
                            r"loss: \d\.\d{4}) *\n", plain)
        self.assertEqual(len(finals), 2, repr(plain))
        self.assertIn("Epoch 2/2\n", plain)
        # a log file: one line per epoch, plain text
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            m.fit(self.x, self.y, batch_size=16, epochs=1)   # verbose="auto" is 1
        self.assertRegex(out.getvalue(), r"^4/4 ━{20} \d+s \d+(ms|us|s)/step - accuracy: "
                                         r"\d\.\d{4} - loss: \d\.\d{4}\n$")

    def test_evaluate_predict_and_silence(self):
        m = compiled_tagger()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            m.evaluate(self.x, self.y)
            m.predict(self.x, verbose=2)
            m.fit(self.x, self.y, verbose=0)
            m.predict(self.x, verbose=0)
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], r"^2/2 ━{20} \d+s \d+(ms|us|s)/step - accuracy: "
                                   r"\d\.\d{4} - loss: \d\.\d{4}$")
        self.assertRegex(lines[1], r"^2/2 - \d+s - \d+(ms|us|s)/step$")


class TestUnsupported(KerasTest):
    def assertRefused(self, fn, what):
        with self.assertRaises(NotImplementedError) as cm:
            fn()
        self.assertIn(what, str(cm.exception))
        self.assertTrue(str(cm.exception).startswith("librnn.keras: "), str(cm.exception))

    def test_layer_arguments(self):
        self.assertRefused(lambda: layers.LSTM(4, kernel_regularizer="l2"),
                           "LSTM(kernel_regularizer='l2') is not supported")
        self.assertRefused(lambda: layers.GRU(4, recurrent_activation="hard_sigmoid"),
                           "GRU(recurrent_activation='hard_sigmoid')")
        self.assertRefused(lambda: layers.LSTM(4, activation="relu"), "LSTM(activation='relu')")
        self.assertRefused(lambda: layers.Dense(4, activation="gelu"), "Dense(activation='gelu')")
        self.assertRefused(lambda: layers.Bidirectional(layers.GRU(2), merge_mode=None),
                           "Bidirectional(merge_mode=None)")
        self.assertRefused(lambda: layers.Conv1D(2, 3, padding="causal"), "Conv1D(padding=")
        self.assertRefused(lambda: layers.Attention(use_scale=True), "Attention(use_scale=True)")
        self.assertRefused(lambda: layers.Dropout(0.5, noise_shape=(None, 1, 4)), "noise_shape")
        self.assertRefused(lambda: layers.TimeDistributed(layers.LSTM(2)), "TimeDistributed(LSTM)")
        self.assertRefused(lambda: layers.Dense(2, dtype="float16"), "Dense(dtype='float16')")
        self.assertRefused(lambda: layers.Masking(), "keras.layers.Masking")
        self.assertRefused(lambda: keras.ops, "keras.ops")
        with self.assertRaisesRegex(ValueError, "Unrecognized keyword arguments"):
            layers.LSTM(4, foo=1)
        with self.assertRaises(AttributeError):
            layers.NoSuchLayer   # noqa: B018

    def test_models_and_training(self):
        class Sub(keras.Model):
            def call(self, x):
                return x
        self.assertRefused(Sub, "subclassed models")

        class Custom(keras.layers.Layer):
            pass
        self.assertRefused(Custom, "subclassing keras.layers.Layer")
        self.assertRefused(lambda: layers.Dense(2)(np.ones((2, 3))), "eager")
        self.assertRefused(lambda: keras.optimizers.Adam(amsgrad=True), "Adam(amsgrad=True)")
        self.assertRefused(lambda: keras.optimizers.SGD(weight_decay=0.1), "SGD(weight_decay")
        self.assertRefused(lambda: keras.optimizers.Adagrad(), "keras.optimizers.Adagrad")
        m = tagger()
        self.assertRefused(lambda: m.compile(loss="mae"), "loss 'mae'")
        self.assertRefused(lambda: m.compile(loss="mse", metrics=["accuracy"]),
                           "metrics=['accuracy'] with loss mean_squared_error")
        self.assertRefused(lambda: m.compile(loss="sparse_categorical_crossentropy",
                                             metrics=["mae"]), "metric 'mae'")
        b = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
        self.assertRefused(lambda: b.compile(loss=keras.losses.BinaryCrossentropy(
            from_logits=True), metrics=["accuracy"]), "threshold")
        b.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
        m.compile(loss="sparse_categorical_crossentropy")
        x, y = tag_data(n=8)
        self.assertRefused(lambda: m.fit(x, y, sample_weight=np.ones(8)), "sample_weight")
        self.assertRefused(lambda: m.fit(x, y, class_weight={0: 1.0}), "class_weight")
        tf_data = type("Dataset", (), {"element_spec": None})()
        self.assertRefused(lambda: m.fit(tf_data, verbose=0), "tf.data.Dataset")
        left = keras.utils.pad_sequences([[3, 4], [5, 6, 7]])     # padding="pre"
        self.assertRefused(lambda: m.predict(left, verbose=0), "padding='post'")

    def test_masks_keras_would_treat_differently(self):
        i = keras.Input((None,), dtype="int32")
        e = layers.Embedding(5, 4, mask_zero=True)(i)
        f = layers.Dense(4)(layers.Embedding(5, 4)(i))
        self.assertRefused(lambda: layers.Concatenate()([e, f]),
                           "Concatenate of inputs with different masks")
        _, h = layers.GRU(4, return_state=True)(e)
        self.assertRefused(lambda: layers.Bidirectional(layers.GRU(4))(e, initial_state=[h, h]),
                           "initial_state")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            layers.GlobalMaxPooling1D()(e)
        self.assertIn("Keras drops the mask", str(w[0].message))


if __name__ == "__main__":
    unittest.main()
