#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the tf2onnx fixtures of tests/onnx/fixtures/ (tf2onnx_*, committed).

  python3 -m venv /var/cache/librnn/tf2onnx-venv
  /var/cache/librnn/tf2onnx-venv/bin/pip install -r tests/onnx/requirements-tf2onnx.txt
  /var/cache/librnn/tf2onnx-venv/bin/python tests/onnx/make_tf2onnx_fixtures.py [outdir]

Run with tensorflow-cpu 2.15.1 (Keras 2, tf.keras), tf2onnx 1.16.1, onnx
1.16.2, onnxruntime 1.19.2, numpy 1.26.4, protobuf 3.20.3 (the pins of
requirements-tf2onnx.txt): tf2onnx's last release supports TensorFlow up to
2.15, which is what its users run.

Small Keras models of the example architectures (fixed seeds, every weight
drawn from a seeded normal so that biases are not zero) are converted by
tf2onnx.convert.from_keras (opset 14, one case 18) and run by Keras and by
ONNX Runtime on fixed inputs; the two must agree (1e-5, else the script
stops). Each fixture is <name>.onnx and <name>.io: the inputs and Keras'
outputs, in the format of make_fixtures.py (tests/onnx/tensors.c reads it).
Models whose graph librnn refuses (tf2onnx leaves a Loop where it cannot
rewrite a Keras recurrent layer into an LSTM/GRU/RNN operator: here
SimpleRNN, GRU reset_after=False and Embedding mask_zero) are written as
<name>.onnx alone. Two runs in the same environment write the same .io bytes
and .onnx files with the same initializers and operators, but not the same
bytes: tf2onnx's generated names differ, and for the two sentiment models
the order of the nodes.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_io  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "fixtures")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")


def models(tf):
    """(name, model, input kind, input shape, vocabulary or features, opset, refused)."""
    keras = tf.keras
    L = keras.layers

    def ids_in():
        return keras.Input((None,), dtype="int32", name="x")

    def seq_in(F):
        return keras.Input((None, F), dtype="float32", name="x")

    out = []

    def add(name, inp, y, kind, shape, n, opset=14, refused=False):
        out.append((name, keras.Model(inp, y, name=name), kind, shape, n, opset, refused))

    # the sentiment classifier: Embedding + Bidirectional(LSTM) + Dense(sigmoid)
    keras.utils.set_random_seed(1)
    x = ids_in()
    h = L.Embedding(40, 8, name="emb")(x)
    h = L.Bidirectional(L.LSTM(6, name="lstm"), name="bilstm")(h)
    add("tf2onnx_sentiment", x, L.Dense(1, activation="sigmoid", name="out")(h),
        "ids", (3, 11), 40)

    # examples/sentiment's pooling head: BiGRU (return_sequences), max and mean over time
    keras.utils.set_random_seed(2)
    x = ids_in()
    h = L.Embedding(40, 8, name="emb")(x)
    h = L.Bidirectional(L.GRU(6, return_sequences=True, name="gru"), name="bigru")(h)
    h = L.Concatenate(name="cat")([L.GlobalMaxPooling1D(name="max")(h),
                                   L.GlobalAveragePooling1D(name="mean")(h)])
    add("tf2onnx_sentiment_pooling", x, L.Dense(1, activation="sigmoid", name="out")(h),
        "ids", (3, 11), 40, opset=18)

    # the tagger: Embedding + Bidirectional(GRU, return_sequences) + TimeDistributed(Dense)
    keras.utils.set_random_seed(3)
    x = ids_in()
    h = L.Embedding(50, 8, name="emb")(x)
    h = L.Bidirectional(L.GRU(7, return_sequences=True, name="gru"), name="bigru")(h)
    add("tf2onnx_tagger", x,
        L.TimeDistributed(L.Dense(5, activation="softmax", name="tags"), name="td")(h),
        "ids", (3, 9), 50)

    # the char model: Embedding + 2 stacked GRUs + Dense(softmax) per step
    keras.utils.set_random_seed(4)
    x = ids_in()
    h = L.Embedding(30, 10, name="emb")(x)
    h = L.GRU(9, return_sequences=True, name="gru1")(h)
    h = L.GRU(9, return_sequences=True, name="gru2")(h)
    add("tf2onnx_char_gru", x, L.Dense(30, activation="softmax", name="next")(h),
        "ids", (2, 12), 30)

    # float sequences: LSTM with return_sequences and a per-step Dense
    keras.utils.set_random_seed(5)
    x = seq_in(4)
    h = L.LSTM(5, return_sequences=True, name="lstm")(x)
    add("tf2onnx_lstm_seq", x, L.Dense(3, activation="tanh", name="out")(h),
        "x", (2, 6, 4), 4)

    # go_backwards, last output only (GRU) and with return_sequences (LSTM)
    keras.utils.set_random_seed(6)
    x = seq_in(4)
    h = L.GRU(6, go_backwards=True, name="gru")(x)
    add("tf2onnx_gru_backwards", x, L.Dense(2, name="out")(h), "x", (3, 5, 4), 4)

    keras.utils.set_random_seed(7)
    x = seq_in(4)
    h = L.LSTM(5, go_backwards=True, return_sequences=True, name="lstm")(x)
    add("tf2onnx_lstm_backwards_seq", x, h, "x", (3, 5, 4), 4)

    # the LSTM's final states (return_state)
    keras.utils.set_random_seed(8)
    x = seq_in(3)
    y, sh, sc = L.LSTM(4, return_state=True, name="lstm")(x)
    add("tf2onnx_lstm_states", x, [L.Dense(2, name="out")(y), sh, sc], "x", (2, 5, 3), 3)

    # GRU reset_after=False (linear_before_reset 0)
    keras.utils.set_random_seed(9)
    x = seq_in(4)
    h = L.GRU(5, reset_after=False, return_sequences=True, name="gru")(x)
    add("tf2onnx_gru_reset_before", x, h, "x", (2, 5, 4), 4)

    # SimpleRNN
    keras.utils.set_random_seed(10)
    x = seq_in(4)
    h = L.SimpleRNN(5, return_sequences=True, name="rnn")(x)
    add("tf2onnx_simple_rnn", x, h, "x", (2, 5, 4), 4)

    # Embedding(mask_zero=True): Keras' masking of the recurrent layer
    keras.utils.set_random_seed(11)
    x = ids_in()
    h = L.Embedding(20, 6, mask_zero=True, name="emb")(x)
    h = L.LSTM(5, name="lstm")(h)
    add("tf2onnx_mask_zero", x, L.Dense(1, activation="sigmoid", name="out")(h),
        "ids", (3, 7), 20)
    return out


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign((rng.standard_normal(tuple(w.shape)) * 0.5).astype(np.float32))


