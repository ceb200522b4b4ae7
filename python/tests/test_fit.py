# SPDX-License-Identifier: Apache-2.0
"""compile / train_step / fit / evaluate / predict: history, callbacks (stopping,
exceptions that must not unwind through C), batch functions, validation,
early stopping, checkpoints, schedules, verbose output drawn in Python."""
import contextlib
import io
import math
import os
import sys
import tempfile
import unittest

import numpy as np

import librnn

from _util import tagging_data, tiny_tagger


class TestTrainStep(unittest.TestCase):
    def test_train_and_test_step(self):
        m = tiny_tagger()
        x, y, lengths = tagging_data(n=32)
        loss0, acc0 = m.test_step(x, y, lengths)
        for _ in range(20):
            loss, acc = m.train_on_batch(x, y, lengths)
        self.assertLess(m.test_on_batch(x, y, lengths)[0], loss0)
        self.assertTrue(0.0 <= acc <= 1.0)
        with self.assertRaises(librnn.RnnError) as cm:
            m.train_step(x, np.full_like(y, 7), lengths)   # class id >= 4
        self.assertEqual(cm.exception.status_name, "RNN_ERR_RANGE")
        m.close()

    def test_not_compiled(self):
        m = tiny_tagger(compile=False)
        x, y, lengths = tagging_data(n=8)
        with self.assertRaises(librnn.RnnError) as cm:
            m.fit(x, y, lengths)
        self.assertEqual(cm.exception.status_name, "RNN_ERR_STATE")
        self.assertEqual(m.predict(x, lengths).shape, (8, 8, 4))   # predict needs no compile
        m.close()


