# SPDX-License-Identifier: Apache-2.0
"""Models and layers: building (every layer kind, functional graphs), forward and
backward against numpy formulas, weights and parameters, states, optimizers in
custom loops, saving and loading, lifetimes."""
import gc
import os
import tempfile
import unittest

import numpy as np

import librnn

from _util import rng


def dense_model(features=5, units=3, activation="tanh", seed=0):
    m = librnn.Model(seed=seed)
    m.input(shape=(features,))
    layer = m.dense(units, activation=activation)
    return m, layer


class TestBuilding(unittest.TestCase):
    def test_keras_parameter_counts_and_summary(self):
        m = librnn.Model()
        m.input(shape=(None,), dtype="int32")
        e = m.embedding(10000, 64, mask_zero=True)
        b = m.lstm(64, return_sequences=True, bidirectional=True)
        m.global_max_pooling1d()
        m.dense(1, activation="sigmoid")
        self.assertEqual(e.count_params(), 640000)
        self.assertEqual(b.count_params(), 66048)
        self.assertEqual(m.count_params(), 706177)
        self.assertEqual([l.name for l in m.layers][1:3], ["embedding", "bidirectional"])
        self.assertEqual(m.num_layers, 5)
        text = m.summary()
        self.assertIn("Total params: 706,177", text)
        got = []
        m.summary(print_fn=got.append)
        self.assertEqual(got, [text])
        self.assertIn("params=706177", repr(m))
        self.assertEqual(m.layer("bidirectional"), b)
        self.assertEqual(m.get_layer(2), b)
        with self.assertRaises(KeyError):
            m.layer("nope")
        m.close()

    def test_every_small_layer(self):
        m = librnn.Model(seed=2)
        m.input(shape=(8, 3))
        m.conv1d(4, 3, padding="same", activation="relu")
        m.max_pooling1d(2)
        m.spatial_dropout1d(0.1)
        m.dropout(0.1)
        m.activation("tanh")
        m.flatten()
        m.repeat_vector(3)
        m.simple_rnn(5, return_sequences=True, activation="relu")
        m.gru(5, return_sequences=True, reset_after=False)
        m.global_pooling("average")
        m.dense(2, activation="softmax", kernel_initializer="orthogonal", bias_initializer="ones")
        out = m.forward(rng().standard_normal((4, 8, 3)))
        self.assertEqual(out.shape, (4, 2))
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
        names = [l.name for l in m.layers[1:]]
        self.assertEqual(names[0], "conv1d")
        self.assertIn("flatten", names)
        m.close()

    def test_bad_options(self):
        m = librnn.Model()
        with self.assertRaises(librnn.RnnError) as cm:
            m.dense(3)                       # no input yet
        self.assertEqual(cm.exception.status_name, "RNN_ERR_STATE")
        m.input(shape=(None, 3))
        with self.assertRaises(librnn.RnnError) as cm:
            m.lstm(4, go_backwards=True, bidirectional=True)
        self.assertEqual(cm.exception.status_name, "RNN_ERR_INVALID_ARG")
        with self.assertRaises(librnn.RnnError):
            m.dropout(1.5)
        with self.assertRaises(ValueError):
            m.recurrent("transformer", 4)
        with self.assertRaises(TypeError):
            m.input(shape=(3,), dtype="float64")
        m.close()