def main():
    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    os.makedirs(OUT, exist_ok=True)
    print("tensorflow", tf.__version__, "tf2onnx", tf2onnx.__version__, "onnx", onnx.__version__,
          "onnxruntime", ort.__version__)
    for k, (name, model, kind, shape, n, opset, _) in enumerate(models(tf)):
        randomize(model, 100 + k)
        rng = np.random.default_rng(200 + k)
        if kind == "ids":
            x = rng.integers(1, n, shape).astype(np.int32)
            if name == "tf2onnx_mask_zero":
                x[1, 4:] = 0
            spec = tf.TensorSpec((None, None), tf.int32, name="x")
        else:
            x = rng.standard_normal(shape).astype(np.float32)
            spec = tf.TensorSpec((None, None, n), tf.float32, name="x")
        ys = model(x, training=False)
        ys = [np.asarray(y) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
        path = os.path.join(OUT, name + ".onnx")
        try:
            proto, _ = tf2onnx.convert.from_keras(model, input_signature=[spec], opset=opset)
        except Exception as e:  # noqa: BLE001
            print(name, "tf2onnx failed:", type(e).__name__, str(e)[:300])
            continue
        onnx.save(proto, path)
        ops = sorted({nd.op_type for nd in proto.graph.node})
        sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        outs = sess.run(None, {sess.get_inputs()[0].name: x})
        worst = max(float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))
                    for a, b in zip(outs, ys))
        print("%-28s %6d bytes, Keras vs ONNX Runtime %.2g, outputs %s, ops %s" % (
            name, os.path.getsize(path), worst, [y.shape for y in ys], " ".join(ops)))
        if worst > 1e-5:
            sys.exit("%s: ONNX Runtime and Keras differ by %g" % (name, worst))
        io = os.path.join(OUT, name + ".io")
        if "Loop" in ops:  # refused by librnn: the .onnx alone
            if os.path.exists(io):
                os.unlink(io)
            continue
        write_io(io, [x], ys)


if __name__ == "__main__":
    main()
