# SPDX-License-Identifier: Apache-2.0
"""librnn.keras against real Keras 3 (skipped when ``import keras`` fails).

Each case builds the same model with both, copies Keras' weights into librnn's
with set_weights, and compares predict (1e-5), count_params, get_weights shapes
and the summary tables (text, character for character); some cases also compare
training steps (train_on_batch) and fit's History keys. Run it with an
interpreter that has Keras, e.g. the peers' virtual environment:

    /var/cache/librnn/peers/bin/python python/tests/run_tests.py \\
        --lib build/lib/librnn.so.0 -k keras_parity
"""
import os
import unittest
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

try:
    import keras as real
    real_version = tuple(int(p) for p in real.__version__.split(".")[:2])
    if real_version < (3, 0):
        raise ImportError("Keras %s is not Keras 3" % real.__version__)
    _skip = None
except Exception as e:  # ImportError, or TensorFlow failing to load
    real, _skip = None, "Keras 3 is not importable here (%s): %s" % (type(e).__name__, e)

from librnn import keras as lk  # noqa: E402


def _tokens(n, t, vocab, seed=0, pad=False):
    r = np.random.default_rng(seed)
    x = r.integers(1, vocab, size=(n, t)).astype(np.int32)
    if pad:
        lengths = r.integers(2, t + 1, size=n)
        for i, L in enumerate(lengths):
            x[i, L:] = 0
    return x


def _summary(model):
    out = []
    model.summary(print_fn=out.append)
    return "".join(out)


# Each builder takes the keras module (real Keras or librnn.keras).

def tagger(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(None,), dtype="int32"),
                         L.Embedding(30, 8, mask_zero=True),
                         L.Bidirectional(L.LSTM(6, return_sequences=True), merge_mode="concat"),
                         L.TimeDistributed(L.Dense(5, activation="softmax"))])


def sentiment(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(10,), dtype="int32"),
                         L.Embedding(40, 8),
                         L.Conv1D(6, 3, padding="same", activation="relu"),
                         L.MaxPooling1D(2),
                         L.GRU(7, return_sequences=True),
                         L.GlobalAveragePooling1D(),
                         L.Dropout(0.3),
                         L.Dense(1, activation="sigmoid")])


def stacked(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(None, 4)),
                         L.SimpleRNN(5, return_sequences=True, activation="relu"),
                         L.GRU(6, return_sequences=True, reset_after=False),
                         L.LayerNormalization(),
                         L.LSTM(3, go_backwards=True),
                         L.RepeatVector(4),
                         L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave"),
                         L.Flatten(),
                         L.Activation("tanh"),
                         L.Dense(2)])


def seq2seq(K):
    L = K.layers
    enc_in = K.Input(shape=(None,), dtype="int32", name="enc")
    dec_in = K.Input(shape=(None,), dtype="int32", name="dec")
    emb = L.Embedding(20, 8, mask_zero=True)
    enc_seq, h, c = L.LSTM(10, return_sequences=True, return_state=True)(emb(enc_in))
    dec_seq = L.LSTM(10, return_sequences=True)(emb(dec_in), initial_state=[h, c])
    ctx = L.AdditiveAttention()([dec_seq, enc_seq])
    x = L.Concatenate()([ctx, dec_seq])
    out = L.Dense(20, activation="softmax")(x)
    return K.Model([enc_in, dec_in], out)


def luong(K):
    L = K.layers
    q_in = K.Input(shape=(None, 4), name="q")
    v_in = K.Input(shape=(None, 4), name="v")
    q = L.GRU(6, return_sequences=True)(q_in)
    v = L.GRU(6, return_sequences=True)(v_in)
    ctx, scores = L.Attention()([q, v], return_attention_scores=True)
    out = L.Dense(3)(L.Concatenate()([ctx, q]))
    return K.Model(inputs=[q_in, v_in], outputs=[out, scores])


def shared_siamese(K):
    L = K.layers
    a = K.Input(shape=(None, 3))
    b = K.Input(shape=(None, 3))
    enc = L.LSTM(5)
    both = L.Concatenate()([enc(a), enc(b)])
    return K.Model([a, b], L.Dense(1, activation="sigmoid")(both))


