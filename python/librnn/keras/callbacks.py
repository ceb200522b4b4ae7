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
from __future__ import annotations

import csv
import math
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence

import numpy as np

from ._base import keras_getattr as _keras_getattr
from ._base import unsupported
from ._progbar import Progbar

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "LambdaCallback",
           "TerminateOnNaN", "CSVLogger"]


def _print(msg: str) -> None:
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


if TYPE_CHECKING:
    #: The figures a hook gets (name -> value), or None.
    Logs = Optional[Dict[str, Any]]


class Callback:
    """Base class of callbacks; every hook does nothing.

    Subclass it and override hooks; ``self.model`` is the model being trained
    (set ``self.model.stop_training = True`` to stop after the epoch or batch),
    ``self.params`` the call's parameters (verbose, epochs, steps).
    """

    def __init__(self) -> None:
        self.params: Any = None
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        """Called by fit, evaluate and predict before the first hook.

        Args:
            params: verbose, epochs and steps (batches per epoch).
        """
        self.params = params

    def set_model(self, model: Any) -> None:
        """Called by fit, evaluate and predict before the first hook.

        Args:
            model: The model the callback serves.
        """
        self._model = model

    @property
    def model(self) -> Any:
        """The model the callback serves (None before fit sets it)."""
        return self._model

    @model.setter
    def model(self, value: Any) -> None:
        self._model = value

    def on_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Alias of on_train_batch_begin (Keras').

        Args:
            batch: The batch's index in the epoch.
            logs: None (no figures before a batch).
        """

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Alias of on_train_batch_end (Keras').

        Args:
            batch: The batch's index in the epoch.
            logs: The epoch's running figures ("loss", metrics).
        """

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Called at the start of each training epoch.

        Args:
            epoch: The epoch's index (from 0).
            logs: None.
        """
        pass

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Called at the end of each training epoch, after validation.

        Args:
            epoch: The epoch's index (from 0).
            logs: The epoch's figures: "loss", the metrics and their "val_"
                twins when validating (callbacks may add to it, as
                ReduceLROnPlateau adds "learning_rate").
        """
        pass

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Called before each training batch (calls on_batch_begin).

        Args:
            batch: The batch's index in the epoch.
            logs: None.
        """
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Called after each training batch (calls on_batch_end), from the C
        library's progress report.

        Args:
            batch: The batch's index in the epoch.
            logs: The epoch's running figures ("loss", metrics).
        """
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Keras' hook before each evaluation batch: librnn.keras never calls it.

        Args:
            batch: The batch's index.
            logs: Empty.
        """
        pass

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Keras' hook after each evaluation batch: librnn.keras never calls it.

        Args:
            batch: The batch's index.
            logs: The running figures.
        """
        pass

    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Keras' hook before each prediction batch: librnn.keras never calls it.

        Args:
            batch: The batch's index.
            logs: Empty.
        """
        pass

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Keras' hook after each prediction batch: librnn.keras never calls it.

        Args:
            batch: The batch's index.
            logs: The batch's outputs in Keras.
        """
        pass

    def on_train_begin(self, logs: Logs = None) -> None:
        """Called once when fit starts.

        Args:
            logs: None.
        """
        pass

    def on_train_end(self, logs: Logs = None) -> None:
        """Called once when fit ends (also after stop_training).

        Args:
            logs: The last epoch's figures (None if no epoch ran).
        """
        pass

    def on_test_begin(self, logs: Logs = None) -> None:
        """Called when evaluate, or fit's validation, starts.

        Args:
            logs: None.
        """
        pass

    def on_test_end(self, logs: Logs = None) -> None:
        """Called when evaluate, or fit's validation, ends.

        Args:
            logs: The evaluation's figures ("loss", metrics).
        """
        pass

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Called when predict starts.

        Args:
            logs: None.
        """
        pass

    def on_predict_end(self, logs: Logs = None) -> None:
        """Called when predict ends.

        Args:
            logs: None.
        """
        pass


def _overrides(cb: Callback, *names: str) -> bool:
    for n in names:
        f = getattr(type(cb), n, None)
        if f is not None and f is not getattr(Callback, n):
            return True
    return False


class CallbackList:
    """The callbacks of one fit/evaluate/predict call, in order: the user's, then
    History, then ProgbarLogger (Keras' order). Its hooks call each callback's.

    Args:
        callbacks: The user's callbacks.
        add_history: Whether to add a History (unless one is given).
        add_progbar: Whether to add a ProgbarLogger (unless one is given).
        model: The model, set on every callback.
        **params: The parameters set on every callback (verbose, epochs, steps).

    Raises:
        TypeError: A callback is not a ``keras.callbacks.Callback``.
    """

    def __init__(self, callbacks: Sequence[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, **params: Any) -> None:
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError("callbacks must be keras.callbacks.Callback instances "
                                "(got %r)" % (cb,))
        self._history: Any = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar: Any = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
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

    def set_steps(self, steps: int) -> None:
        """Gives the batches per epoch once a dataset of unknown length has been
        read through (as Keras learns it after the first epoch).

        Args:
            steps: The batches the pass had.
        """
        if self.params.get("steps") is not None:
            return
        self.params["steps"] = steps
        if self._progbar is not None:
            self._progbar.seen = max(self._progbar.seen, steps)

    def wants_batches(self) -> bool:
        """Whether any callback does something after training batches.

        Returns:
            True when a callback overrides a training batch hook, or the
            progress bar redraws per batch; fit then asks the C library for
            per-batch reports.
        """
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                if cb._wants_batches():
                    return True
            elif getattr(cb, "_batches", False) or _overrides(cb, "on_train_batch_begin", "on_train_batch_end", "on_batch_begin",
                            "on_batch_end"):
                return True
        return False

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs: Logs = None) -> None:
        """Calls every callback's on_train_begin (fit starts).

        Args:
            logs: Passed on.
        """
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs = None) -> None:
        """Calls every callback's on_train_end (fit ends).

        Args:
            logs: Passed on.
        """
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Calls every callback's on_epoch_begin (an epoch starts).

        Args:
            epoch: The epoch's index.
            logs: Passed on.
        """
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Calls every callback's on_epoch_end (an epoch ends).

        Args:
            epoch: The epoch's index.
            logs: Passed on.
        """
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Calls every callback's on_train_batch_begin (a training batch starts).

        Args:
            batch: The batch's index.
            logs: Passed on.
        """
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Calls every callback's on_train_batch_end (a training batch ends).

        Args:
            batch: The batch's index.
            logs: Passed on.
        """
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs: Logs = None) -> None:
        """Calls every callback's on_test_begin (an evaluation starts).

        Args:
            logs: Passed on.
        """
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Logs = None) -> None:
        """Calls every callback's on_test_end (an evaluation ends).

        Args:
            logs: Passed on.
        """
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Calls every callback's on_predict_begin (predict starts).

        Args:
            logs: Passed on.
        """
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs = None) -> None:
        """Calls every callback's on_predict_end (predict ends).

        Args:
            logs: Passed on.
        """
        self._call("on_predict_end", logs)


class History(Callback):
    """Records the epochs' logs: ``history.history`` (name -> list per epoch),
    ``history.epoch``, ``history.params``. fit returns it."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs = None) -> None:
        """Starts a new list of epochs (``history`` keeps growing across fits).

        Args:
            logs: Ignored.
        """
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Appends the epoch and its figures, and sets ``model.history``.

        Args:
            epoch: The epoch's index.
            logs: The epoch's figures.
        """
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar (verbose=1) or the epoch lines (verbose=2), as
    Keras 3 draws them, on sys.stdout. fit, evaluate and predict add one when
    verbose is not 0; its hooks draw the bar."""

    verbose: Any
    target: int | None
    progbar: Any

    def __init__(self) -> None:
        super().__init__()
        self.verbose, self.epochs, self.target = 1, 1, None
        self.progbar, self.seen = None, 0
        self._in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Takes verbose, epochs and steps (the bar's target) from the call.

        Args:
            params: The call's parameters.
        """
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

    def on_train_begin(self, logs: Logs = None) -> None:
        """Notes that fit runs (its validation draws no bar of its own).

        Args:
            logs: The figures to show, if any.
        """
        self._in_fit = True

    def on_train_end(self, logs: Logs = None) -> None:
        """Notes that fit has ended.

        Args:
            logs: The figures to show, if any.
        """
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Prints "Epoch n/N" (several epochs) and starts the bar.

        Args:
            epoch: The epoch's index.
            logs: The figures to show.
        """
        self._reset()
        self._init_bar()
        if self.verbose and self.epochs > 1:
            _print("Epoch %d/%d" % (epoch + 1, self.epochs))

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Redraws the bar with the running figures (verbose=1).

        Args:
            batch: The batch's index.
            logs: The figures to show.
        """
        self._init_bar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Finishes the bar (or prints the epoch's line) with the epoch's figures.

        Args:
            epoch: The epoch's index.
            logs: The figures to show.
        """
        self._finalize(logs)

    def on_test_begin(self, logs: Logs = None) -> None:
        """Starts a bar for evaluate (not for fit's validation).

        Args:
            logs: The figures to show, if any.
        """
        if not self._in_fit:
            self._reset()
            self._init_bar()

    def on_test_end(self, logs: Logs = None) -> None:
        """Finishes evaluate's bar with its figures.

        Args:
            logs: The figures to show, if any.
        """
        if not self._in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Starts a bar for predict.

        Args:
            logs: The figures to show, if any.
        """
        self._reset()
        self._init_bar()

    def on_predict_end(self, logs: Logs = None) -> None:
        """Finishes predict's bar.

        Args:
            logs: The figures to show, if any.
        """
        self._finalize(logs)

    def _finalize(self, logs: Logs) -> None:
        self._init_bar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


class _Monitor(Callback):
    """What EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share: the
    monitored quantity and whether it improved (Keras' rules)."""

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: Any = None,
                 min_delta: float = 0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn("%s mode '%s' is unknown, fallback to auto mode."
                          % (type(self).__name__, mode), stacklevel=2)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self._sign: int | None = None   # +1: higher is better, -1: lower is better

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
    """Stops training when ``monitor`` stops improving (Keras' EarlyStopping).

    Args:
        monitor: The logged figure to watch ("val_loss", "val_accuracy", ...).
        min_delta: The least change that counts as an improvement.
        patience: Epochs without improvement before training stops.
        verbose: 1 prints a line when it stops or restores weights.
        mode: "min", "max", or "auto" (from the name: a loss goes down, an
            accuracy up; other names raise ValueError).
        baseline: A value the figure must beat; training stops after
            ``patience`` epochs that do not beat it.
        restore_best_weights: Whether to set the best epoch's weights back at
            the end of training.
        start_from_epoch: Epochs to wait before watching (warm-up).
    """

    best_weights: Any

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.wait, self.stopped_epoch = 0, 0
        self.restore_best_weights = restore_best_weights
        self.best_weights, self.best_epoch = None, 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs: Logs = None) -> None:
        """Resets the wait, the best value and the best weights.

        Args:
            logs: Ignored.
        """
        self.wait, self.stopped_epoch, self.best = 0, 0, None
        self.best_weights, self.best_epoch = None, 0

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Compares the monitored figure with the best so far; sets
        ``model.stop_training`` after ``patience`` epochs without improvement.

        Args:
            epoch: The epoch's index.
            logs: The epoch's figures (a warning when ``monitor`` is missing).
        """
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

    def on_train_end(self, logs: Logs = None) -> None:
        """Reports the stop and restores the best weights (as configured).

        Args:
            logs: Ignored.
        """
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
    ``.weights.h5`` are written in librnn's format (with a warning).

    Args:
        filepath: Where to save; formatted with ``epoch`` (from 1) and the
            epoch's logs. Missing directories are made.
        monitor: The logged figure save_best_only watches.
        verbose: 1 prints a line per save.
        save_best_only: Whether to save only when ``monitor`` improves.
        save_weights_only: Whether to save with ``save_weights`` (librnn's file
            without the optimizer state) rather than ``save``.
        mode: "min", "max" or "auto" (as EarlyStopping).
        save_freq: "epoch"; an int (every n batches) raises NotImplementedError.
        initial_value_threshold: A value the first saved epoch must beat.

    Raises:
        ValueError: An unknown save_freq.
        NotImplementedError: An ``.h5`` path (HDF5).
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: float | None = None) -> None:
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

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Saves the model (when it improved, with save_best_only).

        Args:
            epoch: The epoch's index.
            logs: The epoch's figures (for ``monitor`` and the path's fields).

        Raises:
            KeyError: The path names a field the logs lack.
            IOError: The path is a directory.
        """
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
    the logs).

    Args:
        monitor: The logged figure to watch.
        factor: The factor applied to the rate (< 1).
        patience: Epochs without improvement before reducing.
        verbose: 1 prints a line per reduction.
        mode: "min", "max" or "auto" (as EarlyStopping).
        min_delta: The least change that counts as an improvement.
        cooldown: Epochs to wait after a reduction before watching again.
        min_lr: The rate's lower bound.
        **kwargs: Any raises ValueError.

    Raises:
        ValueError: ``factor`` >= 1.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0, **kwargs: Any) -> None:
        if kwargs:
            raise ValueError("Unrecognized arguments %r" % kwargs)
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. Received "
                             "factor=%r" % (factor,))
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter, self.wait = 0, 0

    def on_train_begin(self, logs: Logs = None) -> None:
        """Resets the best value, the wait and the cooldown.

        Args:
            logs: Ignored.
        """
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Adds "learning_rate" to the logs; reduces the rate after ``patience``
        epochs without improvement.

        Args:
            epoch: The epoch's index.
            logs: The epoch's figures.
        """
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
    (or ``schedule(epoch)``).

    Args:
        schedule: ``schedule(epoch, lr) -> new lr`` (epoch from 0), or
            ``schedule(epoch)``; it must return a float.
        verbose: 1 prints the rate set at each epoch.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Sets the optimizer's rate to the schedule's value.

        Args:
            epoch: The epoch's index.
            logs: Ignored.

        Raises:
            ValueError: The schedule did not return a float.
        """
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

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Adds "learning_rate" to the epoch's logs.

        Args:
            epoch: The epoch's index.
            logs: The epoch's figures.
        """
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class LambdaCallback(Callback):
    """A callback from functions: on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
    on_train_begin(logs), on_train_end(logs), on_train_batch_begin(batch, logs),
    on_train_batch_end(batch, logs) (and on_batch_begin/on_batch_end).

    Args:
        on_epoch_begin: Called as ``fn(epoch, logs)`` at each epoch's start.
        on_epoch_end: Called as ``fn(epoch, logs)`` at each epoch's end.
        on_train_begin: Called as ``fn(logs)`` when fit starts.
        on_train_end: Called as ``fn(logs)`` when fit ends.
        on_train_batch_begin: Called as ``fn(batch, logs)`` before each batch.
        on_train_batch_end: Called as ``fn(batch, logs)`` after each batch.
        **kwargs: Other hooks by their Callback name (``on_batch_end``,
            ``on_test_end``, ...); unknown names raise ValueError.
    """

    def __init__(self, on_epoch_begin: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None,
                 on_train_begin: Callable[..., Any] | None = None,
                 on_train_end: Callable[..., Any] | None = None,
                 on_train_batch_begin: Callable[..., Any] | None = None,
                 on_train_batch_end: Callable[..., Any] | None = None, **kwargs: Any) -> None:
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
    stops with an error naming the batch at a non-finite loss.)

    Args:
        raise_error: Whether to raise RuntimeError rather than stop quietly.
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Stops training (or raises) when the running loss is not finite.

        Args:
            batch: The batch's index.
            logs: The running figures.

        Raises:
            RuntimeError: With ``raise_error``, at a NaN or infinite loss.
        """
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            if self.raise_error:
                raise RuntimeError("NaN or Inf found in loss at batch %d" % batch)
            _print("Batch %d: Invalid loss, terminating training" % batch)
            self.model.stop_training = True


class CSVLogger(Callback):
    """Writes each epoch's logs as a CSV row (an "epoch" column, then the
    figures' names in sorted order).

    Args:
        filename: The CSV file.
        separator: The field separator.
        append: Whether to append to an existing file (its header kept) rather
            than overwrite it.
    """

    _file: Any
    _writer: Any
    _keys: Any

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file, self._writer, self._keys = None, None, None

    def on_train_begin(self, logs: Logs = None) -> None:
        """Opens the file.

        Args:
            logs: Ignored.
        """
        mode = "a" if self.append and os.path.exists(self.filename) else "w"
        self._append_header = not (mode == "a" and os.path.getsize(self.filename) > 0)
        self._file = open(self.filename, mode, newline="")
        self._writer, self._keys = None, None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Writes the epoch's row (and the header first).

        Args:
            epoch: The epoch's index.
            logs: The epoch's figures.
        """
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

    def on_train_end(self, logs: Logs = None) -> None:
        """Closes the file.

        Args:
            logs: Ignored.
        """
        if self._file is not None:
            self._file.close()
            self._file = None


__getattr__ = _keras_getattr("callbacks", """
    BackupAndRestore OrbaxCheckpoint RemoteMonitor SwapEMAWeights TensorBoard""")