class TestFit(unittest.TestCase):
    def setUp(self):
        self.x, self.y, self.lengths = tagging_data(n=96)

    def test_fit_learns_and_returns_history(self):
        m = tiny_tagger()
        seen = []
        h = m.fit(self.x, self.y, lengths=self.lengths, batch_size=16, epochs=4,
                  validation_split=0.25, seed=3, callbacks=[lambda e, logs: seen.append(e)])
        self.assertEqual(seen, [0, 1, 2, 3])
        self.assertEqual(h.epoch, [0, 1, 2, 3])
        self.assertEqual(h.epochs_run, 4)
        self.assertEqual(h.stop, "completed")
        for k in ("loss", "accuracy", "perplexity", "val_loss", "val_accuracy",
                  "learning_rate", "seconds", "improved"):
            self.assertEqual(len(h.history[k]), 4, k)
        self.assertLess(h.history["loss"][-1], h.history["loss"][0])
        self.assertGreater(h.history["val_accuracy"][-1], h.history["val_accuracy"][0])
        self.assertAlmostEqual(h.last["val_loss"], h.history["val_loss"][-1])
        self.assertGreaterEqual(h.best_epoch, 0)
        ev = m.evaluate(self.x, self.y, self.lengths, batch_size=50)
        self.assertEqual(ev["samples"], 96)
        # Keras' mean counts padded steps in the denominator; perplexity is per token.
        per_token = ev["loss"] * self.x.size / self.lengths.sum()
        self.assertAlmostEqual(ev["perplexity"], math.exp(per_token), delta=1e-3 * ev["perplexity"])
        p = m.predict(self.x, self.lengths, batch_size=40)
        self.assertEqual(p.shape, (96, 8, 4))
        np.testing.assert_allclose(p.sum(-1)[self.x > 0], 1.0, rtol=1e-5)
        acc = (p.argmax(-1) == self.y)[self.x > 0].mean()
        self.assertAlmostEqual(acc, ev["accuracy"], places=5)
        m.close()

    def test_callback_objects_and_stopping(self):
        m = tiny_tagger()
        batches, epochs = [], []

        class Stop(librnn.Callback):
            def on_batch_end(self, batch, logs):
                batches.append((logs["epoch"], batch, logs["batches"], logs["samples"]))

            def on_epoch_end(self, epoch, logs):
                epochs.append(logs["loss"])
                return epoch == 1            # stop after the second epoch

        h = m.fit(self.x, self.y, self.lengths, batch_size=32, epochs=10, callbacks=[Stop()])
        self.assertEqual(h.epochs_run, 2)
        self.assertEqual(h.stop, "callback")
        self.assertEqual(len(epochs), 2)
        self.assertEqual([b[:3] for b in batches], [(e, b, 3) for e in range(2) for b in range(3)])
        self.assertEqual(sum(b[3] for b in batches), 2 * 96)

        ended = []

        class StopFlag(librnn.Callback):
            def on_batch_end(self, batch, logs):
                self.model.stop_training = batch == 1

            def on_epoch_end(self, epoch, logs):
                ended.append(epoch)

        h = m.fit(self.x, self.y, self.lengths, batch_size=16, epochs=3, callbacks=[StopFlag()])
        self.assertEqual(h.stop, "callback")
        self.assertEqual(h.epochs_run, 1)    # the partial epoch counts, as in C
        self.assertEqual(h.epoch, [0])
        self.assertEqual(ended, [0])         # and on_epoch_end sees it, as in Keras
        self.assertEqual(len(h.history["loss"]), 1)
        m.close()

    def test_exception_in_callback_is_raised_after_fit(self):
        m = tiny_tagger()

        class Boom(Exception):
            pass

        def bad(epoch, logs):
            if epoch == 1:
                raise Boom("epoch %d" % epoch)

        with self.assertRaises(Boom) as cm:
            m.fit(self.x, self.y, self.lengths, batch_size=32, epochs=5, callbacks=[bad])
        self.assertEqual(str(cm.exception), "epoch 1")

        def interrupt(batch, logs):
            raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            m.fit(self.x, self.y, self.lengths, batch_size=32, epochs=5,
                  callbacks=[librnn.LambdaCallback(on_batch_end=interrupt)])
        # The model is intact and trains on.
        h = m.fit(self.x, self.y, self.lengths, batch_size=32, epochs=1)
        self.assertEqual(h.epochs_run, 1)
        m.close()

    def test_batch_function(self):
        m = tiny_tagger()
        x, y, lengths = self.x, self.y, self.lengths
        calls = []

        def batches(epoch, batch):
            calls.append((epoch, batch))
            if batch == 3:
                return None
            s = slice(batch * 24, (batch + 1) * 24)
            return x[s].astype(np.int64), y[s], lengths[s]    # converted copies

        def val(epoch, batch):
            return None if batch else (x[:20], y[:20], lengths[:20])

        h = m.fit(batches, epochs=2, validation_data=val)
        self.assertEqual(h.epochs_run, 2)
        self.assertEqual(calls, [(e, b) for e in range(2) for b in range(4)])
        self.assertFalse(math.isnan(h.history["val_loss"][0]))
        self.assertEqual(m.evaluate(batches)["samples"], 72)
        self.assertEqual(m.predict(batches).shape, (72, 8, 4))

        def broken(epoch, batch):
            raise ValueError("no more data")

        with self.assertRaises(ValueError) as cm:
            m.fit(broken, epochs=1)
        self.assertIsInstance(cm.exception.__cause__, librnn.RnnError)
        self.assertEqual(cm.exception.__cause__.status_name, "RNN_ERR_STATE")
        with self.assertRaises(ValueError):
            m.evaluate(broken)
        m.close()

    def test_validation_early_stopping_checkpoint_schedule(self):
        m = tiny_tagger()
        m.compile(loss="sparse_categorical_crossentropy", optimizer=librnn.Adam(0.05))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "best.rnn")
            h = m.fit(self.x[:64], self.y[:64], self.lengths[:64], batch_size=16, epochs=6,
                      validation_data=(self.x[64:], self.y[64:], self.lengths[64:]),
                      checkpoint_path=path, monitor="val_accuracy", early_stopping=True,
                      patience=1, restore_best_weights=True, lr_schedule="step",
                      decay_rate=0.5, decay_steps=1, bucket_batches=2)
            self.assertTrue(os.path.exists(path))
            self.assertIn(h.stop, ("completed", "early_stopped"))
            lr = h.history["learning_rate"]
            self.assertAlmostEqual(lr[1] / lr[0], 0.5, places=5)
            with librnn.load(path) as best:
                best.compile(loss="sparse_categorical_crossentropy")
                ev = best.evaluate(self.x[64:], self.y[64:], self.lengths[64:])
            self.assertAlmostEqual(ev["accuracy"], h.best_value, places=5)
        with self.assertRaises(librnn.RnnError) as cm:
            m.fit(self.x, self.y, self.lengths, monitor="val_loss", early_stopping=True)
        self.assertEqual(cm.exception.status_name, "RNN_ERR_INVALID_ARG")
        with self.assertRaises(TypeError):
            m.fit(self.x, self.y, self.lengths, no_such_option=1)
        m.close()

    def test_other_losses(self):
        r = np.random.default_rng(4)
        x = r.standard_normal((40, 6, 3)).astype(np.float32)
        y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
        m = librnn.Model(seed=2)
        m.input(shape=(None, 3))
        m.gru(8)
        m.dense(1)
        m.compile(loss="binary_crossentropy", optimizer=librnn.RMSprop(0.01), from_logits=True)
        h = m.fit(x, y, batch_size=10, epochs=5)
        self.assertLess(h.history["loss"][-1], h.history["loss"][0])
        m.compile(loss="mse", optimizer=librnn.Nadam(0.01))
        h = m.fit(x, y, batch_size=10, epochs=2, shuffle=False)
        self.assertNotIn("accuracy", h.history)   # mean squared error has none
        m.close()

    def test_mse_reports_no_accuracy(self):
        """Mean squared error has no accuracy (nor perplexity): fit's History, its
        callbacks' logs, verbose's lines and evaluate leave them out rather than
        giving NaN ("accuracy nan"); the cross-entropy losses keep them."""
        r = np.random.default_rng(5)
        x = r.standard_normal((40, 5, 3)).astype(np.float32)
        y = x.mean(axis=(1, 2))[:, None].astype(np.float32)
        m = librnn.Model(seed=3)
        m.input(shape=(None, 3))
        m.gru(4)
        m.dense(1)
        m.compile(loss="mean_squared_error", optimizer=librnn.Adam(0.01))
        epoch_logs, batch_logs = [], []
        cb = librnn.LambdaCallback(on_epoch_end=lambda e, logs: epoch_logs.append(logs),
                                   on_batch_end=lambda b, logs: batch_logs.append(logs))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            h = m.fit(x, y, batch_size=10, epochs=2, validation_split=0.25, callbacks=[cb],
                      verbose=2)
        undefined = ("accuracy", "val_accuracy", "perplexity", "val_perplexity")
        for logs in [h.history, h.last] + epoch_logs:
            self.assertIn("loss", logs)
            self.assertIn("val_loss", logs)
            for k in undefined:
                self.assertNotIn(k, logs)
        self.assertEqual(len(h.history["loss"]), 2)
        self.assertEqual(len(batch_logs), 2 * 3)       # 30 training samples / 10
        for logs in batch_logs:
            self.assertIn("loss", logs)
            self.assertNotIn("accuracy", logs)
        self.assertNotIn("accuracy", out.getvalue())
        self.assertNotIn("nan", out.getvalue())
        self.assertIn("val_loss: %.4f" % h.history["val_loss"][1], out.getvalue())
        ev = m.evaluate(x, y, batch_size=10)
        self.assertEqual(sorted(ev), ["loss", "samples"])
        self.assertFalse(math.isnan(ev["loss"]))
        loss, acc = m.test_step(x, y)        # the batch functions keep their pair
        self.assertTrue(math.isnan(acc) and not math.isnan(loss))
        m.close()

        m = tiny_tagger()                     # a cross-entropy loss defines them all
        xt, yt, lt = tagging_data(n=32)
        h = m.fit(xt, yt, lt, batch_size=16, epochs=1, validation_split=0.25)
        for k in ("loss",) + undefined:
            self.assertIn(k, h.history)
            self.assertFalse(math.isnan(h.history[k][0]), k)
        self.assertEqual(sorted(m.evaluate(xt, yt, lt)),
                         ["accuracy", "loss", "perplexity", "samples"])
        m.close()



