#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The POS tagger of examples/pos_tagging and the IMDB classifier of
examples/sentiment in Keras 3 on TensorFlow, for bench/run_all.py: times one
training epoch (with its validation pass) on exactly the data and batches
that the example program trains on, as bench/torch_pos_tagger.py and
bench/torch_imdb.py do in PyTorch.

  build/examples/pos_tagger --dump-encoded pos.dump
  /var/cache/librnn/peers/bin/python bench/keras_e2e.py --dump pos.dump [--threads N] [--jit] [--json]

The models are the examples' (the notebooks' Keras models), parameter count
checked against the dump:
  pos_tagger: Embedding(mask_zero) -> SpatialDropout1D -> Bidirectional(GRU,
      return_sequences) -> Dense(softmax) on every step; sparse categorical
      cross-entropy over the unmasked tokens. (Dense on a sequence is what
      TimeDistributed(Dense) computes, with the same weights; Keras 3.15's
      TimeDistributed fails on masked batches whose length varies: "Incompatible
      shapes" in the accuracy metric, so the model does without it.)
  sentiment:  Embedding(mask_zero) -> SpatialDropout1D -> Bidirectional(GRU,
      return_sequences) -> [GlobalMaxPooling1D, GlobalAveragePooling1D] ->
      Dropout -> Dense(1, sigmoid); binary cross-entropy (Keras'
      GlobalMaxPooling1D ignores the mask: it takes the max over the padded
      steps too, whose outputs the masked GRU sets to 0; the same work)
Keras' GRU is reset_after=True, as librnn's and PyTorch's. Adam (eps 1e-7).
The batches (bench/e2e_common.py: librnn's seeded shuffle and length
bucketing, each batch cut to its longest sample, then the validation
batches) are cut before the clock starts and fed in that order through a
tf.data generator with unknown batch and time dimensions (one trace). The
clock covers model.fit(epochs=1) with that validation data: tracing the
train and test functions, the training batches and the validation pass.
--jit: model.compile(jit_compile=True), XLA (Keras' "auto" leaves it off on
a CPU-only machine); XLA compiles once per distinct batch shape.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402


def make_model(keras, meta):
    L = keras.layers
    x = keras.Input((None,), dtype="int32")
    h = L.Embedding(int(meta["vocab_size"]), int(meta["embedding"]), mask_zero=True)(x)
    h = L.SpatialDropout1D(float(meta["spatial_dropout"]))(h)
    h = L.Bidirectional(L.GRU(int(meta["units"]), return_sequences=True))(h)
    if meta["program"] == "pos_tagger":
        y = L.Dense(int(meta["classes"]), activation="softmax")(h)
        loss = "sparse_categorical_crossentropy"
    else:
        h = L.Concatenate()([L.GlobalMaxPooling1D()(h), L.GlobalAveragePooling1D()(h)])
        y = L.Dense(1, activation="sigmoid")(L.Dropout(float(meta["dropout"]))(h))
        loss = "binary_crossentropy"
    return keras.Model(x, y), loss


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True, help="file of an example's --dump-encoded")
    ap.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: all)")
    ap.add_argument("--jit", action="store_true", help="compile with XLA")
    ap.add_argument("--json", action="store_true", help="one JSON line on stdout")
    a = ap.parse_args()
    import numpy as np
    import tensorflow as tf
    if a.threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    meta, t = e2e_common.read_dump(a.dump)
    keras.utils.set_random_seed(int(meta["seed"]))
    X, Y, lengths = t["x"], t["y"], t["lengths"]
    if meta["program"] == "pos_tagger":
        Y = Y.astype(np.int32)
    train_b, val_b = e2e_common.epoch_plan(meta, lengths)

    def batches(plan):
        out = []
        for idx in plan:
            T = int(lengths[idx].max())
            out.append((X[idx, :T], Y[idx, :T] if Y.ndim == 2 and Y.shape[1] == X.shape[1]
                        else Y[idx]))
        return out

    def dataset(bs):
        y_shape = (None,) * bs[0][1].ndim
        sig = (tf.TensorSpec((None, None), tf.int32),
               tf.TensorSpec(y_shape, tf.as_dtype(bs[0][1].dtype)))
        ds = tf.data.Dataset.from_generator(lambda: iter(bs), output_signature=sig)
        return ds.apply(tf.data.experimental.assert_cardinality(len(bs)))

    train, val = batches(train_b), batches(val_b)
    model, loss = make_model(keras, meta)
    params = model.count_params()
    if params != int(meta["params"]):
        print(f"parameter count: Keras {params}, the example {meta['params']}", file=sys.stderr)
        sys.exit(f"parameter count {params} differs from the example's {meta['params']}")
    model.compile(optimizer=keras.optimizers.Adam(float(meta["learning_rate"]), epsilon=1e-7),
                  loss=loss, metrics=["accuracy"], jit_compile=a.jit)

    rss0 = e2e_common.rss_mark()
    t0 = time.perf_counter()
    hist = model.fit(dataset(train), validation_data=dataset(val) if val else None, epochs=1,
                     verbose=0, shuffle=False)
    seconds = time.perf_counter() - t0
    rss1 = e2e_common.rss_peak()

    h = {k: float(v[-1]) for k, v in hist.history.items()}
    res = {"train_seconds": round(seconds, 3), "epochs": 1, "batches": len(train),
           "samples": int(sum(len(b) for b in train_b)), "loss": h.get("loss"),
           "accuracy": h.get("accuracy"), "val_loss": h.get("val_loss"),
           "val_accuracy": h.get("val_accuracy"), "params": params, "threads": a.threads,
           "jit": a.jit, "keras": keras.__version__, "tensorflow": tf.__version__,
           "rss_before_fit_mib": rss0, "peak_rss_fit_mib": rss1}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"epoch 1/1  {seconds:.1f}s  loss {res['loss']:.4f}  accuracy "
              f"{res['accuracy']:.4f}  ({res['batches']} batches, {params} parameters, "
              f"{a.threads} threads, jit {a.jit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
