# SPDX-License-Identifier: Apache-2.0
"""compile, fit, evaluate, predict and the *_on_batch methods of librnn.keras'
models, over the C library.

fit runs its epochs from Python (callbacks, validation, progress as Keras 3) and
each epoch's training in the C library: one ``rnn_model_fit`` epoch (shuffled,
batched and stepped in C) for a model with one input; for several inputs, which
``rnn_model_fit`` does not take, a loop of ``rnn_model_train_step`` over numpy
batches. Per-batch work in Python (batch callbacks, the progress bar, schedules)
runs from the C library's progress reports, only when something needs it.
"""
from __future__ import annotations

import ctypes
import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .. import _lib
from .._lib import RnnError, lib
from ..model import _Data
from . import callbacks as _callbacks
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from ._base import unsupported
from ._datasets import Batches, is_dataset
from ._graph import new_seed


def _sorted_logs(d):
    return {k: d[k] for k in sorted(d)}


class Trainer:
    """The training half of librnn.keras.Model: compile, fit, evaluate, predict
    and the ``*_on_batch`` methods, over numpy arrays.

    Data (``x``) is a numpy array (anything numpy converts) for a model with
    one input, a list of arrays (one per input) or a dict keyed by input name;
    token-id inputs take integers (int32), the others float32. It may also be a
    ``keras.utils.PyDataset`` or a Python generator or iterator of batches
    (``(x, y)``, or ``x`` alone for predict), read in order, batch by batch;
    tf.data datasets raise NotImplementedError. Targets (``y``) are those of
    the first output: librnn trains on the model's first output only.
    """

    #: Whether compile() was called.
    compiled: bool
    #: The compiled keras.optimizers.Optimizer (None before compile).
    optimizer: Any
    #: The loss given to compile (as given).
    loss: Any
    #: Set to True (e.g. by a callback) to stop fit after the current batch or epoch.
    stop_training: bool
    #: The History of the last fit (None before).
    history: Any

    if TYPE_CHECKING:
        # the model half (librnn.keras.Model) provides the rest
        def __getattr__(self, name: str) -> Any: ...

    def _init_training(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self._loss_obj = None
        self._metrics_raw, self._metrics_resolved = [], None
        self.stop_training = False
        self.history = None
        self._c_compiled = False

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True) -> None:
        """Keras' compile: an optimizer (name or object), the loss (name, object or
        function) of the first output, and metrics ("accuracy").

        Args:
            optimizer: An optimizer name ("sgd", "rmsprop", "adam", "nadam",
                "adamw"), a ``keras.optimizers`` object or a config dict.
            loss: The loss of the first output: a name, a ``keras.losses``
                object, class or function (sparse/categorical/binary
                cross-entropy or mean squared error), or a list or dict with
                one entry per output where only the first is not None. None
                compiles for predict only.
            loss_weights: None or [1.0] (else NotImplementedError).
            metrics: None or a list of accuracy metrics: "accuracy", "acc",
                the accuracy names, ``keras.metrics`` objects or functions. They
                must be the accuracy librnn computes for the loss (see
                ``keras.metrics``); others raise NotImplementedError.
            weighted_metrics: Must be empty (else NotImplementedError).
            run_eagerly: Ignored (librnn runs in C).
            steps_per_execution: Ignored.
            jit_compile: Ignored.
            auto_scale_loss: Ignored (no mixed precision).

        Raises:
            NotImplementedError: An argument outside the subset (a loss for
                another output than the first, per-output metrics, metrics
                without a loss, ``global_clipnorm`` with AdditiveAttention, ...).
            ValueError: An unknown optimizer or loss, or a list of losses of
                the wrong length.
        """
        self._compile_config(optimizer, loss, loss_weights, metrics, weighted_metrics)
        if self._c is not None:
            self._c_compile()

    def _compile_config(self, optimizer, loss, loss_weights=None, metrics=None,
                        weighted_metrics=None):
        """compile() without touching the C model."""
        opt = _optimizers.get(optimizer)
        if loss_weights is not None and list(np.ravel(loss_weights)) != [1.0]:
            raise unsupported("compile(loss_weights=%r)" % (loss_weights,))
        if weighted_metrics:
            raise unsupported("compile(weighted_metrics=%r)" % (weighted_metrics,))
        n_out = len(self.outputs) if self._graph_ready() else 1
        if isinstance(loss, dict):
            names = self._output_keys if self._output_struct == "dict" else \
                [t._keras_history[0].name for t in self.outputs]
            loss = [loss.get(n) for n in names]
        if isinstance(loss, (list, tuple)):
            if len(loss) != n_out:
                raise ValueError("compile: %d losses for %d outputs" % (len(loss), n_out))
            if any(l is not None for l in loss[1:]):
                raise unsupported("a loss on an output other than the first",
                                  "librnn trains on the model's first output")
            loss = loss[0]
        elif n_out > 1 and loss is not None:
            raise unsupported("one loss for a model with %d outputs" % n_out,
                              "give [loss, None, ...]: librnn trains on the first output")
        self._loss_obj = _losses.get(loss) if loss is not None else None
        if isinstance(metrics, dict) or (metrics and isinstance(metrics[0], (list, tuple))):
            raise unsupported("per-output metrics")
        if metrics and self._loss_obj is None:
            raise unsupported("metrics without a loss")
        self._metrics_raw = list(metrics or [])
        self._metrics_resolved = None
        if opt.global_clipnorm is not None and self._graph_ready() and any(
                l.class_name == "AdditiveAttention" for l in self.layers):
            raise unsupported("global_clipnorm with AdditiveAttention",
                              "librnn's additive attention has fixed projections that Keras' "
                              "has not, and the global norm would count their gradients")
        self.optimizer = opt
        self.loss = loss
        self.compiled = True
        opt._attach(self)
        if self._graph_ready():
            self._metric_names  # resolve now: refuse what librnn cannot do at compile

    @property
    def _metric_names(self):
        if not self.compiled:
            return []
        if self._metrics_resolved is None:
            if not self._graph_ready():
                return [str(m) for m in self._metrics_raw]
            shape = self.outputs[0].shape
            self._metrics_resolved = [_metrics.resolve(m, self._loss_obj, shape)[0]
                                      for m in self._metrics_raw]
        return self._metrics_resolved

    def _c_compile(self):
        if self._loss_obj is None:
            self._c_compiled = False
            return
        # Keras 3 averages a masked loss over the unmasked steps (without a mask: the mean)
        self._c.compile(loss=self._loss_obj.kind, optimizer=self.optimizer._c_config(),
                        from_logits=self._loss_obj.from_logits, reduction="masked_mean")
        self._c_compiled = True

    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        if self._loss_obj is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    @property
    def metrics_names(self) -> list[str]:
        """"loss" then the compiled metrics' names (empty before compile)."""
        return ["loss"] + list(self._metric_names) if self.compiled else []

    # ------------------------------------------------------------------ data
    def _arrays(self, x, what="x"):
        """One contiguous numpy array per model input, converted to its dtype."""
        if x is None:
            raise ValueError("%s must be given" % what)
        if is_dataset(x):
            raise unsupported("%s as a dataset, generator or PyDataset (%s) here"
                              % (what, type(x).__name__), "pass numpy arrays")
        inputs = self.inputs
        if isinstance(x, dict):
            names = self._input_keys if self._input_struct == "dict" else \
                [t._keras_history[0].name for t in inputs]
            missing = [n for n in names if n not in x]
            if missing:
                raise ValueError("%s: missing inputs %s" % (what, missing))
            x = [x[n] for n in names]
        if len(inputs) == 1:
            if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], np.ndarray):
                x = x[0]
            xs = [x]
        else:
            if not isinstance(x, (list, tuple)) or len(x) != len(inputs):
                raise ValueError("The model has %d inputs: pass a list of %d arrays"
                                 % (len(inputs), len(inputs)))
            xs = list(x)
        out = []
        for k, (a, t) in enumerate(zip(xs, inputs)):
            a = np.asarray(a)
            if t.dtype == "int32":
                if a.dtype.kind not in "iub":
                    if a.dtype.kind == "f" and np.all(np.mod(a, 1) == 0):
                        pass
                    else:
                        raise ValueError("input %d holds token ids: expected integers (got %s)"
                                         % (k, a.dtype))
                a = np.ascontiguousarray(a, np.int32)
            else:
                a = np.ascontiguousarray(a, np.float32)
            if a.ndim != len(t.shape) or any(d is not None and d != s for d, s in
                                             zip(t.shape[1:], a.shape[1:])):
                raise ValueError("Input %d of the model is incompatible: expected shape %s, "
                                 "got %s" % (k, t.shape, a.shape))
            out.append(a)
        n = {a.shape[0] for a in out}
        if len(n) != 1:
            raise ValueError("All inputs must have the same number of samples (got %s)"
                             % [a.shape[0] for a in out])
        for k in self._masked_inputs():
            _check_right_padded(out[k], k)
        return out

    def _targets(self, y):
        if y is None:
            raise ValueError("y must be given for a model with a loss")
        if isinstance(y, dict):
            keys = self._output_keys if self._output_struct == "dict" else \
                [t._keras_history[0].name for t in self.outputs]
            extra = [k for k in y if k != keys[0] and y[k] is not None]
            if extra:
                raise unsupported("targets for outputs other than the first (%s)" % extra)
            y = y[keys[0]]
        if isinstance(y, (list, tuple)) and len(self.outputs) > 1 and len(y) == len(
                self.outputs):
            if any(v is not None for v in y[1:]):
                raise unsupported("targets for outputs other than the first")
            y = y[0]
        a = np.asarray(y)
        out = self.outputs[0].shape
        if self._loss_obj.kind == "sparse_categorical_crossentropy":
            if a.ndim == len(out) and a.shape[-1] == 1:
                a = a[..., 0]
            return np.ascontiguousarray(a, np.int32)
        if a.ndim == len(out) - 1 and out[-1] == 1:
            a = a[..., None]
        return np.ascontiguousarray(a, np.float32)

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Sequence[Any] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: Any = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: Any = 1) -> Any:
        """Keras' fit over numpy arrays; returns the History.

        Each epoch trains in the C library (one ``rnn_model_fit`` epoch for a
        model with one input; Python-driven ``train_step`` batches for
        several); callbacks, validation and progress run from Python as in
        Keras 3. The logs hold "loss", the metrics' names and their "val_"
        twins.

        Args:
            x: The inputs (see the class), or a ``keras.utils.PyDataset`` or
                generator of ``(x, y)`` batches.
            y: The first output's targets: class ids for
                sparse_categorical_crossentropy, else arrays of the output's
                shape (None when ``x`` gives batches).
            batch_size: Samples per step (default 32; arrays only).
            epochs: The epoch to stop before (counting from 0, as Keras: with
                ``initial_epoch`` it is not a count).
            verbose: "auto" or 1 (a progress bar), 2 (one line per epoch) or 0
                (silent), drawn on sys.stdout (terminal or Jupyter).
            callbacks: ``keras.callbacks.Callback`` objects, called in order
                before History and the progress bar.
            validation_split: The fraction of samples, taken from the end
                before shuffling, held out for validation, in [0, 1) (arrays
                only).
            validation_data: ``(x_val, y_val)`` evaluated after epochs
                (overrides validation_split), or a PyDataset or generator of
                batches; sample weights raise NotImplementedError.
            shuffle: Whether to shuffle the samples before each epoch (True or
                False; "batch" raises NotImplementedError). Batches from a
                PyDataset or generator are read in order, as Keras does.
            class_weight: Must be None (else NotImplementedError).
            sample_weight: Must be None (else NotImplementedError).
            initial_epoch: The epoch to start at (to resume training).
            steps_per_epoch: Batches per epoch from a generator (default:
                until it ends; training stops, with Keras' warning, when it
                runs out), or at most a PyDataset's length; with arrays it
                must be None (else NotImplementedError).
            validation_steps: Batches per validation from a generator (as
                ``steps_per_epoch``); with arrays it must be None.
            validation_batch_size: Samples per validation step (default:
                ``batch_size``).
            validation_freq: Validate every this many epochs, or after the
                epochs (1-based) in a collection.

        Returns:
            The ``keras.callbacks.History`` (also ``model.history``).

        Raises:
            ValueError: The model is not compiled with a loss, or the data do
                not match its inputs and output.
            NotImplementedError: An argument or data outside the subset.
        """
        self._assert_compiled("fit")
        for arg, v in (("class_weight", class_weight), ("sample_weight", sample_weight)):
            if v is not None:
                raise unsupported("fit(%s=...)" % arg)
        if shuffle not in (True, False):
            raise unsupported("fit(shuffle=%r)" % (shuffle,))
        verbose = _verbosity(verbose)
        batch_size = int(batch_size or 32)
        if is_dataset(x):
            if y is not None:
                raise ValueError("`y` argument is not supported when using a PyDataset or a "
                                 "generator as x: its batches hold the targets")
            if validation_split:
                raise ValueError("validation_split is only supported for NumPy arrays, not "
                                 "for a PyDataset or a generator")
            data = Batches(x, steps_per_epoch, "x", "steps_per_epoch")
            self._build_from_data(data.peek()[0])
            steps = data.steps
        else:
            for arg, v in (("steps_per_epoch", steps_per_epoch),
                           ("validation_steps", validation_steps)):
                if v is not None:
                    raise unsupported("fit(%s=...) with arrays" % arg)
            self._build_from_data(x)
            data = self._fit_arrays(x, y, validation_split if validation_data is None else 0)
            steps = int(math.ceil(data[0][0].shape[0] / batch_size))
        val = None
        if validation_data is not None and is_dataset(validation_data):
            val = Batches(validation_data, validation_steps, "validation_data",
                          "validation_steps")
        elif validation_data is not None:
            vd = tuple(validation_data)
            if len(vd) == 3 and vd[2] is not None:
                raise unsupported("sample weights in validation_data")
            if len(vd) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val)")
            val = (self._arrays(vd[0], "validation x"), self._targets(vd[1]))
        elif isinstance(data, tuple) and len(data) == 3:
            val = data[2]
        cbl = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                      model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.history = cbl._history
        self.stop_training = False
        self._ensure_c()
        self.optimizer._built = True
        cbl.on_train_begin()
        logs_out = None
        for epoch in range(initial_epoch, epochs):
            if isinstance(data, Batches) and not data.has_next():
                data.warn_if_short(0)   # a generator that has ended: no epoch at all
                break
            cbl.on_epoch_begin(epoch)
            if isinstance(data, Batches):
                data.epoch_begin()
                logs, got = self._train_batches(data, cbl)
                data.epoch_end()
                cbl.set_steps(got)
                self.stop_training |= data.warn_if_short(got)
            else:
                logs = self._train_epoch(data[0], data[1], batch_size, shuffle, cbl)
            if val is not None and _should_eval(epoch, validation_freq):
                cbl.on_test_begin()
                vlogs = self._eval_batches(val) if isinstance(val, Batches) else \
                    self._eval_arrays(val[0], val[1], validation_batch_size or batch_size)
                cbl.on_test_end(vlogs)
                logs.update(("val_" + k, v) for k, v in vlogs.items())
            logs = _sorted_logs(logs)
            cbl.on_epoch_end(epoch, logs)
            logs_out = logs
            if self.stop_training:
                break
        cbl.on_train_end(logs_out)
        return self.history

    def _fit_arrays(self, x, y, validation_split):
        """fit's arrays: (inputs, targets) or, with validation_split, (inputs,
        targets, (validation inputs, validation targets))."""
        xs, ys = self._arrays(x), self._targets(y)
        if ys.shape[0] != xs[0].shape[0]:
            raise ValueError("x and y must have the same number of samples (got %d and %d)"
                             % (xs[0].shape[0], ys.shape[0]))
        if not validation_split:
            return xs, ys
        if not 0 < validation_split < 1:
            raise ValueError("validation_split must be in [0, 1) (got %r)" % (validation_split,))
        n = xs[0].shape[0]
        at = int(math.ceil(n * (1.0 - validation_split)))
        if at <= 0 or at >= n:
            raise ValueError("validation_split=%r of %d samples leaves an empty training "
                             "or validation set" % (validation_split, n))
        return [a[:at] for a in xs], ys[:at], ([a[at:] for a in xs], ys[at:])

    def _batch(self, x, y, what="x"):
        """One batch from a dataset, converted as arrays are: (inputs, targets)."""
        xs = self._arrays(x, what)
        if y is None:
            raise ValueError("%s: a training or evaluation batch must give (x, y)" % what)
        ys = self._targets(y)
        if ys.shape[0] != xs[0].shape[0]:
            raise ValueError("%s: a batch's x and y must have the same number of samples "
                             "(got %d and %d)" % (what, xs[0].shape[0], ys.shape[0]))
        return xs, ys

    def _logs(self, loss, acc):
        out = {"loss": float(loss)}
        for n in self._metric_names:
            out[n] = float(acc)
        return _sorted_logs(out)

    def _after_step(self):
        """Keeps fixed C parameters fixed and sets the scheduled learning rate."""
        for c, name, value in self._fixed:
            c.set_param(name, value)
        self.optimizer._scheduled_lr()

    def _per_batch(self, cbl):
        """Whether Python must see every batch (callbacks, fixed weights, schedules)."""
        return cbl.wants_batches() or bool(self._fixed) or self.optimizer._schedule is not None

    def _train_epoch(self, xs, ys, batch_size, shuffle, cbl):
        self.optimizer._scheduled_lr()
        if len(xs) == 1:
            return self._c_epoch(cbl, xs[0], ys, batch_size, shuffle)[0]

        def slices():
            n = xs[0].shape[0]
            order = np.random.default_rng(new_seed()).permutation(n) if shuffle else None
            for b in range(int(math.ceil(n / batch_size))):
                cbl.on_train_batch_begin(b)
                if order is None:
                    idx = slice(b * batch_size, (b + 1) * batch_size)
                else:
                    idx = np.sort(order[b * batch_size:(b + 1) * batch_size])
                yield [np.ascontiguousarray(a[idx]) for a in xs], np.ascontiguousarray(ys[idx])
        return self._py_epoch(slices(), cbl)[0]

    def _train_batches(self, data, cbl):
        """One epoch over a PyDataset or generator: (logs, batches trained)."""
        self.optimizer._scheduled_lr()
        if len(self.inputs) == 1:
            return self._c_epoch(cbl, batches=data)
        return self._py_epoch(data.batches(self._batch, cbl.on_train_batch_begin), cbl)

    def _c_epoch(self, cbl, x=None, y=None, batch_size=32, shuffle=False, batches=None):
        """One rnn_model_fit epoch over arrays or, through rnn_batch_fn, over
        ``batches``: (logs, batches trained)."""
        errors, got = [], [0]
        per_batch = self._per_batch(cbl)
        if batches is None:
            data = _Data(x, y, None, errors)
        else:
            def next_batch(epoch, b):
                item = batches.fetch(b, cbl.on_train_batch_begin if per_batch else None)
                if item is None:
                    return None
                xs, ys = self._batch(*item)
                got[0] = b + 1
                return xs[0], ys
            data = _Data(next_batch, None, None, errors)
        fo = _lib.init_struct(_lib.rnn_fit_options)
        fo.batch_size, fo.epochs, fo.shuffle = batch_size, 1, int(bool(shuffle))
        fo.seed, fo.reset_states = new_seed(), 0
        # Keras averages the batches' losses weighted by their samples; the C
        # library by what each loss averaged (the unmasked steps of a masked output)
        sums = [0.0, 0]

        def on_batch(user, pb):
            try:
                sums[0] += float(pb.contents.loss) * int(pb.contents.samples)
                sums[1] += int(pb.contents.samples)
                return 0
            except BaseException as e:  # never unwind through C
                errors.append(e)
                return 1

        def on_progress(user, pp):
            try:
                p = pp.contents
                if p.phase != _lib.PROGRESS_BATCH:
                    return 0
                b = int(p.batch) - 1
                self._after_step()
                cbl.on_train_batch_end(b, self._logs(sums[0] / max(sums[1], 1), p.accuracy))
                if self.stop_training:
                    return 1
                if batches is None and b + 1 < p.batches:
                    cbl.on_train_batch_begin(b + 1)
                return 0
            except BaseException as e:  # never unwind through C
                errors.append(e)
                return 1

        batch_cb = _lib.rnn_batch_callback(on_batch)
        fo.on_batch = batch_cb
        cb = None
        if per_batch:
            if batches is None:
                cbl.on_train_batch_begin(0)
            cb = _lib.rnn_progress_callback(on_progress)
            fo.on_progress = cb
        result = _lib.rnn_fit_result()
        result.struct_size = ctypes.sizeof(result)
        try:
            lib.rnn_model_fit(self._c.handle, ctypes.byref(data.struct), ctypes.byref(fo),
                              ctypes.byref(result))
        except RnnError as e:
            if errors:
                raise errors[0] from e
            raise
        if errors:
            raise errors[0]
        return self._logs(sums[0] / sums[1] if sums[1] else result.last.loss,
                          result.last.accuracy), got[0]

    def _py_epoch(self, batches, cbl):
        """An epoch of rnn_model_train_step calls (models with several inputs)
        over ``batches`` of (inputs, targets): (logs, batches trained)."""
        sums = np.zeros(3)   # loss * samples, accuracy * counted, counted
        seen, b = 0, -1
        for b, (xb, yb) in enumerate(batches):
            loss, acc = self._c.train_step(xb, yb)
            self._after_step()
            w = self._acc_count(xb, yb)
            seen += yb.shape[0]
            sums += (loss * yb.shape[0], 0.0 if math.isnan(acc) else acc * w, w)
            cbl.on_train_batch_end(b, self._logs(sums[0] / seen, _ratio(sums[1], sums[2])))
            if self.stop_training:
                break
        return self._logs(sums[0] / max(seen, 1), _ratio(sums[1], sums[2])), b + 1

    def _acc_count(self, xb, yb):
        """How many targets the accuracy of a batch counted: its unmasked steps for
        a per-step output masked by Embedding(mask_zero=True) inputs, else every
        target."""
        sources = self._output_mask_sources()
        n = yb.shape[0]
        steps = yb.shape[1] if yb.ndim >= (2 if self._loss_obj.kind ==
                                           "sparse_categorical_crossentropy" else 3) else 1
        if not sources or steps == 1:
            return float(n * steps)
        lengths = None
        for k in sources:
            nz = xb[k] != 0
            last = np.where(nz.any(1), xb[k].shape[1] - np.argmax(nz[:, ::-1], 1), 0)
            lengths = last if lengths is None else np.minimum(lengths, last)
        return float(np.minimum(lengths, steps).sum())

    # ------------------------------------------------------------------ evaluate
    def _open(self, x, steps, batch_size, call):
        """evaluate's and predict's data: (Batches, None, steps) for a PyDataset or
        generator, (None, input arrays, steps) for arrays."""
        if is_dataset(x):
            data = Batches(x, steps, "x", "steps")
            self._build_from_data(data.peek()[0])
            return data, None, data.steps
        if steps is not None:
            raise unsupported("%s(steps=...) with arrays" % call)
        self._build_from_data(x)
        xs = self._arrays(x)
        return None, xs, int(math.ceil(xs[0].shape[0] / batch_size))

    def _eval_arrays(self, xs, ys, batch_size):
        self._sync()
        if len(xs) == 1 and not self._masked_per_step():
            r = self._c.evaluate(xs[0], ys, batch_size=int(batch_size))
            return self._logs(r["loss"], r["accuracy"])
        return self._eval_steps(([a[s:s + batch_size] for a in xs], ys[s:s + batch_size])
                                for s in range(0, xs[0].shape[0], batch_size))

    def _masked_per_step(self):
        """Whether the output is a masked sequence: its batches' losses are means
        over different numbers of steps, which the C library weights by those
        numbers and Keras by the batches' samples."""
        return bool(self._output_mask_sources()) and len(self.outputs[0].shape) >= 3

    def _eval_batches(self, data):
        """The logs of one pass over a PyDataset or generator."""
        self._sync()
        data.epoch_begin()
        logs = self._eval_steps(data.batches(lambda x, y: self._batch(x, y, data.what)))
        data.epoch_end()
        return logs

    def _eval_steps(self, batches):
        """Loss and metrics over ``batches`` of (inputs, targets), weighted as
        Keras 3 weights them (the loss by samples, accuracy by counted targets)."""
        sums, n = np.zeros(3), 0
        for xb, yb in batches:
            loss, acc = self._c.test_step(xb if len(xb) > 1 else xb[0], yb)
            w = self._acc_count(xb, yb)
            n += yb.shape[0]
            sums += (loss * yb.shape[0], 0.0 if math.isnan(acc) else acc * w, w)
        if not n:
            raise ValueError("evaluation got no batch")
        return self._logs(sums[0] / n, _ratio(sums[1], sums[2]))

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Sequence[Any] | None = None, return_dict: bool = False,
                 **kwargs: Any) -> Any:
        """Keras' evaluate: the loss, or [loss, metrics...] (a dict with return_dict).

        Args:
            x: The inputs (see the class), or a PyDataset or generator of
                ``(x, y)`` batches.
            y: The first output's targets (None when ``x`` gives batches).
            batch_size: Samples per step (default 32; arrays only).
            verbose: "auto" or 1 (the bar, drawn once at the end), 2 or 0.
            sample_weight: Must be None (else NotImplementedError).
            steps: Batches to read from a generator (default: until it ends)
                or at most a PyDataset's length; with arrays it must be None
                (else NotImplementedError).
            callbacks: Callbacks; their test hooks are called (no batch hooks).
            return_dict: Whether to return ``{"loss": ..., metric: ...}``.
            **kwargs: Any raises ValueError (as Keras).

        Returns:
            The mean loss (a float) when no metric is compiled, else
            ``[loss, metric, ...]``, or the dict with ``return_dict``.

        Raises:
            ValueError: The model is not compiled with a loss, or the data do
                not match it.
        """
        self._assert_compiled("evaluate")
        if sample_weight is not None:
            raise unsupported("evaluate(sample_weight=...)")
        if kwargs:
            raise ValueError("Arguments not recognized: %r" % kwargs)
        verbose = _verbosity(verbose)
        batch_size = int(batch_size or 32)
        if is_dataset(x) and y is not None:
            raise ValueError("`y` argument is not supported when using a PyDataset or a "
                             "generator as x: its batches hold the targets")
        data, xs, n_steps = self._open(x, steps, batch_size, "evaluate")
        if data is None:
            ys = self._targets(y)
        cbl = _callbacks.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                      verbose=verbose, epochs=1, steps=n_steps)
        self._ensure_c()
        cbl.on_test_begin()
        if data is not None:
            logs = self._eval_batches(data)
            cbl.set_steps(data.count)
        else:
            logs = self._eval_arrays(xs, ys, batch_size)
        cbl.on_test_end(logs)
        if return_dict:
            return logs
        out = [logs["loss"]] + [logs[n] for n in self._metric_names]
        return out[0] if len(out) == 1 else out

    # ------------------------------------------------------------------ predict
    def _predict_arrays(self, xs, batch_size):
        self._sync()
        if len(xs) == 1 and len(self.outputs) == 1:
            return [np.array(self._c.predict(xs[0], batch_size=batch_size))]
        outs = None
        n = xs[0].shape[0]
        for s in range(0, n, batch_size):
            r = self._c.forward([a[s:s + batch_size] for a in xs] if len(xs) > 1 else
                                xs[0][s:s + batch_size])
            r = r if isinstance(r, list) else [r]
            outs = [[o] for o in r] if outs is None else [p + [o] for p, o in zip(outs, r)]
        return [np.concatenate(o) for o in outs]

    def _structure(self, arrays):
        if self._output_struct == "single":
            return arrays[0]
        if self._output_struct == "dict":
            return dict(zip(self._output_keys, arrays))
        return list(arrays)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Sequence[Any] | None = None) -> Any:
        """Keras' predict: the outputs for every sample (numpy; a list for several
        outputs).

        Args:
            x: The inputs (see the class), or a PyDataset or generator of
                batches (``x``, ``(x,)`` or ``(x, y)``: y is not read).
            batch_size: Samples per step (default 32; arrays only).
            verbose: "auto" or 1 (the bar, drawn once at the end), 2 or 0.
            steps: Batches to read from a generator (default: until it ends)
                or at most a PyDataset's length; with arrays it must be None
                (else NotImplementedError).
            callbacks: Callbacks; their predict hooks are called.

        Returns:
            A float32 array (batch first) for one output; a list of arrays, or
            a dict for outputs given as a dict.
        """
        verbose = _verbosity(verbose)
        batch_size = int(batch_size or 32)
        data, xs, n_steps = self._open(x, steps, batch_size, "predict")
        cbl = _callbacks.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                      verbose=verbose, epochs=1, steps=n_steps)
        self._ensure_c()
        cbl.on_predict_begin()
        if data is not None:
            data.epoch_begin()
            parts = [self._predict_arrays(xb, xb[0].shape[0]) for xb in
                     data.batches(lambda bx, by: self._arrays(bx, data.what))]
            data.epoch_end()
            if not parts:
                raise ValueError("predict got no batch from %s" % type(x).__name__)
            cbl.set_steps(len(parts))
            out = [np.concatenate(o) for o in zip(*parts)]
        else:
            out = self._predict_arrays(xs, batch_size)
        cbl.on_predict_end()
        return self._structure(out)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch (``predict`` in a single step, no callbacks).

        Args:
            x: The batch's inputs (see the class).

        Returns:
            As ``predict``.
        """
        self._build_from_data(x)
        xs = self._arrays(x)
        self._ensure_c()
        return self._structure(self._predict_arrays(xs, xs[0].shape[0]))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """A model called on arrays: its outputs (arrays that also have ``numpy()``)."""
        x = args[0] if args else kwargs.pop("inputs", None)
        if kwargs.get("training"):
            raise unsupported("calling a model with training=True")
        flat = list(x.values()) if isinstance(x, dict) else \
            (x if isinstance(x, (list, tuple)) else [x])
        if any(hasattr(t, "_keras_history") for t in flat):
            raise unsupported("calling a model on symbolic tensors (a nested model)",
                              "build one model from the layers")
        out = self.predict_on_batch(x)
        if isinstance(out, dict):
            return {k: v.view(_Eager) for k, v in out.items()}
        if isinstance(out, list):
            return [v.view(_Eager) for v in out]
        return out.view(_Eager)

    # ------------------------------------------------------------------ on batch
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:
        """One training step on a batch; returns its loss (and metrics), as Keras 3.

        Args:
            x: The batch's inputs (see the class).
            y: Its targets.
            sample_weight: Must be None (else NotImplementedError).
            class_weight: Must be None (else NotImplementedError).
            return_dict: Whether to return a dict of the figures.

        Returns:
            The batch's loss (a float) when no metric is compiled, else
            ``[loss, metric, ...]``, or the dict with ``return_dict``; the
            figures of this batch alone (Keras 3 resets its metrics per call).

        Raises:
            ValueError: The model is not compiled with a loss.
        """
        self._assert_compiled("train_on_batch")
        if sample_weight is not None or class_weight is not None:
            raise unsupported("train_on_batch(sample_weight/class_weight)")
        self._build_from_data(x)
        xs, ys = self._arrays(x), self._targets(y)
        self._ensure_c()
        self.optimizer._built = True
        self.optimizer._scheduled_lr()
        loss, acc = self._c.train_step(xs if len(xs) > 1 else xs[0], ys)
        self._after_step()
        return self._running(loss, acc, xs, ys, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """The loss (and metrics) of one batch, without training.

        Args:
            x: The batch's inputs (see the class).
            y: Its targets.
            sample_weight: Must be None (else NotImplementedError).
            return_dict: Whether to return a dict of the figures.

        Returns:
            As ``train_on_batch``.

        Raises:
            ValueError: The model is not compiled with a loss.
        """
        self._assert_compiled("test_on_batch")
        if sample_weight is not None:
            raise unsupported("test_on_batch(sample_weight=...)")
        self._build_from_data(x)
        xs, ys = self._arrays(x), self._targets(y)
        self._ensure_c()
        loss, acc = self._c.test_step(xs if len(xs) > 1 else xs[0], ys)
        return self._running(loss, acc, xs, ys, return_dict)

    def _running(self, loss, acc, xs, ys, return_dict):
        logs = self._logs(loss, acc)   # Keras 3 resets its metrics at each call
        if return_dict:
            return logs
        out = [logs["loss"]] + [logs[n] for n in self._metric_names]
        return out[0] if len(out) == 1 else out

    def reset_metrics(self) -> None:
        """Keras' reset_metrics (librnn.keras keeps no metric state between calls)."""


