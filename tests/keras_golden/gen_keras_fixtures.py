#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates librnn's Keras golden fixtures from real Keras 3 (TensorFlow
backend, CPU). Deterministic: rerunning it rewrites the same bytes.

    KERAS_BACKEND=tensorflow /var/cache/librnn/peers/bin/python \\
        tests/keras_golden/gen_keras_fixtures.py --out tests/keras_golden/fixtures

(The script sets KERAS_BACKEND, TF_DETERMINISTIC_OPS=1, TF_ENABLE_ONEDNN_OPTS=0 and
CUDA_VISIBLE_DEVICES="" itself and runs TensorFlow on one thread.) Only this generator needs Keras;
tests/keras_golden/test_keras_golden.c reads the committed fixtures.

Format: tests/golden/gen_fixtures.py's "RNNFIX01" (float32 / int32 arrays
with names). Every case file holds

  meta                   int32 [kind, calls, n_inputs, n_outputs, n_layers]
                         kind 0: forward/backward, 1: training steps
  x{c}.{i}               input i of call c (float32, or int32 token ids)
  len{c}.{i}             per-sample lengths of a float input (Keras Masking of
                         right-padded zeros), when the case is masked
  w{l}.{k}:{keras path}  weight k of layer l in Keras get_weights() order
                         (random U(-0.5, 0.5), biases included); "layer l" is
                         the l-th weighted layer as the C test builds them
  kind 0, per call c:
    y{c}.{o}             model output o
    R{c}.{o}             a fixed random tensor; the loss is sum_o sum(y_o * R_o)
                         (absent: that output gets no gradient)
    m{c}.{o}             float 0/1 mask of valid steps of a sequence output in
                         masked cases (R is zero where m is 0; Keras' values
                         at padded steps are not compared: Keras carries the
                         last output there, librnn writes zeros)
    gx{c}.{i}            d loss / d float input i
    gw{c}.{l}.{k}        d loss / d weight k of layer l
  kind 1 (one model.compile loss + optimizer, train_on_batch-like steps):
    t                    targets
    loss{s}              the loss of step s (s = 1, 2, on the same batch)
    gw1.{l}.{k}          gradients of step 1 (before clipping)
    a{s}.{l}.{k}         the weights after step s

Cases, by name prefix: SimpleRNN / LSTM / GRU (reset_after 1 and 0) with
return_sequences and return_state; Bidirectional with merge modes concat, sum,
mul, ave; go_backwards; stacked layers; Masking of right-padded float input;
mask_zero from Embedding; stateful carry-over across two calls; Dense on
vectors and TimeDistributed(Dense) on sequences; Conv1D (valid, same, strides,
dilation), MaxPooling1D, GlobalMax/AveragePooling1D; Attention (score_mode
dot) and AdditiveAttention and Attention(score_mode="concat") (librnn's
additive score with identity projections, see the C test); the four losses
(from_logits both ways for the cross-entropies) through an SGD step; one
model under SGD (plain, momentum, Nesterov), RMSprop, Adam, Nadam, AdamW,
each also with clipnorm and clipvalue.

NOT covered (librnn has no equivalent; see README.md):
  - Bidirectional(merge_mode=None): librnn has no list-of-two-outputs merge.
  - Attention(use_scale=True): Keras learns a scalar scale (initialised to 1);
    librnn's `scale` is the fixed 1/sqrt(Dq).
  - go_backwards together with masking: Keras returns the reversed padded
    sequence (padding first), librnn per-sample processing order.