@contextlib.contextmanager
def _fd2_to_file():
    """fd 2 (what C would print to) into a temporary file; yields a function giving
    what was written there so far."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            def written():
                f.seek(0)
                return f.read()
            yield written
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


class TestVerbose(unittest.TestCase):
    """verbose is drawn in Python from rnn_model_fit()'s progress reports, on the
    sys.stdout of the moment; the C library writes nothing to fd 2."""

    def setUp(self):
        self.x, self.y, self.lengths = tagging_data(n=64)

    def test_verbose_2_one_line_per_epoch_on_sys_stdout(self):
        m = tiny_tagger()
        out = io.StringIO()
        with _fd2_to_file() as fd2, contextlib.redirect_stdout(out):
            h = m.fit(self.x, self.y, self.lengths, batch_size=16, epochs=2,
                      validation_split=0.25, verbose=2)
            self.assertEqual(fd2(), b"")
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual(lines[0], "Epoch 1/2")
        self.assertEqual(lines[2], "Epoch 2/2")
        self.assertTrue(lines[1].startswith("3/3 - "), lines[1])   # 48 training samples / 16
        for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
            self.assertIn("%s: %.4f" % (k, h.history[k][1]), lines[3])
        self.assertNotIn("[", lines[1])
        m.close()

    def test_verbose_1_bar_on_a_terminal(self):
        m = tiny_tagger()
        out = _Terminal()
        with _fd2_to_file() as fd2, contextlib.redirect_stdout(out):
            m.fit(self.x, self.y, self.lengths, batch_size=16, epochs=2, verbose=1)
            self.assertEqual(fd2(), b"")
        text = out.getvalue()
        self.assertEqual(text.count("Epoch "), 2)
        self.assertEqual(text.count("\r"), 2 * 4 + 2)   # 4 batch updates and the final line
        self.assertIn("\r1/4 [======>.......................] - ETA: ", text)
        self.assertIn("\r4/4 [==============================] - ", text)
        self.assertTrue(text.endswith("\n"))
        # not a terminal: only the finished epochs, with their bar
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            m.fit(self.x, self.y, self.lengths, batch_size=16, epochs=1, verbose=1)
        self.assertNotIn("\r", out.getvalue())
        self.assertIn("4/4 [==============================] - ", out.getvalue())
        m.close()

    def test_unknown_batches_and_silence(self):
        m = tiny_tagger()
        x, y, lengths = self.x, self.y, self.lengths

        def batches(epoch, batch):
            if batch * 32 >= len(x):
                return None
            s = slice(batch * 32, batch * 32 + 32)
            return x[s], y[s], lengths[s]

        out = io.StringIO()
        with _fd2_to_file() as fd2, contextlib.redirect_stdout(out):
            m.fit(batches, epochs=2, verbose=2)
            m.fit(self.x, self.y, self.lengths, batch_size=16, epochs=1)  # verbose=0
            self.assertEqual(fd2(), b"")
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertTrue(lines[1].startswith("2/2 - "), lines)  # counted at the end of the epoch
        with self.assertRaises(ValueError):
            m.fit(self.x, self.y, self.lengths, verbose=3)
        m.close()

    def test_an_exception_while_printing_stops_fit(self):
        m = tiny_tagger()

        class Broken(io.StringIO):
            def write(self, s):
                raise OSError("stdout is gone")

        with contextlib.redirect_stdout(Broken()):
            with self.assertRaises(OSError):
                m.fit(self.x, self.y, self.lengths, batch_size=16, epochs=3, verbose=2)
        m.close()


if __name__ == "__main__":
    unittest.main()