class TestForwardBackward(unittest.TestCase):
    def test_dense_matches_numpy(self):
        m, layer = dense_model()
        W, b = layer.get_weights()
        b = rng(1).standard_normal(b.shape).astype(np.float32)
        layer.set_weights([W, b])
        x = rng(2).standard_normal((6, 5)).astype(np.float32)
        y = m.forward(x, training=True)
        ref = np.tanh(x @ W + b)
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
        dy = rng(3).standard_normal(y.shape).astype(np.float32)
        m.zero_grad()
        m.backward(dy)
        g = dy * (1 - ref ** 2)
        np.testing.assert_allclose(layer.grad("kernel"), x.T @ g, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.grad("bias"), g.sum(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(m.input_grad(0), g @ W.T, rtol=1e-4, atol=1e-5)
        grads = layer.gradients
        self.assertEqual(sorted(grads), ["bias", "kernel"])
        m.backward([dy])                     # accumulates
        np.testing.assert_allclose(layer.grad("bias"), 2 * g.sum(0), rtol=1e-4, atol=1e-5)
        m.zero_grad()
        self.assertEqual(float(np.abs(layer.grad("bias")).sum()), 0.0)
        m.close()

    def test_log_softmax(self):
        # "log_softmax" (RNN_ACT_LOG_SOFTMAX) by name, per step, and Keras' function
        from librnn.keras import activations, layers
        m = librnn.Model(seed=4)
        m.input(shape=(None, 5))
        layer = m.dense(3, activation="log_softmax")
        W, b = layer.get_weights()
        x = 30 * rng(4).standard_normal((2, 4, 5)).astype(np.float32)
        z = (x @ W + b).astype(np.float64)
        ref = z - z.max(-1, keepdims=True)
        ref -= np.log(np.exp(ref).sum(-1, keepdims=True))
        np.testing.assert_allclose(m.forward(x), ref, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(activations.log_softmax(z), ref, rtol=1e-12)
        self.assertEqual(layer.config["config"]["activation"], "log_softmax")
        self.assertEqual(layers.Dense(3, activation="log_softmax").activation, "log_softmax")
        self.assertIs(activations.get("log_softmax"), activations.log_softmax)
        m.close()

    def test_backward_without_training_forward(self):
        m, _ = dense_model()
        m.forward(np.zeros((2, 5), np.float32))
        with self.assertRaises(librnn.RnnError) as cm:
            m.backward(np.zeros((2, 3), np.float32))
        self.assertEqual(cm.exception.status_name, "RNN_ERR_STATE")
        m.close()

    def test_inputs_stay_alive_until_backward(self):
        # The C model reads its last inputs again in backward; the binding keeps
        # them alive even when the caller dropped its arrays.
        def run(keep):
            m = librnn.Model(seed=4)
            m.input(shape=(None, 3))
            m.gru(4, return_sequences=True)
            x = rng(5).standard_normal((3, 6, 3))   # float64: converted to a temporary
            lengths = np.array([6, 2, 4])           # int64: converted too
            m.forward(x if keep else x.copy(), lengths=lengths if keep else lengths.copy(),
                      training=True)
            gc.collect()
            [np.full((3, 6, 3), 1e6) for _ in range(20)]
            m.backward(np.ones((3, 6, 4), np.float32))
            out = m.input_grad(), m.layers[1].grad("kernel")
            m.close()
            return out
        a, b = run(True), run(False)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])

    def test_variable_lengths_give_each_sample_alone(self):
        m = librnn.Model(seed=6)
        m.input(shape=(None, 3))
        m.lstm(5, return_sequences=True, bidirectional=True, merge_mode="sum")
        x = rng(7).standard_normal((3, 7, 3)).astype(np.float32)
        lengths = np.array([7, 3, 5], np.int32)
        y = m.forward(x, lengths=lengths)
        for n, L in enumerate(lengths):
            alone = m.forward(x[n:n + 1, :L])
            np.testing.assert_allclose(y[n, :L], alone[0], rtol=1e-5, atol=1e-6)
            self.assertEqual(float(np.abs(y[n, L:]).sum()), 0.0)
        m.close()

    def test_reference_backend_agrees(self):
        x = rng(8).standard_normal((2, 5, 3)).astype(np.float32)
        outs = []
        weights = None
        for backend in ("onednn", "reference"):
            m = librnn.Model(seed=9, backend=backend)
            m.input(shape=(None, 3))
            layer = m.gru(4, return_sequences=True)
            if weights is None:
                weights = layer.get_weights()
            else:
                layer.set_weights(weights)
            outs.append(m.forward(x))
            m.close()
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)

    def test_mixed_bfloat16_precision(self):
        x = rng(8).standard_normal((3, 6, 4)).astype(np.float32)
        for backend in ("reference", "onednn"):  # the reference emulates bf16 everywhere
            m = librnn.Model(seed=9, backend=backend)
            m.input(shape=(None, 4))
            m.lstm(16, return_sequences=True)
            m.dense(3)
            self.assertEqual(m.precision, "float32")
            y32 = m.forward(x)
            try:
                m.set_precision("mixed_bfloat16")
            except librnn.RnnError as e:  # a CPU without AVX512-BF16 or AMX
                self.assertEqual(backend, "onednn")
                self.assertEqual(e.status, 12)  # RNN_ERR_UNSUPPORTED
                self.assertIn("AVX512-BF16", e.message)
                self.assertEqual(m.precision, "float32")
                m.close()
                continue
            self.assertEqual(m.precision, "mixed_bfloat16")
            y16 = m.forward(x)
            self.assertFalse(np.array_equal(y16, y32))
            self.assertLess(np.abs(y16 - y32).max(), 2e-2 * np.abs(y32).max())
            m.set_precision("f32")
            self.assertEqual(m.precision, "float32")
            np.testing.assert_array_equal(m.forward(x), y32)
            with self.assertRaises(ValueError):
                m.set_precision("float16")
            m.set_precision("bf16")
            with tempfile.TemporaryDirectory() as d:  # a runtime setting, never saved
                m.save(os.path.join(d, "m.rnn"))
                m2 = librnn.load(os.path.join(d, "m.rnn"), backend=backend)
                self.assertEqual(m2.precision, "float32")
                m2.close()
            m.close()


