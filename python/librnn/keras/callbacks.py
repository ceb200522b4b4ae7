# SPDX-License-Identifier: Apache-2.0
"""``keras.callbacks``: Callback (subclass it: on_train_begin/end,
on_epoch_begin/end, on_train_batch_begin/end and their on_batch_* aliases,
on_test_begin/end, on_predict_begin/end; ``self.model``, ``self.params``,
``self.model.stop_training = True``), History, ProgbarLogger, EarlyStopping,
ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, LambdaCallback,
TerminateOnNaN and CSVLogger, with Keras 3's behaviour.

During ``fit``, batch hooks run from the C library's per-batch progress reports
(``logs`` hold the epoch's running loss and accuracy, as in Keras); validation
batches and ``evaluate``/``predict`` batches have no per-batch hooks.
"""
import csv
import math
import os
import sys
import warnings

import numpy as np

from ._base import keras_getattr as _keras_getattr
from ._base import unsupported
from ._progbar import Progbar

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "LambdaCallback",
           "TerminateOnNaN", "CSVLogger"]


def _print(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


class Callback:
    """Base class of callbacks; every hook does nothing."""

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, value):
        self._model = value

    def on_batch_begin(self, batch, logs=None):
        """Alias of on_train_batch_begin (Keras')."""

    def on_batch_end(self, batch, logs=None):
        """Alias of on_train_batch_end (Keras')."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


def _overrides(cb, *names):
    for n in names:
        f = getattr(type(cb), n, None)
        if f is not None and f is not getattr(Callback, n):
            return True
    return False


class CallbackList:
    """The callbacks of one fit/evaluate/predict call, in order: the user's, then
    History, then ProgbarLogger (Keras' order)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError("callbacks must be keras.callbacks.Callback instances "
                                "(got %r)" % (cb,))
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.model = model
        self.params = params
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def wants_batches(self):
        """Whether any callback does something after training batches."""
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                if cb._wants_batches():
                    return True
            elif getattr(cb, "_batches", False) or _overrides(cb, "on_train_batch_begin", "on_train_batch_end", "on_batch_begin",
                            "on_batch_end"):
                return True
        return False

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)


class History(Callback):
    """Records the epochs' logs: ``history.history`` (name -> list per epoch),
    ``history.epoch``, ``history.params``. fit returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar (verbose=1) or the epoch lines (verbose=2)."""

    def __init__(self):
        super().__init__()
        self.verbose, self.epochs, self.target = 1, 1, None
        self.progbar, self.seen = None, 0
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _wants_batches(self):
        from ._progbar import dynamic_display
        return self.verbose == 1 and dynamic_display()

    def _reset(self):
        self.seen, self.progbar = 0, None

    def _init_bar(self):
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()
        self._init_bar()
        if self.verbose and self.epochs > 1:
            _print("Epoch %d/%d" % (epoch + 1, self.epochs))

    def on_train_batch_end(self, batch, logs=None):
        self._init_bar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._reset()
            self._init_bar()

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs=None):
        self._reset()
        self._init_bar()

    def on_predict_end(self, logs=None):
        self._finalize(logs)

    def _finalize(self, logs):
        self._init_bar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


