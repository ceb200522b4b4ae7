# SPDX-License-Identifier: Apache-2.0
"""Sentiment of IMDB reviews (the official 25k/25k split), as examples/sentiment:
Embedding -> Bidirectional(GRU) -> max and average pooling -> Dense(sigmoid)."""
import collections
import random
import time

import numpy as np

import common

args = common.parse_args(__doc__, epochs=6, maxlen=500, vocab=20000)
keras = common.import_keras(args)
layers = keras.layers

n_train, n_test = (600, 300) if args.small else (None, None)
args.maxlen = 200 if args.small else args.maxlen
texts, labels = common.imdb(args, "train", n_train, args.seed)
test_texts, test_labels = common.imdb(args, "test", n_test, args.seed)
counts = collections.Counter(w for t in texts for w in t)
vocab = common.top_words(counts, args.vocab, 2)             # 0 padding, 1 unknown


def encode(ts):                       # the last maxlen tokens, padded on the right
    return common.pad([[vocab.get(w, 1) for w in t][-args.maxlen:] for t in ts], args.maxlen)


order = list(range(len(texts)))       # the file holds positives first: shuffle once
random.Random(args.seed).shuffle(order)
x_train, y_train = encode([texts[i] for i in order]), labels[order]
x_test = encode(test_texts)

inp = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(args.vocab + 2, 128, mask_zero=True)(inp)
x = layers.SpatialDropout1D(0.4)(x)
x = layers.Bidirectional(layers.GRU(64, return_sequences=True))(x)
x = layers.Concatenate()([layers.GlobalMaxPooling1D()(x), layers.GlobalAveragePooling1D()(x)])
x = layers.Dropout(0.4)(x)
model = keras.Model(inp, layers.Dense(1, activation="sigmoid")(x))
model.compile(optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy",
              metrics=["accuracy"])
model.summary()
common.dump_model(args, model)

t0, history = time.time(), None
if not common.start_weights(args, model):
    history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1,
                        verbose=2, callbacks=[keras.callbacks.EarlyStopping(
                            monitor="val_loss", patience=2, restore_best_weights=True)])
seconds = time.time() - t0

prob = model.predict(x_test, batch_size=256, verbose=0)[:, 0]
common.report(args, "sentiment", dict(
    test_accuracy=float(((prob > 0.5) == (test_labels > 0.5)).mean()), test_reviews=len(prob),
    epochs=len(history.epoch) if history else 0, train_seconds=round(seconds, 1),
    params=model.count_params()))
common.plot_history(args, "sentiment", history)
common.dump_outputs(args, model, x_test[:16])