class TestWeights(unittest.TestCase):
    def test_keras_and_pytorch_layouts(self):
        m = librnn.Model(seed=1)
        m.input(shape=(None, 3))
        lstm = m.lstm(4, return_sequences=True)
        gru = m.gru(2, reset_after=False)
        self.assertEqual(lstm.weights_info(), [("kernel", (3, 16)), ("recurrent_kernel", (4, 16)),
                                               ("bias", (16,))])
        self.assertEqual([n for n, _ in lstm.weights_info("pytorch")],
                         ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        w = lstm.get_weights("pytorch")
        self.assertEqual([a.shape for a in w], [(16, 3), (16, 4), (16,), (16,)])
        new = [rng(i).standard_normal(a.shape).astype(np.float32) for i, a in enumerate(w)]
        lstm.set_weights(new, "pytorch")
        back = lstm.get_weights("pytorch")
        np.testing.assert_allclose(back[0], new[0])
        np.testing.assert_allclose(back[2], new[2] + new[3], rtol=1e-6)  # biases summed
        self.assertEqual(float(np.abs(back[3]).sum()), 0.0)
        keras = lstm.get_weights()
        lstm.set_weights({"kernel": keras[0], "recurrent_kernel": keras[1], "bias": keras[2]})
        with self.assertRaises(KeyError):
            lstm.set_weights({"kernel": keras[0]})
        with self.assertRaises(librnn.RnnError) as cm:
            lstm.set_weights([keras[1], keras[0], keras[2]])
        self.assertEqual(cm.exception.status_name, "RNN_ERR_SHAPE")
        with self.assertRaises(librnn.RnnError) as cm:
            gru.get_weights("pytorch")
        self.assertEqual(cm.exception.status_name, "RNN_ERR_UNSUPPORTED")
        all_w = m.get_weights()
        self.assertEqual(len(all_w), 6)
        m.set_weights(all_w)
        with self.assertRaises(ValueError):
            m.set_weights(all_w + [all_w[0]])
        m.close()

    def test_params_by_name_and_index(self):
        m = librnn.Model(seed=1)
        m.input(shape=(None, 3))
        bi = m.gru(2, bidirectional=True)
        self.assertEqual(bi.param_names, ["forward/kernel", "forward/recurrent_kernel",
                                          "forward/bias", "backward/kernel",
                                          "backward/recurrent_kernel", "backward/bias"])
        self.assertEqual(bi.num_params, 6)
        self.assertEqual(bi.get_param("forward/bias").shape, (2, 6))
        k = np.full((3, 6), 0.5, np.float32)
        bi.set_param("backward/kernel", k)
        np.testing.assert_array_equal(bi.get_param(3), k)
        np.testing.assert_array_equal(bi.params["backward/kernel"], k)
        with self.assertRaises(librnn.RnnError) as cm:
            bi.get_param("nope")
        self.assertEqual(cm.exception.status_name, "RNN_ERR_RANGE")
        m.close()

    def test_embedding_weights_and_freezing(self):
        m = librnn.Model(seed=1)
        m.input(shape=(None,), dtype="int32")
        vec = rng().standard_normal((6, 3)).astype(np.float32)
        emb = m.embedding(6, 3, weights=vec, trainable=False)
        d = m.dense(2)
        self.assertEqual([l.type for l in m.layers], ["InputLayer", "Embedding", "Dense"])
        self.assertEqual([l.trainable for l in m.layers], [False, False, True])
        m.compile(loss="mse", optimizer=librnn.SGD(0.5))
        x = np.array([[1, 2, 3]], np.int32)
        np.testing.assert_allclose(m.forward(x)[0, :, :], vec[[1, 2, 3]] @ d.get_param(0)
                                   + d.get_param(1), rtol=1e-5, atol=1e-6)
        before = d.get_param("kernel")
        m.train_step(x, np.ones((1, 3, 2), np.float32))
        np.testing.assert_array_equal(emb.get_param("embeddings"), vec)   # frozen
        self.assertFalse(np.array_equal(d.get_param("kernel"), before))
        d.trainable = False
        self.assertFalse(d.trainable)
        frozen = d.get_param("kernel")
        m.train_step(x, np.zeros((1, 3, 2), np.float32))
        np.testing.assert_array_equal(d.get_param("kernel"), frozen)
        m.close()


class TestStates(unittest.TestCase):
    def test_initial_state_and_its_gradient(self):
        m = librnn.Model(seed=3)
        m.input(shape=(None, 2))
        lstm = m.lstm(3, return_state=True)
        self.assertEqual(lstm.num_states, 2)
        self.assertEqual(lstm.num_outputs, 3)
        x = rng().standard_normal((2, 4, 2)).astype(np.float32)
        y0, h0, c0 = m.forward(x)
        np.testing.assert_array_equal(y0, h0)
        states = [np.full((2, 3), 0.3, np.float32), np.full((2, 3), -0.2, np.float32)]
        lstm.set_initial_state(states)
        y1, _, _ = m.forward(x, training=True)
        self.assertFalse(np.allclose(y0, y1))
        np.testing.assert_array_equal(lstm.output(0), y1)
        m.backward([np.ones((2, 3), np.float32), None, None])
        self.assertEqual(lstm.initial_state_grad(0).shape, (2, 3))
        self.assertGreater(float(np.abs(lstm.initial_state_grad(1)).sum()), 0.0)
        lstm.set_initial_state(None)
        np.testing.assert_allclose(m.forward(x)[0], y0, rtol=1e-6)
        m.close()

    def test_stateful_and_reset(self):
        m = librnn.Model(seed=3)
        m.input(shape=(None, 2))
        g = m.gru(3, stateful=True)
        x = rng().standard_normal((2, 4, 2)).astype(np.float32)
        a = m.forward(x)
        b = m.forward(x)
        self.assertFalse(np.allclose(a, b))
        g.reset_states()
        np.testing.assert_allclose(m.forward(x), a, rtol=1e-6)
        m.reset_states()
        np.testing.assert_allclose(m.forward(x), a, rtol=1e-6)
        m.close()


class TestGenericLayers(unittest.TestCase):
    """Layers by kind name and their configuration (the kinds' field tables)."""

    def test_add_layer_and_config_round_trip(self):
        m = librnn.Model(seed=2)
        m.input(shape=(None,), dtype="int32")
        e = m.add_layer("embedding", input_dim=7, output_dim=5, mask_zero=True)
        r = m.add_layer("recurrent", cell="gru", units=6, return_sequences=True)
        n = m.add_layer("layer_normalization", epsilon=1e-5)
        d = m.add_layer("dense", units=3, activation="softmax")
        self.assertEqual(e.config["class_name"], "Embedding")
        self.assertEqual(r.config["class_name"], "GRU")
        self.assertEqual(r.config["config"]["reset_after"], True)
        self.assertEqual(sorted(n.config["config"]), ["center", "epsilon", "scale"])
        self.assertAlmostEqual(n.config["config"]["epsilon"], 1e-5, places=9)
        self.assertEqual(d.config["config"]["activation"], "softmax")
        self.assertEqual(d.config["kind"], "dense")
        # The same model through the named builders has the same parameters.
        m2 = librnn.Model(seed=2)
        m2.input(shape=(None,), dtype="int32")
        m2.embedding(7, 5, mask_zero=True)
        m2.gru(6, return_sequences=True)
        m2.layer_normalization(epsilon=1e-5)
        m2.dense(3, activation="softmax")
        x = np.array([[1, 2, 3, 0], [4, 5, 0, 0]], np.int32)
        np.testing.assert_array_equal(m.forward(x), m2.forward(x))
        with self.assertRaises(librnn.RnnError) as cm:
            m.add_layer("no_such_kind")
        self.assertIn("rnn_model_add_layer: kind \"no_such_kind\"", str(cm.exception))
        with self.assertRaises(librnn.RnnError) as cm:
            m.add_layer("dense", unit=3)
        self.assertIn("config has no field \"unit\"", str(cm.exception))
        with self.assertRaises(librnn.RnnError) as cm:
            m.add_layer("dense", units=0)
        self.assertIn("config.units must be an integer in [1, 16777216]", str(cm.exception))
        m.close()
        m2.close()

    def test_layer_normalization_normalises_rows(self):
        m = librnn.Model(seed=1)
        m.input(shape=(None, 5))
        n = m.layer_normalization()
        x = rng(3).standard_normal((2, 3, 5)).astype(np.float32) * 4 + 2
        y = m.forward(x)
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-5)
        self.assertEqual(sorted(n.param_names), ["beta", "gamma"])
        m.close()