class _Monitor(Callback):
    """What EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share: the
    monitored quantity and whether it improved (Keras' rules)."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn("%s mode '%s' is unknown, fallback to auto mode."
                          % (type(self).__name__, mode), stacklevel=2)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self._sign = None   # +1: higher is better, -1: lower is better

    def _set_monitor_op(self):
        if self.mode == "min":
            self._sign = -1
        elif self.mode == "max":
            self._sign = 1
        else:
            name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
            if name == "loss":
                self._sign = -1
            elif self.model is not None and name in getattr(self.model, "_metric_names", ()):
                self._sign = 1   # accuracies go up
            else:
                raise ValueError(
                    "%s callback received monitor=%s, but Keras isn't able to automatically "
                    "determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or "
                    "pass `mode='min'` in order to use the lowest value."
                    % (type(self).__name__, self.monitor))

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self._sign < 0:
            return value + self.min_delta < reference
        return value - self.min_delta > reference


class EarlyStopping(_Monitor):
    """Stops training when ``monitor`` stops improving (Keras' EarlyStopping)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.wait, self.stopped_epoch = 0, 0
        self.restore_best_weights = restore_best_weights
        self.best_weights, self.best_epoch = None, 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best = 0, 0, None
        self.best_weights, self.best_epoch = None, 0

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn("Early stopping conditioned on metric `%s` which is not available. "
                          "Available metrics are: %s" % (self.monitor,
                                                         ",".join(list((logs or {}).keys()))),
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print("Epoch %d: early stopping" % (self.stopped_epoch + 1))
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print("Restoring model weights from the end of the best epoch: %d."
                       % (self.best_epoch + 1))
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Saves the model (librnn's model file) after epochs, or only when
    ``monitor`` improves with save_best_only. ``filepath`` may hold ``{epoch}``
    and log names (``{val_loss:.2f}``). Paths ending in ``.keras`` or
    ``.weights.h5`` are written in librnn's format (with a warning)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch":
            if isinstance(save_freq, int):
                raise unsupported("ModelCheckpoint(save_freq=%r)" % save_freq,
                                  "librnn.keras saves at the end of epochs")
            raise ValueError("Unrecognized save_freq: %r. Expected save_freq are 'epoch' or "
                             "integer values" % (save_freq,))
        self.save_freq = save_freq
        if self.filepath.endswith(".h5") and not self.filepath.endswith(".weights.h5"):
            raise unsupported("saving to %r (HDF5)" % self.filepath,
                              "use librnn's model file")

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_monitor_op()
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError('Failed to format this callback filepath: "%s". Reason: %s'
                           % (self.filepath, e))
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn("Can save best model only with %s available." % self.monitor,
                              stacklevel=2)
            else:
                best = "None" if self.best is None else "%.5f" % self.best
                if self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        _print("\nEpoch %d: %s improved from %s to %.5f, saving model to %s"
                               % (epoch + 1, self.monitor, best, current, path))
                    self.best = current
                else:
                    if self.verbose > 0:
                        _print("\nEpoch %d: %s did not improve from %s"
                               % (epoch + 1, self.monitor, best))
                    return
        elif self.verbose > 0:
            _print("\nEpoch %d: saving model to %s" % (epoch + 1, path))
        d = os.path.dirname(path)
        if d and not os.path.exists(d):
            os.makedirs(d)
        if os.path.isdir(path):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. "
                          "Filepath used is an existing directory: %s" % path)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            _print("\nEpoch %d: finished saving model to %s" % (epoch + 1, path))


class ReduceLROnPlateau(_Monitor):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved
    for ``patience`` epochs (Keras' ReduceLROnPlateau; adds ``learning_rate`` to
    the logs)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if kwargs:
            raise ValueError("Unrecognized arguments %r" % kwargs)
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. Received "
                             "factor=%r" % (factor,))
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter, self.wait = 0, 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn("Learning rate reduction is conditioned on metric `%s` which is not "
                          "available. Available metrics are: %s."
                          % (self.monitor, ",".join(logs.keys())), stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        _print("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %s."
                               % (epoch + 1, new))
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's beginning to ``schedule(epoch, lr)``
    (or ``schedule(epoch)``)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        try:
            lr = self.schedule(epoch, float(opt.learning_rate))
        except TypeError:
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. Got: %r"
                             % (lr,))
        opt.learning_rate = lr
        if self.verbose > 0:
            _print("\nEpoch %d: LearningRateScheduler setting learning rate to %s."
                   % (epoch + 1, lr))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class LambdaCallback(Callback):
    """A callback from functions: on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
    on_train_begin(logs), on_train_end(logs), on_train_batch_begin(batch, logs),
    on_train_batch_end(batch, logs) (and on_batch_begin/on_batch_end)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        hooks.update(kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not hasattr(Callback, name):
                raise ValueError("Unrecognized argument %r" % name)
            setattr(self, name, fn)
        self._batches = any(hooks.get(k) for k in ("on_train_batch_begin",
                                                   "on_train_batch_end", "on_batch_begin",
                                                   "on_batch_end"))


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite. (librnn's fit already
    stops with an error naming the batch at a non-finite loss.)"""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            if self.raise_error:
                raise RuntimeError("NaN or Inf found in loss at batch %d" % batch)
            _print("Batch %d: Invalid loss, terminating training" % batch)
            self.model.stop_training = True


class CSVLogger(Callback):
    """Writes each epoch's logs as a CSV row."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file, self._writer, self._keys = None, None, None

    def on_train_begin(self, logs=None):
        mode = "a" if self.append and os.path.exists(self.filename) else "w"
        self._append_header = not (mode == "a" and os.path.getsize(self.filename) > 0)
        self._file = open(self.filename, mode, newline="")
        self._writer, self._keys = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self._keys,
                                          delimiter=self.sep)
            if self._append_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, logs.get(k, "NA")) for k in self._keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


__getattr__ = _keras_getattr("callbacks", """
    BackupAndRestore OrbaxCheckpoint RemoteMonitor SwapEMAWeights TensorBoard""")
