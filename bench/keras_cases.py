#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""rnn_bench's recurrent cases in Keras 3 on TensorFlow, for bench/run_all.py:
one case per process, one JSON line like `rnn_bench --json`.

  /var/cache/librnn/peers/bin/python bench/keras_cases.py --case NAME \
      [--threads N] [--runs R] [--warmup W] [--jit]

Needs the peers' virtual environment (bench/requirements.txt). The cases
mirror bench/bench_common.h as bench/compare_torch.py does for PyTorch:
batch-first input; a training step is forward (training) + backward from a
fixed output gradient (scaled as for a loss averaged over batch and time) +
an SGD update of every weight, in one tf.function (the gradients are fresh
tensors each step, nothing to zero); _varlen masks each sample past its
length (bench_lengths: 10 + 37n mod 91), as Embedding(mask_zero) would;
infer_step_* is T=1, N=1 with the state passed back in (return_state);
infer_batch_* runs the whole batch in inference mode. --jit compiles the
step with XLA (tf.function(jit_compile=True)); without it, plain graph mode,
which is what Keras picks on a CPU-only machine.
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def parse_case(name):
    parts = {p[0]: int(p[1:]) for p in name.split("_")
             if len(p) > 1 and p[0] in "TNIHL" and p[1:].isdigit()}
    return parts, ("lstm" if "_lstm_" in name else "gru")


def build(keras, cell, H, L, bi, **kw):
    layers = []
    for _ in range(L):
        rnn = (keras.layers.LSTM if cell == "lstm" else keras.layers.GRU)(H, **kw)
        layers.append(keras.layers.Bidirectional(rnn) if bi else rnn)
    return layers


def keras_case(tf, keras, name, runs, warmup, jit):
    """Milliseconds of each timed step and the layers' parameter count."""
    p, cell = parse_case(name)
    I, H = p["I"], p["H"]
    keras.utils.set_random_seed(0)
    fn = tf.function(jit_compile=jit)
    if name.startswith("infer_step"):
        (layer,) = build(keras, cell, H, 1, False, return_state=True)
        x = tf.random.normal((1, 1, I))
        zero = tf.zeros((1, H))
        state = [zero, zero] if cell == "lstm" else [zero]
        layer(x, initial_state=state)

        @fn
        def step(x, state):
            out = layer(x, initial_state=state, training=False)
            return out[1:]
        run = lambda s: step(x, s)  # noqa: E731
        params = layer.count_params()
    elif name.startswith("infer_batch"):
        (layer,) = build(keras, cell, H, 1, False, return_sequences=True)
        x = tf.random.normal((p["N"], p["T"], I))
        layer(x)
        step = fn(lambda x: layer(x, training=False))
        run = lambda s: step(x)  # noqa: E731
        params = layer.count_params()
        state = None
    else:
        T, N, L, bi = p["T"], p["N"], p["L"], name.endswith("_bi")
        layers = build(keras, cell, H, L, bi, return_sequences=True)
        x = tf.random.normal((N, T, I))
        mask = None
        if name.endswith("_varlen"):
            lengths = tf.constant([min(10 + (37 * n) % 91, T) for n in range(N)])
            mask = tf.sequence_mask(lengths, T)
        gy = (tf.random.uniform((N, T, (2 if bi else 1) * H)) * 2 - 1) / (N * T)
        opt = keras.optimizers.SGD(0.01)

        def forward(x):
            y = x
            for layer in layers:
                y = layer(y, mask=mask, training=True)
            return y
        forward(x)
        weights = [w for layer in layers for w in layer.trainable_variables]
        opt.build(weights)

        @fn
        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(forward(x) * gy)  # d loss / d y = gy
            opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
            return loss
        run = lambda s: step(x)  # noqa: E731
        params = sum(layer.count_params() for layer in layers)
        state = None
    times = []
    for r in range(warmup + runs):
        t0 = time.perf_counter()
        out = run(state)
        if name.startswith("infer_step"):
            state = list(out)
            state[0].numpy()  # wait for the result, as the other libraries do
        else:
            tf.nest.map_structure(lambda t: t.numpy(), out)
        dt = (time.perf_counter() - t0) * 1e3
        if r >= warmup:
            times.append(dt)
    return times, params


def set_threads(tf, n):
    """Before TensorFlow starts: n threads within an op, one op at a time."""
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--jit", action="store_true", help="XLA: tf.function(jit_compile=True)")
    a = ap.parse_args()
    import tensorflow as tf
    set_threads(tf, a.threads)
    import keras
    times, params = keras_case(tf, keras, a.case, a.runs, a.warmup, a.jit)
    print(json.dumps({"case": a.case, "threads": a.threads, "runs": len(times),
                      "median_ms": statistics.median(times), "min_ms": min(times),
                      "max_ms": max(times), "params": params, "jit": a.jit,
                      "keras": keras.__version__, "tensorflow": tf.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