class TestFunctional(unittest.TestCase):
    def test_two_inputs_concatenate_and_outputs(self):
        m = librnn.Model(seed=5)
        a = m.input(shape=(None, 3))
        b = m.input(shape=(None, 2))
        ra = m.lstm(4, on=a)
        rb = m.gru(4, on=b)
        m.concatenate(ra, rb)
        d = m.dense(2)
        m.set_outputs([d, ra])
        self.assertEqual((m.num_inputs, m.num_outputs), (2, 2))
        xa = rng(1).standard_normal((3, 5, 3)).astype(np.float32)
        xb = rng(2).standard_normal((3, 6, 2)).astype(np.float32)
        out_d, out_a = m.forward([xa, xb], lengths=[None, np.array([6, 1, 3], np.int32)])
        self.assertEqual(out_d.shape, (3, 2))
        np.testing.assert_array_equal(out_a, ra.output())
        np.testing.assert_array_equal(out_a, m.output(1))
        with self.assertRaises(ValueError):
            m.forward(xa)                    # two inputs needed
        m.set_outputs(None)
        self.assertEqual(m.num_outputs, 1)
        m.close()

    def test_shared_layer_and_connect_next(self):
        m = librnn.Model(seed=5)
        inp = m.input(shape=(4,))
        d = m.dense(3)
        d2 = m.shared(d, on=inp)
        m.concatenate([d, (d2, 0)])
        self.assertEqual(m.count_params(), 15)      # counted once
        x = rng().standard_normal((2, 4)).astype(np.float32)
        y = m.forward(x)
        np.testing.assert_allclose(y[:, :3], y[:, 3:])
        m.close()

    def test_encoder_decoder_with_attention(self):
        V = 9
        m = librnn.Model(seed=7)
        m.input(shape=(None,), dtype="int32")
        e = m.embedding(V, 4, mask_zero=True)
        enc = m.lstm(6, return_sequences=True, return_state=True)
        m.input(shape=(None,), dtype="int32")
        m.shared(e)
        dec = m.lstm(6, return_sequences=True)
        dec.connect_initial_state([(enc, 1), (enc, 2)])
        att = m.attention(dec, (enc, 0), score="general", scale=True)
        m.concatenate(att, dec)
        m.dense(8, activation="tanh")
        m.dense(V, activation="softmax")
        src = np.array([[3, 4, 5, 0], [6, 7, 0, 0]], np.int32)
        tgt = np.array([[1, 5, 4, 3, 2], [1, 7, 6, 2, 0]], np.int32)
        probs = m.forward([src, tgt])
        self.assertEqual(probs.shape, (2, 5, V))
        w = att.output(1)
        self.assertEqual(w.shape, (2, 5, 4))
        np.testing.assert_allclose(w[0].sum(-1), 1.0, rtol=1e-5)
        self.assertEqual(float(np.abs(w[1, :, 2:]).sum()), 0.0)   # padding gets no weight
        m.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  reduction="masked_mean")
        y = np.array([[5, 4, 3, 2, 0], [7, 6, 2, 0, 0]], np.int32)
        first = m.test_step([src, tgt], y)[0]
        for _ in range(30):
            m.train_step([src, tgt], y)
        self.assertLess(m.test_step([src, tgt], y)[0], first)
        m.close()