@unittest.skipIf(real is None, _skip or "")
class TestAgainstKeras(unittest.TestCase):
    def setUp(self):
        self._columns = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "80"   # both summaries lay out for an 80-column terminal
        real.backend.clear_session()
        lk.backend.clear_session()
        real.utils.set_random_seed(0)
        lk.utils.set_random_seed(0)
        warnings.simplefilter("ignore")

    def tearDown(self):
        if self._columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = self._columns
        warnings.resetwarnings()

    def both(self, builder):
        km, lm = builder(real), builder(lk)
        self.assertEqual(lm.count_params(), km.count_params())
        kw = km.get_weights()
        self.assertEqual([w.shape for w in lm.get_weights()], [w.shape for w in kw])
        lm.set_weights(kw)
        for a, b in zip(lm.get_weights(), kw):
            np.testing.assert_array_equal(a, b)
        self.assertEqual(_summary(lm), _summary(km))
        self.assertEqual([l.name for l in lm.layers], [l.name for l in km.layers])
        return km, lm

    def same_predict(self, km, lm, x, atol=1e-5):
        kp = km.predict(x, verbose=0)
        lp = lm.predict(x, verbose=0)
        if isinstance(kp, list):
            self.assertEqual(len(kp), len(lp))
        else:
            kp, lp = [kp], [lp]
        for a, b in zip(lp, kp):
            self.assertEqual(a.shape, b.shape)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol)

    def test_tagger(self):
        km, lm = self.both(tagger)
        self.same_predict(km, lm, _tokens(9, 7, 30))
        # padded: Keras differs only at padded steps (it carries the last output)
        x = _tokens(9, 7, 30, pad=True)
        kp, lp = km.predict(x, verbose=0), lm.predict(x, verbose=0)
        np.testing.assert_allclose(lp[x > 0], kp[x > 0], rtol=1e-5, atol=1e-5)

    def test_sentiment(self):
        km, lm = self.both(sentiment)
        self.same_predict(km, lm, _tokens(11, 10, 40))

    def test_stacked(self):
        km, lm = self.both(stacked)
        x = np.random.default_rng(1).standard_normal((5, 4, 4)).astype(np.float32)
        self.same_predict(km, lm, x)

    def test_seq2seq_additive_attention(self):
        km, lm = self.both(seq2seq)
        x = [_tokens(6, 5, 20, 1), _tokens(6, 4, 20, 2)]
        self.same_predict(km, lm, x)

    def test_luong_two_outputs(self):
        km, lm = self.both(luong)
        r = np.random.default_rng(3)
        x = [r.standard_normal((4, 5, 4)).astype(np.float32),
             r.standard_normal((4, 6, 4)).astype(np.float32)]
        self.same_predict(km, lm, x)

    def test_shared_layer(self):
        km, lm = self.both(shared_siamese)
        r = np.random.default_rng(4)
        x = [r.standard_normal((4, 5, 3)).astype(np.float32),
             r.standard_normal((4, 3, 3)).astype(np.float32)]
        self.same_predict(km, lm, x)

    def test_training_steps_match(self):
        """The same weights and batches give the same weights after steps.

        (Keras on TensorFlow updates embedding rows through sparse gradients: with
        Adam, a token seen twice in a batch is updated differently from the dense
        formula librnn follows. The Adam case uses each token once per batch.)"""
        unique = (np.random.default_rng(0).permutation(29)[:24] + 1).reshape(4, 6)
        cases = [(tagger, lambda K: K.optimizers.Adam(0.01, clipnorm=1.0),
                  "sparse_categorical_crossentropy",
                  unique.astype(np.int32), lambda x: x % 5),
                 (seq2seq, lambda K: K.optimizers.SGD(0.5, momentum=0.9),
                  "sparse_categorical_crossentropy",
                  [_tokens(8, 5, 20, 1), _tokens(8, 4, 20, 2)],
                  lambda x: (x[1] * 3) % 20)]
        for builder, opt, loss, x, target in cases:
            real.backend.clear_session()
            lk.backend.clear_session()
            km, lm = self.both(builder)
            y = target(x)
            km.compile(optimizer=opt(real), loss=loss, metrics=["accuracy"])
            lm.compile(optimizer=opt(lk), loss=loss, metrics=["accuracy"])
            for _ in range(3):
                kl = km.train_on_batch(x, y)
                ll = lm.train_on_batch(x, y)
                np.testing.assert_allclose(ll, kl, rtol=1e-4, atol=1e-5)
            for a, b in zip(lm.get_weights(), km.get_weights()):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
            self.assertEqual(_summary(lm), _summary(km))   # now with optimizer params

    def test_masked_loss_and_steps_on_padded_data(self):
        """With padding (mask_zero=True), the same loss and the same weights after steps."""
        x = _tokens(6, 7, 30, seed=3, pad=True)
        km, lm = self.both(tagger)
        for m, K in ((km, real), (lm, lk)):
            m.compile(optimizer=K.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        self.assertAlmostEqual(lm.evaluate(x, x % 5, verbose=0),
                               km.evaluate(x, x % 5, verbose=0), places=5)
        for _ in range(2):
            np.testing.assert_allclose(lm.train_on_batch(x, x % 5),
                                       km.train_on_batch(x, x % 5), rtol=1e-4, atol=1e-5)
        for a, b in zip(lm.get_weights(), km.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)

    def test_fit_history_and_evaluate(self):
        km, lm = self.both(sentiment)
        x = _tokens(40, 10, 40)
        y = (x[:, 0] > 20).astype(np.float32)
        for m, K in ((km, real), (lm, lk)):
            m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
        kh = km.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
        lh = lm.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
        self.assertEqual(list(lh.history), list(kh.history))
        self.assertEqual(lh.epoch, kh.epoch)
        self.assertEqual(lh.params, kh.params)
        self.assertEqual(type(lm.evaluate(x, y, verbose=0)), type(km.evaluate(x, y, verbose=0)))
        self.assertEqual(len(lm.evaluate(x, y, verbose=0)), len(km.evaluate(x, y, verbose=0)))
        self.assertEqual(sorted(lm.evaluate(x, y, verbose=0, return_dict=True)),
                         sorted(km.evaluate(x, y, verbose=0, return_dict=True)))

    def test_schedules(self):
        S, R = lk.optimizers.schedules, real.optimizers.schedules
        pairs = [(S.ExponentialDecay(0.1, 7, 0.5), R.ExponentialDecay(0.1, 7, 0.5)),
                 (S.ExponentialDecay(0.1, 7, 0.5, staircase=True),
                  R.ExponentialDecay(0.1, 7, 0.5, staircase=True)),
                 (S.PiecewiseConstantDecay([3, 9], [0.1, 0.01, 0.001]),
                  R.PiecewiseConstantDecay([3, 9], [0.1, 0.01, 0.001])),
                 (S.InverseTimeDecay(0.1, 4, 0.5), R.InverseTimeDecay(0.1, 4, 0.5)),
                 (S.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True),
                  R.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True)),
                 (S.CosineDecay(0.1, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3),
                  R.CosineDecay(0.1, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3)),
                 (S.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5),
                  R.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5))]
        for mine, theirs in pairs:
            for step in (0, 1, 3, 4, 9, 10, 25):
                self.assertAlmostEqual(mine(step), float(theirs(step)), places=6,
                                       msg="%s at %d" % (type(mine).__name__, step))

    def test_pad_sequences_and_to_categorical(self):
        seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
        for kw in ({}, {"maxlen": 4}, {"padding": "post", "truncating": "post", "maxlen": 2}):
            np.testing.assert_array_equal(lk.utils.pad_sequences(seqs, **kw),
                                          real.utils.pad_sequences(seqs, **kw))
        np.testing.assert_array_equal(lk.utils.to_categorical([[1], [0], [3]], 4),
                                      real.utils.to_categorical([[1], [0], [3]], 4))


if __name__ == "__main__":
    unittest.main()
