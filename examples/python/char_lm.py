# SPDX-License-Identifier: Apache-2.0
"""Character language model of tiny-shakespeare, as examples/char_lm --mode stateless:
Embedding -> GRU x 2 -> Dense(softmax) on every step, then sampled text."""
import math
import time

import numpy as np

import common

args = common.parse_args(__doc__, epochs=100, minutes=30.0, units=512, seq_len=100)
keras = common.import_keras(args)
layers = keras.layers

text = open(common.data_file(args, "shakespeare", "input.txt"), "rb").read()
chars = sorted(set(text))                      # 65 bytes; id = rank ("\n" is 0: no mask)
if args.small:
    text, args.units, args.seq_len = text[:100000], 64, 50
ids = np.searchsorted(np.array(chars), np.frombuffer(text, np.uint8)).astype(np.int32)
train, val = ids[:len(ids) * 9 // 10], ids[len(ids) * 9 // 10:]
L, B = args.seq_len, 64
n = (len(val) - 1) // L                        # validation: consecutive windows
xv, yv = val[:n * L].reshape(n, L), val[1:n * L + 1].reshape(n, L)


class Windows(keras.utils.PyDataset):          # new random windows every epoch, as the C program
    def __init__(self, seed):
        super().__init__()
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):                          # about one pass over the text
        return -(-len(train) // (L * B))

    def __getitem__(self, b):
        w = train[self.starts[b * B:(b + 1) * B, None] + np.arange(L + 1)]
        return w[:, :-1], w[:, 1:]

    def on_epoch_end(self):
        self.starts = self.rng.integers(0, len(train) - L, len(self) * B)


model = keras.Sequential([
    keras.Input(shape=(None,), dtype="int32"),
    layers.Embedding(len(chars), 64),
    layers.GRU(args.units, return_sequences=True, dropout=0.3),
    layers.GRU(args.units, return_sequences=True, dropout=0.3),
    layers.Dropout(0.3),
    layers.Dense(len(chars), activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(0.004, global_clipnorm=5.0),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
common.dump_model(args, model)


class TimeBudget(keras.callbacks.Callback):    # stop before an epoch would pass --minutes
    def on_epoch_end(self, epoch, logs=None):
        spent = time.time() - t0
        self.model.stop_training |= spent * (epoch + 2) / (epoch + 1) > args.minutes * 60


t0, history = time.time(), None
if not common.start_weights(args, model):
    history = model.fit(Windows(args.seed), epochs=args.epochs, validation_data=(xv, yv),
                        verbose=2, callbacks=[
                            keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=1,
                                                              min_delta=0.002, verbose=1),
                            keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True),
                            TimeBudget()])
seconds = time.time() - t0
loss, acc = model.evaluate(xv, yv, batch_size=64, verbose=0)
common.report(args, "char_lm", dict(
    val_loss_nats=float(loss), val_bpc=float(loss / math.log(2)), val_accuracy=float(acc),
    epochs=len(history.epoch) if history else 0, train_seconds=round(seconds, 1),
    params=model.count_params()))
common.plot_history(args, "char_lm", history)

out = [chars.index(c) for c in b"ROMEO:\n"]    # sampled at temperature 0.8
rng = np.random.default_rng(args.seed)
for _ in range(60 if args.small else 300):
    p = np.log(model.predict_on_batch(np.array([out[-L:]], np.int32))[0, -1] + 1e-9) / 0.8
    out.append(int(rng.choice(len(chars), p=np.exp(p) / np.exp(p).sum())))
print(bytes(chars[i] for i in out).decode("ascii", "replace"))
common.dump_outputs(args, model, xv[:8])