class TestOptimizers(unittest.TestCase):
    def test_custom_loop(self):
        m, layer = dense_model(features=4, units=2, activation=None, seed=1)
        r = rng(2)
        x = r.standard_normal((32, 4)).astype(np.float32)
        W = r.standard_normal((4, 2)).astype(np.float32)
        y = x @ W
        with librnn.Optimizer(m, librnn.SGD(0.1, momentum=0.5)) as opt:
            self.assertAlmostEqual(opt.learning_rate, 0.1, places=6)
            losses = []
            for _ in range(40):
                p = m.forward(x, training=True)
                losses.append(float(((p - y) ** 2).mean()))
                m.zero_grad()
                m.backward(2 * (p - y) / p.size)
                opt.step()
            self.assertEqual(opt.iterations, 40)
            opt.learning_rate = 0.01
            self.assertAlmostEqual(opt.learning_rate, 0.01, places=6)
        self.assertTrue(opt.closed)
        with self.assertRaises(ValueError):
            opt.step()
        self.assertLess(losses[-1], 0.05 * losses[0])
        m.close()

    def test_configs(self):
        self.assertAlmostEqual(librnn.SGD().get_config()["learning_rate"], 0.01, places=6)
        self.assertAlmostEqual(librnn.AdamW().get_config()["weight_decay"], 0.004, places=6)
        self.assertAlmostEqual(librnn.RMSprop(rho=0.8).get_config()["rho"], 0.8, places=6)
        self.assertEqual(librnn.Nadam(clipnorm=1.0).get_config()["clipnorm"], 1.0)
        self.assertIn("learning_rate=0.5", repr(librnn.Adam(0.5)))
        with self.assertRaises(TypeError):
            librnn.Adam(betas=(0.9, 0.99))
        with self.assertRaises(ValueError):
            librnn.Model().compile(optimizer="lbfgs")
        m, _ = dense_model()
        with self.assertRaises(librnn.RnnError) as cm:
            librnn.SGD(momentum=2.0).create(m)
        self.assertIn("momentum", cm.exception.message)
        m.close()

    def test_compiled_optimizer_is_borrowed(self):
        m, _ = dense_model()
        with self.assertRaises(librnn.RnnError) as cm:
            m.optimizer
        self.assertEqual(cm.exception.status_name, "RNN_ERR_STATE")
        m.compile(loss="mse", optimizer=librnn.Adam(0.005))
        opt = m.optimizer
        self.assertAlmostEqual(opt.learning_rate, 0.005, places=6)
        m.train_step(np.ones((2, 5), np.float32), np.zeros((2, 3), np.float32))
        self.assertEqual(opt.iterations, 1)
        opt.close()                          # borrowed: a no-op
        self.assertEqual(m.optimizer.iterations, 1)
        m.compile(loss="mse", optimizer="sgd")
        with self.assertRaises(ValueError):
            opt.iterations                   # from the previous compile
        self.assertEqual(m.optimizer.iterations, 0)
        m.close()


