#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the Keras model-file fixtures of librnn-keras: real Keras 3 `.keras`
files (model.save) of the example architectures, a `.weights.h5` file
(model.save_weights), the inputs and Keras' outputs. Deterministic weights
(seeded U(-0.5, 0.5), biases included, so that no output is trivially zero).

    /var/cache/librnn/peers/bin/python tests/keras_files/gen_keras_files.py \\
        --out tests/keras_files/fixtures

Only this generator needs Keras; tests/keras_files/test_keras_files.c reads the
committed files. Per model NAME:

  NAME.keras       the model, as Keras 3 saves it (zip: metadata.json,
                   config.json, model.weights.h5)
  NAME.bin         RNNFIX01 arrays (tests/golden/fixture.h):
                     x.{i}   input i (int32 token ids or float32)
                     y.{o}   Keras' output o for those inputs (inference)
                     m.{o}   float 0/1 mask of the steps compared in output o
                             (masked models: Keras' values at padded steps
                             are not librnn's, see tests/keras_golden/README.md)
  sentiment.weights.h5  model.save_weights() of the sentiment model, with
                   other weights than sentiment.keras (sentiment_w.bin: its
                   outputs on the same inputs)
  unsupported_*.keras   files librnn-keras must refuse (one unsupported class,
                   one unsupported argument value)
"""
import argparse
import os
import struct
import zipfile

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_DETERMINISTIC_OPS"] = "1"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers as kl  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

N, T = 3, 7
LENGTHS = [7, 4, 5]


def write(path, arrays):
    out = bytearray(b"RNNFIX01")
    out += struct.pack("<I", len(arrays))
    for name, a in arrays:
        if a.dtype == np.int32:
            dt = 2
        else:
            a, dt = a.astype("<f4"), 1
        nb = name.encode("ascii")
        out += struct.pack("<I", len(nb)) + nb + struct.pack("<II", dt, a.ndim)
        out += struct.pack("<%dq" % a.ndim, *a.shape)
        out += np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
    with open(path, "wb") as f:
        f.write(out)


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in ws])


def tokens(rng, vocab, padded):
    x = rng.integers(1, vocab, size=(N, T)).astype(np.int32)
    if padded:
        for i, n in enumerate(LENGTHS):
            x[i, n:] = 0
    return x


def step_mask(x, padded, shape):
    """0/1 mask of the compared entries of an output of `shape`."""
    m = np.ones(shape, np.float32)
    if padded and len(shape) == 3 and shape[1] == T:
        m *= (x != 0).astype(np.float32)[:, :, None]
    return m


def save(out, name, model, inputs, padded=False):
    keras.utils.set_random_seed(1)
    ys = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    arrays = [("x.%d" % i, x) for i, x in enumerate(inputs)]
    for o, y in enumerate(ys):
        y = np.asarray(y, np.float32)
        arrays.append(("y.%d" % o, y))
        arrays.append(("m.%d" % o, step_mask(inputs[0], padded, y.shape)))
    model.save(os.path.join(out, name + ".keras"))
    write(os.path.join(out, name + ".bin"), arrays)
    return model


def tok_input():
    return keras.Input((None,), dtype="int32")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)

    # Embedding + Bidirectional LSTM + Dense (examples/sentiment)
    keras.utils.set_random_seed(0)
    m = keras.Sequential([tok_input(), kl.Embedding(30, 8, mask_zero=True),
                          kl.Bidirectional(kl.LSTM(6)), kl.Dense(1, activation="sigmoid")],
                         name="sentiment")
    randomize(m, 1)
    x = tokens(rng, 30, True)
    save(out, "sentiment", m, [x], padded=True)
    randomize(m, 2)  # other weights, saved alone
    m.save_weights(os.path.join(out, "sentiment.weights.h5"))
    y = np.asarray(m(x, training=False), np.float32)
    write(os.path.join(out, "sentiment_w.bin"), [("x.0", x), ("y.0", y),
                                                  ("m.0", np.ones(y.shape, np.float32))])

    # Embedding + Bidirectional GRU + TimeDistributed Dense (examples/pos_tagging)
    keras.utils.set_random_seed(0)
    m = keras.Sequential([tok_input(), kl.Embedding(30, 8, mask_zero=True),
                          kl.Bidirectional(kl.GRU(5, return_sequences=True), merge_mode="sum"),
                          kl.Dropout(0.25),
                          kl.TimeDistributed(kl.Dense(7, activation="softmax"))],
                         name="pos_tagger")
    randomize(m, 3)
    save(out, "pos_tagger", m, [tokens(rng, 30, True)], padded=True)

    # 2-layer char GRU (examples/char_lm), one layer of each GRU variant
    keras.utils.set_random_seed(0)
    m = keras.Sequential([tok_input(), kl.Embedding(20, 8),
                          kl.GRU(6, return_sequences=True),
                          kl.GRU(6, return_sequences=True, reset_after=False),
                          kl.Dense(20), kl.Activation("softmax")], name="char_gru")
    randomize(m, 4)
    save(out, "char_gru", m, [tokens(rng, 20, False)])

    # seq2seq encoder (examples/seq2seq): outputs, h, c
    keras.utils.set_random_seed(0)
    i = tok_input()
    e = kl.Embedding(25, 8, mask_zero=True)(i)
    o, h, c = kl.LSTM(6, return_sequences=True, return_state=True)(e)
    m = keras.Model(i, [o, h, c], name="encoder")
    randomize(m, 5)
    save(out, "encoder", m, [tokens(rng, 25, True)], padded=True)

    # encoder-decoder with the encoder states as the decoder's initial state,
    # dot attention and Concatenate (Luong)
    keras.utils.set_random_seed(0)
    ei, di = tok_input(), tok_input()
    eo, eh, ec = kl.LSTM(6, return_sequences=True, return_state=True)(kl.Embedding(25, 8)(ei))
    do = kl.LSTM(6, return_sequences=True)(kl.Embedding(25, 8)(di), initial_state=[eh, ec])
    ctx = kl.Attention()([do, eo])
    hcat = kl.Concatenate()([ctx, do])
    y = kl.Dense(25, activation="softmax")(kl.Dense(6, activation="tanh")(hcat))
    m = keras.Model([ei, di], y, name="seq2seq")
    randomize(m, 6)
    save(out, "seq2seq", m, [tokens(rng, 25, False), tokens(rng, 25, False)])

    # the other layers: Conv1D, MaxPooling1D, LayerNormalization, SimpleRNN,
    # SpatialDropout1D, GlobalAveragePooling1D, RepeatVector, Flatten
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((8, 4)),
                          kl.Conv1D(5, 3, padding="same", activation="relu"),
                          kl.MaxPooling1D(2),
                          kl.LayerNormalization(),
                          kl.SpatialDropout1D(0.1),
                          kl.SimpleRNN(4, return_sequences=True),
                          kl.Flatten(),
                          kl.Dense(3, activation="tanh"),
                          kl.RepeatVector(2),
                          kl.LSTM(3, return_sequences=True),
                          kl.GlobalAveragePooling1D()], name="misc")
    randomize(m, 7)
    save(out, "misc", m, [rng.uniform(-1, 1, (N, 8, 4)).astype(np.float32)])

    # log-probabilities: Dense(activation="log_softmax") and Activation("log_softmax")
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((None, 4)), kl.GRU(5, return_sequences=True),
                          kl.Dense(6, activation="log_softmax"), kl.Dense(3),
                          kl.Activation("log_softmax")], name="log_softmax")
    randomize(m, 11)
    save(out, "log_softmax", m, [rng.uniform(-2, 2, (N, T, 4)).astype(np.float32)])

    # refused: a class librnn has not, an argument value librnn has not
    m = keras.Sequential([keras.Input((None, 4)), kl.Masking(), kl.LSTM(3)])
    m.save(os.path.join(out, "unsupported_class.keras"))
    m = keras.Sequential([keras.Input((None, 4)), kl.LSTM(3, recurrent_activation="hard_sigmoid")])
    m.save(os.path.join(out, "unsupported_arg.keras"))

    # normalise the zip members' timestamps: reruns give the same bytes
    for f in sorted(os.listdir(out)):
        if f.endswith(".keras"):
            p = os.path.join(out, f)
            with zipfile.ZipFile(p) as z:
                items = [(n, z.read(n)) for n in z.namelist()]
            with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
                for n, data in items:
                    zi = zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0))
                    zi.compress_type = zipfile.ZIP_DEFLATED if n != "model.weights.h5" else zipfile.ZIP_STORED
                    if n == "metadata.json":
                        data = b'{"keras_version": "%s", "date_saved": "1980-01-01@00:00:00"}' % keras.__version__.encode()
                    z.writestr(zi, data)


if __name__ == "__main__":
    main()
