# SPDX-License-Identifier: Apache-2.0
"""Date translation ("September 02, 7076" -> "7076-09-02") by an LSTM encoder-decoder with
Luong (dot) attention, as examples/seq2seq --task dates; decoded greedily."""
import time

import numpy as np

import common

args = common.parse_args(__doc__, epochs=30)
keras = common.import_keras(args)
layers = keras.layers

n_train, n_val, n_test = (1000, 100, 200) if args.small else (10000, 1000, 2000)
pairs = common.dates(n_train + n_val + n_test, args.seed)
src_chars = sorted({c for s, _ in pairs for c in s})
tgt_chars = sorted({c for _, t in pairs for c in t})
src_id = {c: i + 1 for i, c in enumerate(src_chars)}        # 0 padding
tgt_id = {c: i + 3 for i, c in enumerate(tgt_chars)}        # 1 <s>, 2 </s>
START, END, T = 1, 2, 10                                     # every target has 10 characters


def encode(part):
    x = common.pad([[src_id[c] for c in s] for s, _ in part], max(len(s) for s, _ in pairs))
    y = np.array([[tgt_id[c] for c in t] + [END] for _, t in part], np.int32)
    return x, np.concatenate([np.full((len(part), 1), START, np.int32), y[:, :-1]], 1), y


(xs, xd, y), val, test = (encode(pairs[:n_train]), encode(pairs[n_train:n_train + n_val]),
                          encode(pairs[n_train + n_val:]))

src, tgt = keras.Input(shape=(None,), dtype="int32"), keras.Input(shape=(None,), dtype="int32")
enc, h, c = layers.LSTM(128, return_sequences=True, return_state=True)(
    layers.Embedding(len(src_chars) + 1, 32, mask_zero=True)(src))
dec = layers.LSTM(128, return_sequences=True)(
    layers.Embedding(len(tgt_chars) + 3, 32, mask_zero=True)(tgt), initial_state=[h, c])
context, scores = layers.Attention()([dec, enc], return_attention_scores=True)
x = layers.Dense(128, activation="tanh")(layers.Concatenate()([context, dec]))
model = keras.Model([src, tgt], layers.Dense(len(tgt_chars) + 3, activation="softmax")(x))
attention = keras.Model([src, tgt], scores)                 # shares the trained layers
model.compile(optimizer=keras.optimizers.Adam(0.002, global_clipnorm=5.0),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
common.dump_model(args, model)


def translate(x):                     # greedy: one more output character per predict
    d = np.full((len(x), T + 1), START, np.int32)
    for t in range(T):
        d[:, t + 1] = model.predict([x, d[:, :t + 1]], batch_size=500, verbose=0)[:, t].argmax(-1)
    return d


def exact(part):
    return float((translate(part[0])[:, 1:] == part[2][:, :T]).all(1).mean())


class ExactMatch(keras.callbacks.Callback):   # stop once every validation pair is right
    def on_epoch_end(self, epoch, logs=None):
        logs["val_exact"] = exact(val)
        print("epoch %d: val_exact %.4f" % (epoch + 1, logs["val_exact"]))
        self.model.stop_training = logs["val_exact"] == 1.0


t0, history = time.time(), None
if not common.start_weights(args, model):
    history = model.fit([xs, xd], y, batch_size=64, epochs=args.epochs, verbose=2,
                        validation_data=([val[0], val[1]], val[2]), callbacks=[ExactMatch()])
seconds = time.time() - t0
common.report(args, "date_translator", dict(
    test_exact_match=exact(test), test_pairs=n_test, epochs=len(history.epoch) if history else 0,
    train_seconds=round(seconds, 1), params=model.count_params()))
common.plot_history(args, "date_translator", history)
d = translate(test[0][:3])                          # three test dates: outputs, attention
grids = []
for i, w in enumerate(attention.predict([test[0][:3], d[:, :T]], verbose=0)):
    source, output = pairs[n_train + n_val + i][0], [tgt_chars[k - 3] for k in d[i, 1:]]
    print("  %-22s -> %s" % (source, "".join(output)))
    grids.append((w[:T, :len(source)], list(source), output))
common.heatmap(args, "date_translator", grids)
common.dump_outputs(args, model, [test[0][:16], test[1][:16]])