class TestSaveLoad(unittest.TestCase):
    def test_round_trip_with_and_without_optimizer(self):
        from _util import tagging_data, tiny_tagger
        m = tiny_tagger()
        x, y, lengths = tagging_data(n=32)
        for _ in range(3):
            m.train_step(x, y, lengths)
        with tempfile.TemporaryDirectory() as tmp:
            plain, full = os.path.join(tmp, "m.rnn"), os.path.join(tmp, "m_opt.rnn")
            m.save(plain)
            m.save(full, include_optimizer=True)
            with librnn.load(plain) as a:
                np.testing.assert_array_equal(a.predict(x, lengths), m.predict(x, lengths))
                with self.assertRaises(librnn.RnnError):
                    a.optimizer
            with librnn.Model.load(full, seed=1) as b:
                self.assertEqual(b.optimizer.iterations, 3)
                self.assertEqual(b.train_step(x, y, lengths), m.train_step(x, y, lengths))
            with open(os.path.join(tmp, "bad.rnn"), "wb") as f:
                f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
            with self.assertRaises(librnn.RnnError) as cm:
                librnn.load(os.path.join(tmp, "bad.rnn"))
            self.assertEqual(cm.exception.status_name, "RNN_ERR_FORMAT")
            with self.assertRaises(librnn.RnnError) as cm:
                librnn.load(os.path.join(tmp, "missing.rnn"))
            self.assertEqual(cm.exception.status_name, "RNN_ERR_IO")
        m.close()

    def test_metadata(self):
        m, _ = dense_model()
        self.assertEqual(m.metadata, {})
        self.assertIsNone(m.get_metadata("vocab"))
        self.assertEqual(m.get_metadata("vocab", "none"), "none")
        m.set_metadata("vocab", "the\ncat\nsat")
        m.set_metadata("example", "pos_tagger")
        m.set_metadata("\u00e9t\u00e9", "\u20ac 5")
        m.set_metadata("example", "sentiment")  # replaces
        m.set_metadata("absent", None)          # removing an absent key is fine
        want = {"example": "sentiment", "vocab": "the\ncat\nsat", "\u00e9t\u00e9": "\u20ac 5"}
        self.assertEqual(m.metadata, want)
        self.assertEqual(list(m.metadata), ["example", "vocab", "\u00e9t\u00e9"])  # sorted
        d = m.metadata
        d["x"] = "y"  # a copy
        self.assertNotIn("x", m.metadata)
        for key, value, err in (("format", "v", "reserved"), ("librnn.x", "v", "reserved"),
                                ("", "v", "1 to 255 bytes"), ("k" * 256, "v", "1 to 255 bytes")):
            with self.assertRaises(librnn.RnnError) as cm:
                m.set_metadata(key, value)
            self.assertEqual(cm.exception.status_name, "RNN_ERR_INVALID_ARG")
            self.assertIn(err, str(cm.exception))
        with self.assertRaises(ValueError):
            m.set_metadata("k", "a\0b")  # would be cut at the NUL by C
        with self.assertRaises(UnicodeEncodeError):
            m.set_metadata("k", "\ud800")  # a lone surrogate is not UTF-8
        with self.assertRaises(TypeError):
            m.set_metadata("k", 3)
        self.assertEqual(m.metadata, want)  # failures changed nothing
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.rnn")
            m.save(path)
            with librnn.load(path) as l:
                self.assertEqual(l.metadata, want)
                l.set_metadata("vocab", None)
                self.assertEqual(l.get_metadata("vocab"), None)
            with open(path, "rb") as f:  # other safetensors readers see plain strings
                raw = f.read()
            import json
            n = int.from_bytes(raw[:8], "little")
            meta = json.loads(raw[8:8 + n])["__metadata__"]
            self.assertEqual(meta["example"], "sentiment")
            self.assertEqual(meta["vocab"], "the\ncat\nsat")
        m.close()