"""
import argparse
import os
import struct

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

T, N, F, U = 5, 3, 4, 3
LENGTHS = [5, 2, 4]  # masked cases: right-padded, unsorted


def f32(a):
    return np.asarray(a, dtype=np.float32)


class Case:
    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        keras.utils.set_random_seed(seed)
        self.arrays = []

    def add(self, name, a):
        a = np.asarray(a)
        if a.dtype != np.int32:
            a = a.astype(np.float32)
        assert len(name) < 64, name
        self.arrays.append((name, a))

    def uniform(self, shape, lo=-1.0, hi=1.0):
        return f32(self.rng.uniform(lo, hi, size=shape))

    def set_weights(self, wlayers):
        """Random weights (biases too), recorded in get_weights() order."""
        for li, layer in enumerate(wlayers):
            ws = []
            for k, v in enumerate(layer.weights):
                w = self.uniform(tuple(v.shape), -0.5, 0.5)
                ws.append(w)
                self.add(f"w{li}.{k}:{v.path}", w)
            layer.set_weights(ws)


def masked_x(c, shape, lengths):
    x = c.uniform(shape)
    for n, L in enumerate(lengths):
        x[n, L:, :] = 0.0
    return x


def step_mask(lengths, T_):
    m = np.zeros((len(lengths), T_), np.float32)
    for n, L in enumerate(lengths):
        m[n, :L] = 1.0
    return m


def fwd_bwd(c, model, wlayers, xs, call=0, lengths=None, seq_outputs=()):
    """One call: outputs, R, gradients of sum(y*R) w.r.t. float inputs and weights."""
    tx = [tf.convert_to_tensor(x) for x in xs]
    for i, x in enumerate(xs):
        c.add(f"x{call}.{i}", x)
        if lengths is not None and x.dtype != np.int32:
            c.add(f"len{call}.{i}", np.array(lengths, np.int32))
    wvars = [v for layer in wlayers for v in layer.weights]
    with tf.GradientTape(persistent=True) as tape:
        for x in tx:
            if x.dtype == tf.float32:
                tape.watch(x)
        ys = model(tx if len(tx) > 1 else tx[0], training=True)
        if not isinstance(ys, (list, tuple)):
            ys = [ys]
        loss = 0.0
        Rs = []
        for o, y in enumerate(ys):
            R = c.uniform(tuple(y.shape))
            if lengths is not None and o in seq_outputs:
                m = step_mask(lengths, y.shape[1])
                R = R * m[:, :, None]
                c.add(f"m{call}.{o}", m)
            Rs.append(R)
            loss = loss + tf.reduce_sum(y * R)
    for o, (y, R) in enumerate(zip(ys, Rs)):
        c.add(f"y{call}.{o}", y.numpy())
        c.add(f"R{call}.{o}", R)
    for i, x in enumerate(tx):
        if x.dtype == tf.float32:
            c.add(f"gx{call}.{i}", tape.gradient(loss, x).numpy())
    grads = tape.gradient(loss, wvars)
    gi = 0
    for li, layer in enumerate(wlayers):
        for k in range(len(layer.weights)):
            c.add(f"gw{call}.{li}.{k}", tf.convert_to_tensor(grads[gi]).numpy())
            gi += 1
    return len(ys)


def forward_case(name, seed, build, n_inputs=1, int_input=False, masked=False,
                 seq_outputs=(), calls=1):
    """build(c) -> (model, wlayers, list of input arrays per call)."""
    c = Case(name, seed)
    model, wlayers, inputs = build(c)
    c.set_weights(wlayers)
    n_out = 0
    for call in range(calls):
        n_out = fwd_bwd(c, model, wlayers, inputs[call], call,
                        LENGTHS if masked else None, seq_outputs)
    c.arrays.insert(0, ("meta", np.array([0, calls, len(inputs[0]), n_out, len(wlayers)],
                                          np.int32)))
    return c


def seq_input(name="x", T_=T, F_=F, **kw):
    return keras.Input((T_, F_), name=name, **kw)


# ----------------------------------------------------------------- recurrent

def rec(cell, **kw):
    cls = {"simple": kl.SimpleRNN, "lstm": kl.LSTM, "gru": kl.GRU}[cell]
    return cls(U, **kw)


def recurrent_cases():
    out = []
    for cell, extra in (("simple", {}), ("lstm", {}), ("gru", {"reset_after": True}),
                        ("gru", {"reset_after": False})):
        tag = cell if cell != "gru" else ("gru_ra1" if extra["reset_after"] else "gru_ra0")
        for rs, rst in ((False, False), (True, False), (True, True), (False, True)):
            name = f"{tag}_seq{int(rs)}_state{int(rst)}"

            def build(c, cell=cell, extra=extra, rs=rs, rst=rst):
                x = seq_input()
                layer = rec(cell, return_sequences=rs, return_state=rst, name=cell, **extra)
                y = layer(x)
                return keras.Model(x, y), [layer], [[c.uniform((N, T, F))]]
            out.append((name, build, {}))
        # go_backwards, both with sequences and last output
        for rs in (True, False):
            def build(c, cell=cell, extra=extra, rs=rs):
                x = seq_input()
                layer = rec(cell, return_sequences=rs, go_backwards=True, name=cell, **extra)
                return keras.Model(x, layer(x)), [layer], [[c.uniform((N, T, F))]]
            out.append((f"{tag}_backwards_seq{int(rs)}", build, {}))
        # masked (Keras Masking of zero padding; librnn lengths)
        for rs in (True, False):
            def build(c, cell=cell, extra=extra, rs=rs):
                x = seq_input()
                layer = rec(cell, return_sequences=rs, return_state=True, name=cell, **extra)
                y = layer(kl.Masking(0.0)(x))
                return keras.Model(x, y), [layer], [[masked_x(c, (N, T, F), LENGTHS)]]
            out.append((f"{tag}_masked_seq{int(rs)}", build,
                        dict(masked=True, seq_outputs=(0,) if rs else ())))
    # Bidirectional, every merge mode librnn has
    for cell, extra, tag in (("lstm", {}, "lstm"), ("gru", {"reset_after": True}, "gru_ra1"),
                             ("gru", {"reset_after": False}, "gru_ra0"),
                             ("simple", {}, "simple")):
        for merge in ("concat", "sum", "mul", "ave"):
            if tag != "lstm" and merge not in ("concat", "mul"):
                continue
            def build(c, cell=cell, extra=extra, merge=merge):
                x = seq_input()
                layer = kl.Bidirectional(rec(cell, return_sequences=True, return_state=True,
                                             name=cell, **extra), merge_mode=merge, name="bi")
                return keras.Model(x, layer(x)), [layer], [[c.uniform((N, T, F))]]
            out.append((f"bi_{tag}_{merge}", build, {}))
    for merge in ("concat", "ave"):
        def build(c, merge=merge):
            x = seq_input()
            layer = kl.Bidirectional(kl.LSTM(U, return_sequences=True, name="lstm"),
                                     merge_mode=merge, name="bi")
            y = layer(kl.Masking(0.0)(x))
            return keras.Model(x, y), [layer], [[masked_x(c, (N, T, F), LENGTHS)]]
        out.append((f"bi_lstm_{merge}_masked", build, dict(masked=True, seq_outputs=(0,))))

    def stacked(c):
        x = seq_input()
        l1 = kl.LSTM(U, return_sequences=True, name="lstm")
        l2 = kl.Bidirectional(kl.GRU(U, return_sequences=True, name="gru"), name="bi")
        l3 = kl.SimpleRNN(U, name="simple_rnn")
        y = l3(l2(l1(x)))
        return keras.Model(x, y), [l1, l2, l3], [[c.uniform((N, T, F))]]
    out.append(("stacked_lstm_bigru_simple", stacked, {}))

    def stacked_masked(c):
        x = seq_input()
        l1 = kl.GRU(U, return_sequences=True, reset_after=False, name="gru")
        l2 = kl.LSTM(U, return_sequences=True, name="lstm")
        y = l2(l1(kl.Masking(0.0)(x)))
        return keras.Model(x, y), [l1, l2], [[masked_x(c, (N, T, F), LENGTHS)]]
    out.append(("stacked_gru_lstm_masked", stacked_masked, dict(masked=True, seq_outputs=(0,))))

    def embed(c, rs):
        x = keras.Input((T,), dtype="int32", name="ids")
        e = kl.Embedding(7, F, mask_zero=True, name="embedding")
        r = kl.LSTM(U, return_sequences=rs, name="lstm")
        ids = c.rng.integers(1, 7, size=(N, T)).astype(np.int32)
        for n, L in enumerate(LENGTHS):
            ids[n, L:] = 0
        return keras.Model(x, r(e(x))), [e, r], [[ids]]
    out.append(("embedding_mask_zero_lstm_seq1", lambda c: embed(c, True),
                dict(int_input=True, masked=True, seq_outputs=(0,))))
    out.append(("embedding_mask_zero_lstm_seq0", lambda c: embed(c, False),
                dict(int_input=True, masked=True)))

    for cell, extra, tag in (("lstm", {}, "lstm"), ("gru", {"reset_after": True}, "gru_ra1")):
        def build(c, cell=cell, extra=extra):
            x = keras.Input((T, F), batch_size=N, name="x")
            layer = rec(cell, return_sequences=True, stateful=True, name=cell, **extra)
            return keras.Model(x, layer(x)), [layer], [[c.uniform((N, T, F))],
                                                       [c.uniform((N, T, F))]]
        out.append((f"stateful_{tag}", build, dict(calls=2)))
    return out


# ----------------------------------------------------------------- other layers

def other_cases():
    out = []

    def dense_vec(c):
        x = keras.Input((F,), name="x")
        d = kl.Dense(U, activation="tanh", name="dense")
        return keras.Model(x, d(x)), [d], [[c.uniform((N, F))]]
    out.append(("dense_tanh_vector", dense_vec, {}))

    for act in ("linear", "relu", "sigmoid", "softmax"):
        def td(c, act=act):
            x = seq_input()
            d = kl.TimeDistributed(kl.Dense(U, activation=act, name="dense"), name="td")
            return keras.Model(x, d(x)), [d], [[c.uniform((N, T, F))]]
        out.append((f"timedistributed_dense_{act}", td, {}))

    for tag, kw in (("valid_k3", dict(kernel_size=3)),
                    ("same_k3", dict(kernel_size=3, padding="same")),
                    ("same_k2_s2", dict(kernel_size=2, strides=2, padding="same")),
                    ("valid_k2_d2_relu", dict(kernel_size=2, dilation_rate=2, activation="relu"))):
        def conv(c, kw=kw):
            x = seq_input(T_=6)
            layer = kl.Conv1D(U, name="conv1d", **kw)
            return keras.Model(x, layer(x)), [layer], [[c.uniform((N, 6, F))]]
        out.append((f"conv1d_{tag}", conv, {}))

    for tag, kw in (("p2", dict(pool_size=2)), ("p3_s1_same", dict(pool_size=3, strides=1,
                                                                       padding="same")),
                    ("p2_s1", dict(pool_size=2, strides=1))):
        def mp(c, kw=kw):
            x = seq_input(T_=6)
            layer = kl.MaxPooling1D(**kw)
            return keras.Model(x, layer(x)), [], [[c.uniform((N, 6, F))]]
        out.append((f"maxpool1d_{tag}", mp, {}))

    for tag, cls in (("max", kl.GlobalMaxPooling1D), ("avg", kl.GlobalAveragePooling1D)):
        def gp(c, cls=cls):
            x = seq_input()
            return keras.Model(x, cls()(x)), [], [[c.uniform((N, T, F))]]
        out.append((f"global_{tag}_pool", gp, {}))
        if tag == "max":
            continue  # Keras 3's GlobalMaxPooling1D drops the mask (it does not support it)

        def gp_masked(c, cls=cls):
            x = seq_input()
            r = kl.LSTM(U, return_sequences=True, name="lstm")
            y = cls()(r(kl.Masking(0.0)(x)))
            return keras.Model(x, y), [r], [[masked_x(c, (N, T, F), LENGTHS)]]
        out.append((f"global_{tag}_pool_masked_lstm", gp_masked, dict(masked=True)))

    TQ = 4

    def att(c, layer_fn):
        q = keras.Input((TQ, F), name="q")
        v = keras.Input((T, F), name="v")
        layer = layer_fn()
        y, s = layer([q, v], return_attention_scores=True)
        return (keras.Model([q, v], [y, s]), [layer] if layer.weights else [],
                [[c.uniform((N, TQ, F)), c.uniform((N, T, F))]])
    out.append(("attention_dot", lambda c: att(c, lambda: kl.Attention(name="attention")),
                dict(n_inputs=2)))
    out.append(("attention_concat",
                lambda c: att(c, lambda: kl.Attention(score_mode="concat", name="attention")),
                dict(n_inputs=2)))
    out.append(("additive_attention",
                lambda c: att(c, lambda: kl.AdditiveAttention(name="additive_attention")),
                dict(n_inputs=2)))
    return out


# ----------------------------------------------------------------- training steps

LOSSES = {
    "sparse_cce": lambda fl: keras.losses.SparseCategoricalCrossentropy(from_logits=fl),
    "cce": lambda fl: keras.losses.CategoricalCrossentropy(from_logits=fl),
    "bce": lambda fl: keras.losses.BinaryCrossentropy(from_logits=fl),
    "mse": lambda fl: keras.losses.MeanSquaredError(),
}
C_OUT = 3


def train_case(name, seed, loss, from_logits, opt_fn):
    c = Case(name, seed)
    x = keras.Input((T, F), name="x")
    r = kl.LSTM(U, name="lstm")
    act = "linear"
    if not from_logits:
        act = {"sparse_cce": "softmax", "cce": "softmax", "bce": "sigmoid", "mse": "linear"}[loss]
    d = kl.Dense(C_OUT, activation=act, name="dense")
    model = keras.Model(x, d(r(x)))
    wl = [r, d]
    c.set_weights(wl)
    xs = c.uniform((N, T, F))
    if loss == "sparse_cce":
        t = c.rng.integers(0, C_OUT, size=(N,)).astype(np.int32)
    elif loss == "cce":
        t = f32(np.eye(C_OUT)[c.rng.integers(0, C_OUT, size=(N,))])
    elif loss == "bce":
        t = f32(c.rng.integers(0, 2, size=(N, C_OUT)))
    else:
        t = c.uniform((N, C_OUT))
    c.add("x0.0", xs)
    c.add("t", t)
    lf = LOSSES[loss](from_logits)
    opt = opt_fn()
    wvars = [v for layer in wl for v in layer.weights]
    for s in (1, 2):
        with tf.GradientTape() as tape:
            L = lf(tf.convert_to_tensor(t), model(tf.convert_to_tensor(xs), training=True))
        grads = tape.gradient(L, wvars)
        c.add(f"loss{s}", np.array([float(L.numpy())], np.float32))
        if s == 1:
            gi = 0
            for li, layer in enumerate(wl):
                for k in range(len(layer.weights)):
                    c.add(f"gw1.{li}.{k}", grads[gi].numpy())
                    gi += 1
        opt.apply_gradients(zip(grads, wvars))
        gi = 0
        for li, layer in enumerate(wl):
            for k, v in enumerate(layer.weights):
                c.add(f"a{s}.{li}.{k}", v.numpy())
    c.arrays.insert(0, ("meta", np.array([1, 2, 1, 1, 2], np.int32)))
    return c


OPTIMIZERS = {
    "sgd": lambda **kw: keras.optimizers.SGD(learning_rate=0.1, **kw),
    "sgd_momentum": lambda **kw: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, **kw),
    "sgd_nesterov": lambda **kw: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9,
                                                      nesterov=True, **kw),
    "rmsprop": lambda **kw: keras.optimizers.RMSprop(learning_rate=0.01, **kw),
    "adam": lambda **kw: keras.optimizers.Adam(learning_rate=0.01, **kw),
    "nadam": lambda **kw: keras.optimizers.Nadam(learning_rate=0.01, **kw),
    "adamw": lambda **kw: keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1, **kw),
}


def train_cases():
    out = []
    for loss in LOSSES:
        for fl in ((False, True) if loss != "mse" else (False,)):
            name = f"loss_{loss}{'_logits' if fl else ''}_sgd"
            out.append((name, loss, fl, lambda: keras.optimizers.SGD(learning_rate=0.1)))
    for on, fn in OPTIMIZERS.items():
        for clip, kw in (("", {}), ("_clipnorm", dict(clipnorm=0.05)),
                         ("_clipvalue", dict(clipvalue=0.02))):
            out.append((f"optim_{on}{clip}", "mse", False, lambda fn=fn, kw=kw: fn(**kw)))
    return out


# ----------------------------------------------------------------- output

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


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "fixtures"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    index = []
    seed = 1
    for name, build, kw in recurrent_cases() + other_cases():
        keras.backend.clear_session()
        c = forward_case(name, seed, build, **kw)
        write(os.path.join(a.out, name + ".bin"), c.arrays)
        index.append(name)
        seed += 1
    for name, loss, fl, opt_fn in train_cases():
        keras.backend.clear_session()
        c = train_case(name, seed, loss, fl, opt_fn)
        write(os.path.join(a.out, name + ".bin"), c.arrays)
        index.append(name)
        seed += 1
    with open(os.path.join(a.out, "index.txt"), "w") as f:
        f.write(f"# generated by tests/keras_golden/gen_keras_fixtures.py with keras "
                f"{keras.__version__}, tensorflow {tf.__version__}, numpy {np.__version__}\n")
        for name in index:
            f.write(name + "\n")
    print(f"wrote {len(index)} fixtures to {a.out}")


if __name__ == "__main__":
    main()