class _Eager(np.ndarray):
    """A numpy array that answers ``numpy()`` as Keras' eager tensors do."""

    def numpy(self) -> np.ndarray:
        """The values as a plain numpy array.

        Returns:
            The array (a view, not a copy).
        """
        return np.asarray(self)


def _ratio(a, b):
    return a / b if b else float("nan")


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) or verbose is True or verbose is False:
        return int(verbose)
    raise ValueError("verbose must be 0, 1, 2 or 'auto' (got %r)" % (verbose,))


def _should_eval(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq


def _check_right_padded(a, k):
    """Embedding(mask_zero=True): librnn masks right padding (per-sample lengths);
    Keras masks every 0. Refuse data where they differ."""
    z = a == 0
    bad = z[:, :-1] & ~z[:, 1:]
    if bad.any():
        i = int(np.argmax(bad.any(1)))
        raise unsupported(
            "Embedding(mask_zero=True) on input %d with id 0 before a later token (sample %d)"
            % (k, i), "librnn masks right padding only; pad with "
                      "keras.utils.pad_sequences(..., padding='post')")
    if z[:, 0].any():
        i = int(np.argmax(z[:, 0]))
        raise unsupported("Embedding(mask_zero=True) on input %d with an empty sample (sample "
                          "%d is all padding)" % (k, i))