class TestLifetime(unittest.TestCase):
    def test_closed_model(self):
        gc.collect()
        before = librnn.memory_used()
        m, layer = dense_model()
        opt = librnn.Adam().create(m)
        m.close()
        m.close()
        self.assertTrue(m.closed)
        self.assertTrue(opt.closed)          # closed with its model
        self.assertEqual(librnn.memory_used(), before)
        with self.assertRaises(ValueError):
            layer.name
        with self.assertRaises(ValueError):
            m.forward(np.zeros((1, 5), np.float32))
        self.assertIn("closed", repr(m))
        self.assertIn("closed", repr(layer))

    def test_layer_keeps_its_model_alive(self):
        gc.collect()
        before = librnn.memory_used()

        def make():
            m = librnn.Model()
            m.input(shape=(3,))
            return m.dense(2)
        layer = make()
        gc.collect()
        self.assertEqual(layer.name, "dense")
        self.assertEqual(layer.model.count_params(), 8)
        del layer
        gc.collect()
        self.assertEqual(librnn.memory_used(), before)

    def test_layers_compare_by_identity(self):
        m, layer = dense_model()
        self.assertEqual(m.layers[1], layer)
        self.assertNotEqual(m.layers[0], layer)
        self.assertEqual(len({m.layers[1], layer}), 1)
        m.close()


if __name__ == "__main__":
    unittest.main()
