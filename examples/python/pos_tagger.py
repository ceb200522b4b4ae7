# SPDX-License-Identifier: Apache-2.0
"""Part-of-speech tagging on the Brown corpus (12 universal tags), as examples/pos_tagging:
Embedding -> SpatialDropout1D -> Bidirectional(GRU) -> Dense(softmax) per token."""
import collections
import random
import time

import numpy as np

import common

args = common.parse_args(__doc__, epochs=12, maxlen=60)
keras = common.import_keras(args)
layers = keras.layers

SUFFIXES = ("ly ing ed tion sion ment ness ity ous al able ible ive ic ful less er est ism ist "
            "ize en y ies es s ance ence ant ent ary ship ward like").split()
NSIG = 5 * (len(SUFFIXES) + 1)          # unknown words: one id per shape and suffix


def signature(w):                       # id 1..175 of a word outside the vocabulary
    shape = (2 if any(c.isdigit() for c in w) else (4 if w[0].isupper() else 3) if "-" in w
             else 1 if w[0].isupper() else 0)
    suf = max((k for k, s in enumerate(SUFFIXES) if len(s) < len(w) and w.lower().endswith(s)),
              key=lambda k: len(SUFFIXES[k]), default=len(SUFFIXES))
    return 1 + shape * (len(SUFFIXES) + 1) + suf


sents = common.brown(args)
random.Random(args.seed).shuffle(sents)
sents = sents[:1000] if args.small else sents
n_train = len(sents) * 3 // 4                     # 75% train, 25% test
counts = collections.Counter(w.lower() for ws, _ in sents[:n_train] for w in ws)
vocab = common.top_words(counts, 10000, 1 + NSIG)
tags = sorted({t for _, ts in sents for t in ts})


def encode(part):                                 # sentences longer than maxlen: in pieces
    xs, ys = [], []
    for ws, ts in part:
        for i in range(0, len(ws), args.maxlen):
            xs.append([vocab.get(w.lower()) or signature(w) for w in ws[i:i + args.maxlen]])
            ys.append([tags.index(t) for t in ts[i:i + args.maxlen]])
    return common.pad(xs, args.maxlen), common.pad(ys, args.maxlen)


x_train, y_train = encode(sents[:n_train])
x_test, y_test = encode(sents[n_train:])

model = keras.Sequential([
    keras.Input(shape=(None,), dtype="int32"),
    layers.Embedding(1 + NSIG + 10000, 100, mask_zero=True),
    layers.SpatialDropout1D(0.25),
    layers.Bidirectional(layers.GRU(128, return_sequences=True)),
    layers.TimeDistributed(layers.Dense(len(tags), activation="softmax")),
])
model.compile(optimizer=keras.optimizers.Adam(0.002), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()
common.dump_model(args, model)

t0, history = time.time(), None
if not common.start_weights(args, model):
    history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1,
                        verbose=2, callbacks=[keras.callbacks.EarlyStopping(
                            monitor="val_accuracy", patience=2, restore_best_weights=True)])
seconds = time.time() - t0

pred = model.predict(x_test, batch_size=256, verbose=0).argmax(-1)
real = x_test > 0                                  # padding never counts
common.report(args, "pos_tagger", dict(
    test_accuracy=float((pred == y_test)[real].mean()), test_tokens=int(real.sum()),
    epochs=len(history.epoch) if history else 0, train_seconds=round(seconds, 1),
    params=model.count_params()))
common.plot_history(args, "pos_tagger", history)
common.dump_outputs(args, model, x_test[:16])
