# SPDX-License-Identifier: Apache-2.0
"""Models and layers: building (sequential and functional), running forward and
backward, training (compile, train_step, fit, evaluate, predict), weights,
saving and loading, and decoding.

Failed library calls raise :class:`librnn.RnnError` (its ``status_name`` tells
which ``rnn_status``); arguments refused by the binding itself raise
``TypeError`` or ``ValueError``; using a closed model, or a layer or optimizer
of one, raises ``ValueError``.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import sys
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence, Tuple, Union, cast

import numpy as np

from . import _lib, optimizers
from ._lib import LayerP, ModelP, OptimizerP, RnnError, TensorP, lib
from .tensor import Tensor, as_tensor, tensor_array

if TYPE_CHECKING:
    import numpy.typing as npt

    #: A layer's output: a Layer (its output 0) or (Layer, output index).
    Operand = Union["Layer", Tuple["Layer", int]]
    #: Data for one model input: an array (anything numpy converts) or a Tensor.
    ArrayIn = Union[npt.ArrayLike, Tensor]
    #: A model's inputs: one array, or a list with one entry per input.
    Inputs = Union[ArrayIn, Sequence[Optional[ArrayIn]]]
    #: A batch function of fit/evaluate/predict: ``fn(epoch, batch)`` returns
    #: (x, y[, lengths]) or None at the end of an epoch.
    BatchFn = Callable[[int, int], Optional[Sequence[Any]]]
    #: A fit callback: a Callback, or ``fn(epoch, logs)`` called after each epoch.
    CallbackLike = Union["Callback", Callable[[int, Dict[str, Any]], Any]]


def _destroy_model(handle, _fn=lib.rnn_model_destroy):
    _fn(handle)


def _set_fields(struct, options, what, convert=None):
    """Sets struct fields from keyword options; unknown names are a TypeError."""
    names = {n for n, _ in struct._fields_} - {"struct_size"}
    for k, v in options.items():
        if k not in names:
            raise TypeError("%s: unknown option %r (known: %s)" % (what, k,
                                                                   ", ".join(sorted(names))))
        if v is None:
            continue
        if convert and k in convert:
            v = convert[k](v)
        elif isinstance(v, bool):
            v = int(v)
        setattr(struct, k, v)
    return struct


def _enum_of(table, what):
    """A function mapping a name to its value in the enum table (for _set_fields)."""
    return lambda v: _lib.enum(table, v, what)


def _operand(item):
    """Layer or (Layer, output index) -> (Layer, index)."""
    if isinstance(item, Layer):
        return item, 0
    layer, index = item
    if not isinstance(layer, Layer):
        raise TypeError("expected a Layer or (Layer, output) (got %r)" % (item,))
    return layer, int(index)


def _layer_array(layers):
    arr = (LayerP * max(1, len(layers)))()
    for i, l in enumerate(layers):
        arr[i] = l.handle
    return arr


def _struct_dict(s, skip=("struct_size",)):
    return {k: getattr(s, k) for k, _ in s._fields_ if k not in skip}


#: Metrics that only some losses define: the C figures hold NaN for them otherwise
#: (mean squared error has neither accuracy nor perplexity).
_LOSS_METRICS = ("accuracy", "perplexity")


def _defined(logs):
    """A copy of ``logs`` (figures of fit, evaluate or a batch) without the metrics
    the loss does not define: a NaN accuracy or perplexity is left out, and with it
    its val_ twin (Keras has no such key either, rather than a NaN)."""
    out = dict(logs)
    for k in _LOSS_METRICS:
        v = out.get(k)
        if isinstance(v, float) and math.isnan(v):
            del out[k]
            out.pop("val_" + k, None)
    return out


class Layer:
    """A layer of a :class:`Model` (``rnn_layer``), borrowed from it.

    Made by the model's builders (``Model.lstm`` and the like) and returned by
    ``Model.layer``. The Layer keeps its model alive, and is unusable once the
    model is closed (every method then raises ``ValueError``). Layers of one
    model compare equal when they are the same C layer.
    """

    __slots__ = ("_model", "_h", "__weakref__")

    def __init__(self, model: Model, handle: Any) -> None:
        """Wraps a C layer handle; layers come from a :class:`Model`, not from here.

        Args:
            model: The model owning the layer.
            handle: Its ``LayerP`` (``rnn_layer *``).
        """
        self._model = model
        self._h = handle

    @property
    def handle(self) -> Any:
        """The C handle (a ``LayerP``), for calls through ``librnn.lib``.

        Raises:
            ValueError: The model is closed.
        """
        self._model.handle  # raises once the model is closed
        return self._h

    @property
    def model(self) -> Model:
        """The model the layer belongs to."""
        return self._model

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layer) and _lib.address(self._h) == _lib.address(other._h)

    def __hash__(self) -> int:
        return _lib.address(self._h)

    def __repr__(self) -> str:
        try:
            return "<librnn.Layer %s>" % self.name
        except ValueError:
            return "<librnn.Layer of a closed model>"

    # -------------------------------------------------------------- identity
    @property
    def name(self) -> str:
        """The layer's unique name in its model, as Keras names it ("lstm", "lstm_1", ...).

        Raises:
            ValueError: The model is closed.
        """
        p = ctypes.c_char_p()
        lib.rnn_layer_name(self.handle, ctypes.byref(p))
        return cast(bytes, p.value).decode()

    @property
    def type(self) -> str:
        """Keras' class name of the layer: "LSTM", "Dense", "InputLayer", ...

        Raises:
            ValueError: The model is closed.
        """
        p = ctypes.c_char_p()
        lib.rnn_layer_type(self.handle, ctypes.byref(p))
        return cast(bytes, p.value).decode()

    @property
    def config(self) -> dict[str, Any]:
        """The layer's configuration, as Keras' ``get_config()`` and model files have it.

        A dict ``{"kind", "class_name", "name", "trainable", "config": {...}}``;
        "kind" and "config" are what ``Model.add_layer`` takes.

        Raises:
            ValueError: The model is closed.
        """
        need = ctypes.c_size_t()
        lib.rnn_layer_config(self.handle, None, 0, ctypes.byref(need))
        buf = ctypes.create_string_buffer(need.value)
        lib.rnn_layer_config(self.handle, buf, need.value, None)
        return json.loads(buf.value.decode())

    def count_params(self) -> int:
        """The number of parameter values (Keras' ``layer.count_params()``).

        Returns:
            The number of scalars in all the layer's parameters.

        Raises:
            ValueError: The model is closed.
        """
        v = ctypes.c_int64()
        lib.rnn_layer_count_params(self.handle, ctypes.byref(v))
        return v.value

    @property
    def trainable(self) -> bool:
        """Whether training updates the layer's parameters; settable.

        Raises:
            ValueError: The model is closed.
        """
        v = ctypes.c_int()
        lib.rnn_layer_trainable(self.handle, ctypes.byref(v))
        return bool(v.value)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        lib.rnn_layer_set_trainable(self.handle, int(bool(value)))

    def set_trainable(self, value: bool) -> None:
        """Freezes (False) or unfreezes (True) the layer, as ``layer.trainable = value``.

        Args:
            value: Whether training updates the layer's parameters.

        Raises:
            ValueError: The model is closed.
        """
        self.trainable = value

    # -------------------------------------------------------------- parameters
    @property
    def num_params(self) -> int:
        """The number of parameter tensors ("kernel", "bias", ...).

        Raises:
            ValueError: The model is closed.
        """
        v = ctypes.c_int()
        lib.rnn_layer_num_params(self.handle, ctypes.byref(v))
        return v.value

    def _param(self, key):
        idx = key
        if isinstance(key, str):
            v = ctypes.c_int()
            lib.rnn_layer_find_param(self.handle, key.encode(), ctypes.byref(v))
            idx = v.value
        name, value, grad = ctypes.c_char_p(), TensorP(), TensorP()
        lib.rnn_layer_param(self.handle, int(idx), ctypes.byref(name), ctypes.byref(value),
                            ctypes.byref(grad))
        return int(idx), name.value.decode(), value, grad

    @property
    def param_names(self) -> list[str]:
        """The parameters' names, in index order ("kernel", "recurrent_kernel", ...).

        Raises:
            ValueError: The model is closed.
        """
        return [self._param(i)[1] for i in range(self.num_params)]

    def get_param(self, key: str | int) -> np.ndarray:
        """One parameter's values, in Keras' layout.

        Args:
            key: Its name (such as "kernel") or index.

        Returns:
            A float32 numpy copy.

        Raises:
            ValueError: The model is closed.
            RnnError: No such parameter (RNN_ERR_RANGE).
        """
        return Tensor._borrowed(self._param(key)[2], self._model).numpy()

    def grad(self, key: str | int) -> np.ndarray:
        """One parameter's gradient, accumulated since the last ``Model.zero_grad``.

        Args:
            key: The parameter's name or index.

        Returns:
            A float32 numpy copy, shaped as the parameter.

        Raises:
            ValueError: The model is closed.
            RnnError: No such parameter (RNN_ERR_RANGE).
        """
        return Tensor._borrowed(self._param(key)[3], self._model).numpy()

    def set_param(self, key: str | int, value: npt.ArrayLike) -> None:
        """Copies ``value`` into one parameter.

        Args:
            key: The parameter's name or index.
            value: An array of the parameter's shape (converted to float32).

        Raises:
            ValueError: The model is closed.
            RnnError: No such parameter (RNN_ERR_RANGE) or another shape
                (RNN_ERR_SHAPE).
        """
        idx = self._param(key)[0]
        t = as_tensor(value, np.float32)  # held: a temporary's finalizer frees the handle
        lib.rnn_layer_set_param(self.handle, idx, t.handle)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every parameter, name -> numpy copy (Keras layout).

        Raises:
            ValueError: The model is closed.
        """
        return {self._param(i)[1]: self.get_param(i) for i in range(self.num_params)}

    @property
    def gradients(self) -> dict[str, np.ndarray]:
        """Every parameter's gradient, name -> numpy copy (Keras layout).

        Raises:
            ValueError: The model is closed.
        """
        return {self._param(i)[1]: self.grad(i) for i in range(self.num_params)}

    def params_changed(self) -> None:
        """Tells the layer its parameter buffers were written directly.

        Needed after writing through ``lib`` or a ``numpy(copy=False)`` view;
        ``set_param`` and ``set_weights`` do it themselves.

        Raises:
            ValueError: The model is closed.
        """
        lib.rnn_layer_params_changed(self.handle)

    # -------------------------------------------------------------- weights
    def _recurrent_format(self, format):
        """The rnn_weights_format code, or None for a layer the C weights functions
        do not cover (every non-recurrent layer): its Keras weights are then its
        parameters in order, which are kept in Keras' layout."""
        fmt = _lib.enum(_lib.WEIGHTS_FORMATS, format, "format")
        n = ctypes.c_int()
        try:
            lib.rnn_layer_weights_count(self.handle, fmt, ctypes.byref(n))
        except RnnError as e:
            if e.status == 1 and fmt == _lib.WEIGHTS_FORMATS["keras"]:
                return None
            raise
        return fmt

    def weights_info(self, format: str = "keras") -> list[tuple[str, tuple[int, ...]]]:
        """The names and shapes of the arrays get_weights/set_weights use.

        Args:
            format: 'keras' or 'pytorch' (PyTorch's only for recurrent layers).
                Defaults to "keras".

        Returns:
            A list of (name, shape), in get_weights' order.

        Raises:
            ValueError: The model is closed, or ``format`` is unknown.
            RnnError: 'pytorch' for a layer that is not recurrent
                (RNN_ERR_INVALID_ARG).
        """
        fmt = self._recurrent_format(format)
        if fmt is None:
            return [(self._param(i)[1], self.get_param(i).shape) for i in range(self.num_params)]
        n = ctypes.c_int()
        lib.rnn_layer_weights_count(self.handle, fmt, ctypes.byref(n))
        out = []
        for i in range(n.value):
            dims = (ctypes.c_int64 * _lib.MAX_RANK)()
            rank, name = ctypes.c_int(), ctypes.c_char_p()
            lib.rnn_layer_weights_shape(self.handle, fmt, i, dims, ctypes.byref(rank),
                                        ctypes.byref(name))
            out.append((cast(bytes, name.value).decode(),
                        tuple(dims[k] for k in range(rank.value))))
        return out

    def get_weights(self, format: str = "keras") -> list[np.ndarray]:
        """The weights as numpy arrays (Keras' ``layer.get_weights()``).

        Args:
            format: 'keras' (Keras' order and layout) or 'pytorch' (recurrent
                layers: PyTorch's state_dict order and layout for one layer
                index). Defaults to "keras".

        Returns:
            A list of float32 copies, as :meth:`weights_info` describes.

        Raises:
            ValueError: The model is closed, or ``format`` is unknown.
            RnnError: 'pytorch' for a layer that is not recurrent
                (RNN_ERR_INVALID_ARG), or a GRU with reset_after=False
                (RNN_ERR_UNSUPPORTED).
        """
        fmt = self._recurrent_format(format)
        if fmt is None:
            return [self.get_param(i) for i in range(self.num_params)]
        arrays = [np.zeros(shape, np.float32) for _, shape in self.weights_info(format)]
        tensors = [Tensor.wrap(a) for a in arrays]
        lib.rnn_layer_get_weights(self.handle, fmt, len(tensors), tensor_array(tensors))
        return arrays

    def set_weights(self, weights: Sequence[npt.ArrayLike] | dict[str, npt.ArrayLike],
                    format: str = "keras") -> None:
        """Replaces the weights (Keras' ``layer.set_weights()``).

        Nothing changes unless every array fits.

        Args:
            weights: Arrays in ``format``: a list in get_weights' order, or a
                dict by the names weights_info gives.
            format: 'keras' or 'pytorch' (recurrent layers only). Defaults to
                "keras".

        Raises:
            KeyError: A dict lacks one of the names.
            ValueError: The model is closed, ``format`` is unknown, or the
                number or a shape of the arrays is wrong.
            RnnError: The library refused the arrays: their number
                (RNN_ERR_INVALID_ARG), a shape (RNN_ERR_SHAPE), or 'pytorch'
                for a layer it cannot express (RNN_ERR_INVALID_ARG,
                RNN_ERR_UNSUPPORTED).
        """
        info = self.weights_info(format)
        if isinstance(weights, dict):
            missing = [n for n, _ in info if n not in weights]
            if missing:
                raise KeyError("missing weights: %s" % ", ".join(missing))
            weights = [weights[n] for n, _ in info]
        fmt = self._recurrent_format(format)
        if fmt is None:
            arrays = [np.asarray(w, np.float32) for w in weights]
            if len(arrays) != len(info):
                raise ValueError("%s takes %d weight arrays (got %d)"
                                 % (self.name, len(info), len(arrays)))
            for (name, shape), a in zip(info, arrays):
                if a.shape != shape:
                    raise ValueError("%s: %s must have shape %s (got %s)"
                                     % (self.name, name, shape, a.shape))
            for i, a in enumerate(arrays):
                self.set_param(i, a)
            return
        tensors = [as_tensor(w, np.float32) for w in weights]
        lib.rnn_layer_set_weights(self.handle, fmt, len(tensors), tensor_array(tensors))

    # -------------------------------------------------------------- outputs, states
    @property
    def num_outputs(self) -> int:
        """The number of outputs (more than 1 with return_state or attention weights).

        Raises:
            ValueError: The model is closed.
        """
        v = ctypes.c_int()
        lib.rnn_layer_num_outputs(self.handle, ctypes.byref(v))
        return v.value

    @property
    def inputs(self) -> list[tuple[Layer, int]]:
        """The producers the layer reads (``rnn_layer_input``): (layer, output index)
        pairs, the main input first; [] for a model input.

        Raises:
            ValueError: The model is closed.
        """
        n = ctypes.c_int()
        lib.rnn_layer_num_inputs(self.handle, ctypes.byref(n))
        out = []
        for k in range(n.value):
            h, o = LayerP(), ctypes.c_int()
            lib.rnn_layer_input(self.handle, k, ctypes.byref(h), ctypes.byref(o))
            out.append((self._model._layer(h), o.value))
        return out

    def output(self, index: int = 0) -> np.ndarray:
        """One of the layer's outputs in the last forward.

        Args:
            index: The output, 0..num_outputs-1. Defaults to 0.

        Returns:
            A numpy copy.

        Raises:
            ValueError: The model is closed.
            RnnError: No forward ran yet (RNN_ERR_STATE) or a bad index
                (RNN_ERR_RANGE).
        """
        t = TensorP()
        lib.rnn_layer_output(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self._model).numpy()

    @property
    def num_states(self) -> int:
        """The number of recurrent states (h, and c for LSTM, per direction); 0 elsewhere.

        Raises:
            ValueError: The model is closed.
        """
        v = ctypes.c_int()
        lib.rnn_layer_num_states(self.handle, ctypes.byref(v))
        return v.value

    def set_initial_state(self, states: Sequence[npt.ArrayLike] | None) -> None:
        """Sets the initial states of this recurrent layer (Keras ``initial_state=``).

        Args:
            states: Arrays (N, units) in the order h, c per direction, copied;
                None or [] clears them.

        Raises:
            ValueError: The model is closed.
            RnnError: The layer is not recurrent, or the number or shapes of the
                arrays are wrong (RNN_ERR_INVALID_ARG, RNN_ERR_SHAPE).
        """
        tensors = [as_tensor(s, np.float32) for s in (states or [])]
        lib.rnn_layer_set_initial_state(self.handle, len(tensors), tensor_array(tensors))

    def connect_initial_state(self, sources: Sequence[Operand]) -> None:
        """Starts this recurrent layer from other layers' outputs at every forward.

        The encoder-decoder wiring of Keras' ``LSTM(...)(x, initial_state=...)``.

        Args:
            sources: A Layer or (Layer, output index) per state, in the order
                h, c per direction.

        Raises:
            TypeError: An entry is not a Layer or (Layer, int).
            ValueError: The model is closed.
            RnnError: The layer is not recurrent or the number of sources is
                wrong (RNN_ERR_INVALID_ARG), a source has the wrong shape
                (RNN_ERR_SHAPE), or the layer is stateful (RNN_ERR_STATE).
        """
        ops = [_operand(s) for s in sources]
        outs = (ctypes.c_int * max(1, len(ops)))(*[i for _, i in ops])
        lib.rnn_layer_connect_initial_state(self.handle, len(ops),
                                            _layer_array([l for l, _ in ops]), outs)

    def initial_state_grad(self, index: int) -> np.ndarray:
        """The gradient with respect to one initial state, after a backward.

        Args:
            index: The state, 0..num_states-1.

        Returns:
            A numpy copy (N, units).

        Raises:
            ValueError: The model is closed.
            RnnError: No backward since the initial states were set
                (RNN_ERR_STATE), or ``index`` is not one of them (RNN_ERR_RANGE).
        """
        t = TensorP()
        lib.rnn_layer_initial_state_grad(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self._model).numpy()

    def reset_states(self) -> None:
        """Zeroes the carried states of this stateful layer (Keras ``reset_states``).

        Raises:
            ValueError: The model is closed.
        """
        lib.rnn_layer_reset_states(self.handle)


class Callback:
    """Base class of fit callbacks (Keras-like).

    Override :meth:`on_epoch_end` and/or :meth:`on_batch_end`. Return True from
    either, or set ``model.stop_training = True``, to stop training. ``logs`` is
    a dict of the C log's fields (``rnn_epoch_log`` / ``rnn_batch_log``).

    Attributes:
        model: The model being trained, set by ``Model.fit`` (None before).
    """

    model: Model | None = None

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> bool | None:
        """Called after each training batch (only when a subclass overrides it).

        Args:
            batch: The batch's index in its epoch, from 0.
            logs: "epoch", "batch", "batches", "samples", "loss", "accuracy"
                (left out when the loss has none) and "learning_rate".

        Returns:
            True to stop training; None or False to go on.
        """
        return None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool | None:
        """Called after each epoch, with its figures.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's figures, Keras' names: "loss", "accuracy",
                "perplexity", "val_loss", "val_accuracy", "val_perplexity",
                "learning_rate", "seconds", "improved" (a metric the loss does
                not define is left out: no accuracy or perplexity for mean
                squared error).

        Returns:
            True to stop training; None or False to go on.
        """
        return None


class LambdaCallback(Callback):
    """A callback made of plain functions, as Keras' ``LambdaCallback``."""

    def __init__(self, on_epoch_end: Callable[[int, dict[str, Any]], Any] | None = None,
                 on_batch_end: Callable[[int, dict[str, Any]], Any] | None = None) -> None:
        """Makes the callback.

        Args:
            on_epoch_end: ``f(epoch, logs)``, called as :meth:`Callback.on_epoch_end`;
                None: nothing. Defaults to None.
            on_batch_end: ``f(batch, logs)``, called as :meth:`Callback.on_batch_end`;
                None: nothing. Defaults to None.
        """
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end  # type: ignore[assignment]
        if on_batch_end is not None:
            self.on_batch_end = on_batch_end  # type: ignore[assignment]


def _wants_batches(cb):
    f = getattr(cb, "on_batch_end", None)
    return f is not None and getattr(f, "__func__", None) is not Callback.on_batch_end


class _ProgressPrinter:
    """Keras' fit output drawn from the library's progress reports (``rnn_progress``;
    the C library never prints), written to ``stream`` or, when None, to the
    ``sys.stdout`` of the moment. verbose=1: "Epoch i/n", then a bar updated after
    every batch on a terminal, ending as the epoch's line ("40/40 [=====] - 2s -
    loss: ... - val_accuracy: ..."); elsewhere only that line. verbose=2: "Epoch i/n"
    and the epoch's line without the bar."""

    WIDTH = 30

    def __init__(self, verbose, stream=None):
        self.verbose = verbose
        self._stream = stream
        self._bar_open = False

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def _tty(self):
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    def _count(self, p):
        if p.batches > 0:
            n = len(str(p.batches))
            return "%*d/%d" % (n, p.batch, p.batches)
        return "%d/Unknown" % p.batch

    def _bar(self, p):
        if p.batches <= 0:
            return ""
        w = self.WIDTH
        done = min(w, w * p.batch // p.batches)
        if done >= w:
            return " [" + "=" * w + "]"
        return " [" + "=" * max(done - 1, 0) + ">" + "." * (w - max(done, 1)) + "]"

    @staticmethod
    def _metrics(p, val):
        out = ""
        names = ["loss", "accuracy"] + (["val_loss", "val_accuracy"] if val else [])
        for name in names:
            v = getattr(p, name)
            if not math.isnan(v):
                out += " - %s: %.4f" % (name, v)
        return out

    def __call__(self, p):
        out = self.stream
        if p.phase == _lib.PROGRESS_BATCH:
            if self.verbose != 1 or not self._tty():
                return
            if p.batch == 1:
                out.write("Epoch %d/%d\n" % (p.epoch, p.epochs))
            eta = " - ETA: %.0fs" % p.eta if p.eta >= 0 else ""
            out.write("\r" + self._count(p) + self._bar(p) + eta + self._metrics(p, False) +
                      "\x1b[K")  # clears what a longer previous update left
            out.flush()
            self._bar_open = True
            return
        line = self._count(p) + (self._bar(p) if self.verbose == 1 else "")
        line += " - %.0fs" % p.elapsed + self._metrics(p, True)
        if self._bar_open:
            out.write("\r" + line + "\x1b[K\n")  # over the bar, clearing its tail
        else:
            out.write("Epoch %d/%d\n%s\n" % (p.epoch, p.epochs, line))
        out.flush()
        self._bar_open = False


def _verbosity(verbose):
    """Keras' verbose: 0 silent, 1 progress bar, 2 one line per epoch, 'auto' 1 on a
    terminal and 2 elsewhere."""
    if verbose == "auto":
        isatty = getattr(sys.stdout, "isatty", None)
        return 1 if isatty and isatty() else 2
    if isinstance(verbose, bool):
        return int(verbose)
    if verbose in (0, 1, 2):
        return int(verbose)
    raise ValueError("verbose must be 0, 1, 2 or 'auto' (got %r)" % (verbose,))


class History:
    """What ``Model.fit`` returns, as Keras' History.

    Attributes:
        history: Metric name -> list of its value per epoch (Keras' names:
            "loss", "accuracy", "val_loss", ..., plus "perplexity",
            "learning_rate", "seconds", "improved"). A metric the loss does not
            define is left out (no accuracy or perplexity for mean squared
            error).
        epoch: The epochs' indices, from 0.
        epochs_run: The number of epochs run.
        best_epoch: The epoch where the monitored quantity was best (-1: none).
        best_value: Its value then (NaN: none).
        stop: Why training ended: 'completed', 'early_stopped' or 'callback'.
        last: The last epoch's log (a dict as ``Callback.on_epoch_end`` gets),
            or None when no epoch ran.
    """

    def __init__(self) -> None:
        """An empty history; ``Model.fit`` fills it."""
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []
        self.epochs_run = 0
        self.best_epoch = -1
        self.best_value = math.nan
        self.stop: str | int | None = None
        self.last: dict[str, Any] | None = None

    def _add(self, logs):
        self.epoch.append(logs["epoch"])
        for k, v in logs.items():
            if k != "epoch":
                self.history.setdefault(k, []).append(v)

    def _drop_undefined(self):
        """Leaves out the metrics the loss does not define (NaN in every epoch), with
        their val_ twins, as _defined does for one epoch's logs."""
        for k in _LOSS_METRICS:
            values = self.history.get(k)
            if values is not None and all(math.isnan(v) for v in values):
                del self.history[k]
                self.history.pop("val_" + k, None)

    def __repr__(self) -> str:
        return "<librnn.History epochs=%d stop=%s>" % (self.epochs_run, self.stop)


class _Data:
    """An rnn_data for in-memory arrays or a Python batch function, and everything
    it points to (kept alive as long as this object)."""

    def __init__(self, x, y=None, lengths=None, errors=None):
        self.struct = _lib.init_struct(_lib.rnn_data)
        self._cb = None
        self._keep = []
        if callable(x):
            self._iterator(x, errors)
            return
        self.x = as_tensor(x)
        self.y = as_tensor(y)
        self.lengths = as_tensor(lengths, np.int32)
        self.struct.x = self.x.handle
        if self.lengths is not None:
            self.struct.lengths = self.lengths.handle
        if self.y is not None:
            self.struct.targets = self.y.handle

    def _iterator(self, fn, errors):
        keep = self._keep

        def next_batch(user, epoch, batch, px, pl, py):
            try:
                item = fn(epoch, batch)
                if item is None:
                    return 0
                item = tuple(item)
                x, y = item[0], item[1] if len(item) > 1 else None
                lengths = item[2] if len(item) > 2 else None
                tx, ty, tl = as_tensor(x), as_tensor(y), as_tensor(lengths, np.int32)
                keep.append((tx, ty, tl))
                del keep[:-2]  # the previous batch stays valid too
                px[0] = tx.handle
                pl[0] = tl.handle if tl is not None else TensorP()
                py[0] = ty.handle if ty is not None else TensorP()
                return 1
            except BaseException as e:  # never unwind through C
                errors.append(e)
                return -1

        self._cb = _lib.rnn_batch_fn(next_batch)
        self.struct.next = self._cb


def _data_args(data) -> tuple[Any, Any, Any]:
    """validation_data / evaluate arguments: (x, y), (x, y, lengths) or a callable."""
    if callable(data):
        return data, None, None
    data = tuple(data)
    if len(data) not in (2, 3):
        raise ValueError("data must be (x, y) or (x, y, lengths) or a batch function")
    return data[0], data[1], data[2] if len(data) == 3 else None


class Model:
    """A librnn model (``rnn_model``): a static graph of layers, built in order.

    Sequential use, as Keras::

        m = librnn.Model(seed=1)
        m.input(shape=(None,), dtype="int32")
        m.embedding(10000, 64, mask_zero=True)
        m.lstm(64, return_sequences=True)
        m.dense(12, activation="softmax")
        m.compile(loss="sparse_categorical_crossentropy", optimizer=librnn.Adam(1e-3))
        hist = m.fit(x, y, batch_size=64, epochs=3, validation_split=0.1)

    Functional use: every builder returns its :class:`Layer` and takes ``on=``
    (a Layer or (Layer, output)) to choose what it reads; see also
    ``concatenate``, ``attention``, ``shared``, ``set_outputs`` and
    ``Layer.connect_initial_state``.

    Arrays in: numpy (or anything numpy converts), passed without copying when
    C-contiguous float32/int32 (floats are converted to float32 and integers to
    int32 otherwise). Arrays out: numpy. One thread at a time per model.

    Every method raises ``ValueError`` once the model is closed, and
    :class:`librnn.RnnError` when the library refuses a call (its message
    names the function, the argument and the value).

    Attributes:
        stop_training: Set to True (by a callback) to stop ``fit`` after the
            current batch or epoch; ``fit`` resets it.
    """

    def __init__(self, seed: int = 0, backend: str | int = "onednn",
                 _handle: Any = None) -> None:
        """Creates an empty model (``rnn_model_create``).

        Args:
            seed: Seed of the parameter initialisers and dropout masks; the same
                seed builds the same model. Defaults to 0.
            backend: 'onednn' or 'reference' (the plain C kernels). Defaults to
                "onednn".
            _handle: Internal: an existing ``ModelP`` to own (``load``).

        Raises:
            ValueError: ``backend`` is unknown.
            RnnError: The backend is not available (RNN_ERR_BACKEND) or no
                memory (RNN_ERR_NOMEM).
        """
        if _handle is None:
            o = _lib.init_struct(_lib.rnn_model_options)
            o.seed = int(seed)
            o.backend = _lib.enum(_lib.BACKENDS, backend, "backend")
            _handle = ModelP()
            lib.rnn_model_create(ctypes.byref(o), ctypes.byref(_handle))
        self._h = _handle
        self._fin = weakref.finalize(self, _destroy_model, _handle)
        self._layers: weakref.WeakValueDictionary[int, Layer] = weakref.WeakValueDictionary()
        self._optimizers: weakref.WeakSet[optimizers.Optimizer] = weakref.WeakSet()
        self._keep: tuple[Any, ...] = ()       # inputs of the last run, read again in backward
        self._step_keep: tuple[Any, ...] = ()  # inputs of step-wise decoding, until step_end
        self._compile_gen = 0
        self._collective_ref: Any = None  # the Collective in use (kept alive)
        self.stop_training = False

    # -------------------------------------------------------------- lifetime
    @property
    def handle(self) -> Any:
        """The C handle (a ``ModelP``), for calls through ``librnn.lib``.

        Raises:
            ValueError: The model is closed.
        """
        if not self._fin.alive:
            raise ValueError("model is closed")
        return self._h

    def close(self) -> None:
        """Releases the model now (its optimizers first); idempotent."""
        for opt in list(self._optimizers):
            opt.close()
        self._fin()
        self._keep = self._step_keep = ()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` released the model."""
        return not self._fin.alive

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<librnn.Model closed>"
        return "<librnn.Model layers=%d params=%d>" % (self.num_layers, self.count_params())

    def _layer(self, handle):
        key = _lib.address(handle)
        layer = self._layers.get(key)
        if layer is None:
            layer = Layer(self, handle)
            self._layers[key] = layer
        return layer

    def _add(self, fn, *args, on=None):
        if on is not None:
            self.connect_next(*_operand(on))
        out = LayerP()
        fn(self.handle, *args, ctypes.byref(out))
        return self._layer(out)

    # -------------------------------------------------------------- building
    def input(self, shape: Sequence[int | None], dtype: Any = "float32") -> Layer:
        """Declares an input, as Keras ``Input(shape=..., dtype=...)``.

        Args:
            shape: The shape without the batch axis; None (or 0) is "any number
                of steps": (None,) int32 token ids, (None, F) float32 sequences,
                (F,) float32 vectors.
            dtype: 'float32' or 'int32' (or the numpy dtype). Defaults to "float32".

        Returns:
            The input layer.

        Raises:
            TypeError: ``dtype`` is neither float32 nor int32.
            RnnError: A bad shape (RNN_ERR_SHAPE, RNN_ERR_INVALID_ARG), or the
                model already has 16 inputs (RNN_ERR_STATE).
        """
        sizes = tuple(0 if s is None else int(s) for s in shape)
        code = _lib.F32 if np.dtype(dtype) == np.float32 else _lib.I32
        if np.dtype(dtype) not in (np.float32, np.int32):
            raise TypeError("inputs are float32 or int32 (got %s)" % dtype)
        dims = (ctypes.c_int64 * max(1, len(sizes)))(*sizes)
        return self._add(lib.rnn_model_add_input, code, len(sizes), dims)

    def recurrent(self, cell: str | int, units: int, on: Operand | None = None, *,
                  activation: str | None = "tanh", use_bias: bool = True,
                  return_sequences: bool = False, return_state: bool = False,
                  go_backwards: bool = False, stateful: bool = False, reset_after: bool = True,
                  unit_forget_bias: bool = True, dropout: float = 0.0,
                  recurrent_dropout: float = 0.0,
                  kernel_initializer: str | None = "glorot_uniform",
                  recurrent_initializer: str | None = "orthogonal",
                  bias_initializer: str | None = "zeros", bidirectional: bool = False,
                  merge_mode: str | None = "concat") -> Layer:
        """Appends a recurrent layer (Keras SimpleRNN, LSTM or GRU, optionally Bidirectional).

        The defaults are Keras' (and ``rnn_recurrent_options_init``'s); None for
        an option keeps the library's default.

        Args:
            cell: 'simple_rnn', 'lstm' or 'gru'.
            units: Size of the state (> 0).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.
            activation: SimpleRNN: 'tanh' or 'relu'; LSTM and GRU: only 'tanh'.
                Defaults to "tanh".
            use_bias: Whether the cell has biases. Defaults to True.
            return_sequences: True: output (N, T, units) at every step; False:
                (N, units) at each sample's last step. Defaults to False.
            return_state: Adds the final states as extra outputs (h, and c for
                LSTM, per direction, forward first). Defaults to False.
            go_backwards: Processes each sequence in reverse. Defaults to False.
            stateful: Carries the final states to the next batch as its initial
                states (same batch size required). Defaults to False.
            reset_after: GRU only: True is the Keras 2 / PyTorch / cuDNN cell,
                False the original one of Cho et al. Defaults to True.
            unit_forget_bias: LSTM only: the forget-gate bias starts at 1.
                Defaults to True.
            dropout: Fraction of the input features dropped in training (one
                mask per sequence). Defaults to 0.0.
            recurrent_dropout: Fraction of the recurrent state dropped in
                training (runs on the reference kernels when > 0). Defaults to 0.0.
            kernel_initializer: 'glorot_uniform', 'orthogonal', 'zeros' or
                'ones'. Defaults to "glorot_uniform".
            recurrent_initializer: As kernel_initializer. Defaults to "orthogonal".
            bias_initializer: As kernel_initializer. Defaults to "zeros".
            bidirectional: Wraps the layer in Keras' Bidirectional. Defaults to
                False.
            merge_mode: How Bidirectional merges the two directions: 'concat',
                'sum', 'mul' or 'ave'. Defaults to "concat".

        Returns:
            The new layer.

        Raises:
            ValueError: ``cell``, an activation, initializer or merge mode is
                unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        o = _lib.init_struct(_lib.rnn_recurrent_options,
                             _lib.enum(_lib.CELLS, cell, "cell"))
        o.units = int(units)
        options = {"activation": activation, "use_bias": use_bias,
                   "return_sequences": return_sequences, "return_state": return_state,
                   "go_backwards": go_backwards, "stateful": stateful,
                   "reset_after": reset_after, "unit_forget_bias": unit_forget_bias,
                   "dropout": dropout, "recurrent_dropout": recurrent_dropout,
                   "kernel_initializer": kernel_initializer,
                   "recurrent_initializer": recurrent_initializer,
                   "bias_initializer": bias_initializer, "bidirectional": bidirectional,
                   "merge_mode": merge_mode}
        conv: dict[str, Callable[[Any], int]] = {
            "activation": lambda v: _lib.enum(_lib.ACTIVATIONS, v, "activation"),
            "merge_mode": lambda v: _lib.enum(_lib.MERGE_MODES, v, "merge_mode")}
        for k in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            conv[k] = _enum_of(_lib.INITIALIZERS, k)
        _set_fields(o, options, "recurrent", conv)
        return self._add(lib.rnn_model_add_recurrent, ctypes.byref(o), on=on)

    def simple_rnn(self, units: int, on: Operand | None = None, *,
            activation: str | None = "tanh", use_bias: bool = True,
            return_sequences: bool = False, return_state: bool = False,
            go_backwards: bool = False, stateful: bool = False, reset_after: bool = True,
            unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
            kernel_initializer: str | None = "glorot_uniform",
            recurrent_initializer: str | None = "orthogonal",
            bias_initializer: str | None = "zeros", bidirectional: bool = False,
            merge_mode: str | None = "concat") -> Layer:
        """Appends a Keras SimpleRNN: ``recurrent('simple_rnn', units, ...)``.

        Args:
            units: Size of the state (> 0).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.
            activation: As for :meth:`recurrent`. Defaults to "tanh".
            use_bias: As for :meth:`recurrent`. Defaults to True.
            return_sequences: As for :meth:`recurrent`. Defaults to False.
            return_state: As for :meth:`recurrent`. Defaults to False.
            go_backwards: As for :meth:`recurrent`. Defaults to False.
            stateful: As for :meth:`recurrent`. Defaults to False.
            reset_after: As for :meth:`recurrent` (GRU only). Defaults to True.
            unit_forget_bias: As for :meth:`recurrent` (LSTM only). Defaults to True.
            dropout: As for :meth:`recurrent`. Defaults to 0.0.
            recurrent_dropout: As for :meth:`recurrent`. Defaults to 0.0.
            kernel_initializer: As for :meth:`recurrent`. Defaults to "glorot_uniform".
            recurrent_initializer: As for :meth:`recurrent`. Defaults to "orthogonal".
            bias_initializer: As for :meth:`recurrent`. Defaults to "zeros".
            bidirectional: As for :meth:`recurrent`. Defaults to False.
            merge_mode: As for :meth:`recurrent`. Defaults to "concat".

        Returns:
            The new layer.

        Raises:
            ValueError: An activation, initializer or merge mode is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self.recurrent("simple_rnn", units, on=on, activation=activation, use_bias=use_bias,
                              return_sequences=return_sequences, return_state=return_state,
                              go_backwards=go_backwards, stateful=stateful,
                              reset_after=reset_after, unit_forget_bias=unit_forget_bias,
                              dropout=dropout, recurrent_dropout=recurrent_dropout,
                              kernel_initializer=kernel_initializer,
                              recurrent_initializer=recurrent_initializer,
                              bias_initializer=bias_initializer, bidirectional=bidirectional,
                              merge_mode=merge_mode)

    def lstm(self, units: int, on: Operand | None = None, *,
            activation: str | None = "tanh", use_bias: bool = True,
            return_sequences: bool = False, return_state: bool = False,
            go_backwards: bool = False, stateful: bool = False, reset_after: bool = True,
            unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
            kernel_initializer: str | None = "glorot_uniform",
            recurrent_initializer: str | None = "orthogonal",
            bias_initializer: str | None = "zeros", bidirectional: bool = False,
            merge_mode: str | None = "concat") -> Layer:
        """Appends a Keras LSTM: ``recurrent('lstm', units, ...)``.

        Args:
            units: Size of the state (> 0).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.
            activation: As for :meth:`recurrent`. Defaults to "tanh".
            use_bias: As for :meth:`recurrent`. Defaults to True.
            return_sequences: As for :meth:`recurrent`. Defaults to False.
            return_state: As for :meth:`recurrent`. Defaults to False.
            go_backwards: As for :meth:`recurrent`. Defaults to False.
            stateful: As for :meth:`recurrent`. Defaults to False.
            reset_after: As for :meth:`recurrent` (GRU only). Defaults to True.
            unit_forget_bias: As for :meth:`recurrent` (LSTM only). Defaults to True.
            dropout: As for :meth:`recurrent`. Defaults to 0.0.
            recurrent_dropout: As for :meth:`recurrent`. Defaults to 0.0.
            kernel_initializer: As for :meth:`recurrent`. Defaults to "glorot_uniform".
            recurrent_initializer: As for :meth:`recurrent`. Defaults to "orthogonal".
            bias_initializer: As for :meth:`recurrent`. Defaults to "zeros".
            bidirectional: As for :meth:`recurrent`. Defaults to False.
            merge_mode: As for :meth:`recurrent`. Defaults to "concat".

        Returns:
            The new layer.

        Raises:
            ValueError: An activation, initializer or merge mode is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self.recurrent("lstm", units, on=on, activation=activation, use_bias=use_bias,
                              return_sequences=return_sequences, return_state=return_state,
                              go_backwards=go_backwards, stateful=stateful,
                              reset_after=reset_after, unit_forget_bias=unit_forget_bias,
                              dropout=dropout, recurrent_dropout=recurrent_dropout,
                              kernel_initializer=kernel_initializer,
                              recurrent_initializer=recurrent_initializer,
                              bias_initializer=bias_initializer, bidirectional=bidirectional,
                              merge_mode=merge_mode)

    def gru(self, units: int, on: Operand | None = None, *,
            activation: str | None = "tanh", use_bias: bool = True,
            return_sequences: bool = False, return_state: bool = False,
            go_backwards: bool = False, stateful: bool = False, reset_after: bool = True,
            unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
            kernel_initializer: str | None = "glorot_uniform",
            recurrent_initializer: str | None = "orthogonal",
            bias_initializer: str | None = "zeros", bidirectional: bool = False,
            merge_mode: str | None = "concat") -> Layer:
        """Appends a Keras GRU: ``recurrent('gru', units, ...)``.

        Args:
            units: Size of the state (> 0).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.
            activation: As for :meth:`recurrent`. Defaults to "tanh".
            use_bias: As for :meth:`recurrent`. Defaults to True.
            return_sequences: As for :meth:`recurrent`. Defaults to False.
            return_state: As for :meth:`recurrent`. Defaults to False.
            go_backwards: As for :meth:`recurrent`. Defaults to False.
            stateful: As for :meth:`recurrent`. Defaults to False.
            reset_after: As for :meth:`recurrent` (GRU only). Defaults to True.
            unit_forget_bias: As for :meth:`recurrent` (LSTM only). Defaults to True.
            dropout: As for :meth:`recurrent`. Defaults to 0.0.
            recurrent_dropout: As for :meth:`recurrent`. Defaults to 0.0.
            kernel_initializer: As for :meth:`recurrent`. Defaults to "glorot_uniform".
            recurrent_initializer: As for :meth:`recurrent`. Defaults to "orthogonal".
            bias_initializer: As for :meth:`recurrent`. Defaults to "zeros".
            bidirectional: As for :meth:`recurrent`. Defaults to False.
            merge_mode: As for :meth:`recurrent`. Defaults to "concat".

        Returns:
            The new layer.

        Raises:
            ValueError: An activation, initializer or merge mode is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self.recurrent("gru", units, on=on, activation=activation, use_bias=use_bias,
                              return_sequences=return_sequences, return_state=return_state,
                              go_backwards=go_backwards, stateful=stateful,
                              reset_after=reset_after, unit_forget_bias=unit_forget_bias,
                              dropout=dropout, recurrent_dropout=recurrent_dropout,
                              kernel_initializer=kernel_initializer,
                              recurrent_initializer=recurrent_initializer,
                              bias_initializer=bias_initializer, bidirectional=bidirectional,
                              merge_mode=merge_mode)

    def dense(self, units: int, activation: str | None = None, use_bias: bool = True,
              kernel_initializer: str | None = None, bias_initializer: str | None = None,
              on: Operand | None = None) -> Layer:
        """Appends a Keras Dense layer (per time step on a sequence, as TimeDistributed(Dense)).

        Args:
            units: Output features (> 0).
            activation: None or 'linear', 'tanh', 'relu', 'sigmoid', 'softmax' or
                'log_softmax'. Defaults to None.
            use_bias: Whether the layer has a bias. Defaults to True.
            kernel_initializer: 'glorot_uniform', 'orthogonal', 'zeros' or
                'ones'; None: 'glorot_uniform'. Defaults to None.
            bias_initializer: As kernel_initializer; None: 'zeros'. Defaults to None.
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            ValueError: The activation or an initializer is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        o = _lib.init_struct(_lib.rnn_dense_options)
        o.units = int(units)
        o.activation = _lib.enum(_lib.ACTIVATIONS, activation, "activation")
        o.use_bias = int(bool(use_bias))
        if kernel_initializer is not None:
            o.kernel_initializer = _lib.enum(_lib.INITIALIZERS, kernel_initializer, "initializer")
        if bias_initializer is not None:
            o.bias_initializer = _lib.enum(_lib.INITIALIZERS, bias_initializer, "initializer")
        return self._add(lib.rnn_model_add_dense, ctypes.byref(o), on=on)

    def embedding(self, input_dim: int, output_dim: int, mask_zero: bool = False,
                  trainable: bool = True, weights: npt.ArrayLike | None = None,
                  on: Operand | None = None) -> Layer:
        """Appends a Keras Embedding layer (int32 token ids to vectors).

        Args:
            input_dim: Vocabulary size; ids are in [0, input_dim).
            output_dim: Vector size.
            mask_zero: Id 0 is padding: each sample's length becomes the
                position after its last non-zero id, and the following recurrent
                layers and the loss see those lengths (Keras' mask, for
                right-padded sequences). Defaults to False.
            trainable: False freezes the vectors (e.g. pretrained ones).
                Defaults to True.
            weights: Pretrained vectors (input_dim, output_dim) to load; None:
                initialised randomly. Defaults to None.
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), ``weights`` of another
                shape (RNN_ERR_SHAPE), or the input does not fit the layer
                (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        o = _lib.init_struct(_lib.rnn_embedding_options)
        o.input_dim, o.output_dim = int(input_dim), int(output_dim)
        o.mask_zero, o.trainable = int(bool(mask_zero)), int(bool(trainable))
        layer = self._add(lib.rnn_model_add_embedding, ctypes.byref(o), on=on)
        if weights is not None:
            layer.set_param("embeddings", weights)
        return layer

    def dropout(self, rate: float, on: Operand | None = None) -> Layer:
        """Appends a Keras Dropout layer (active in training only).

        Args:
            rate: Fraction of the values dropped, in [0, 1).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_dropout, float(rate), on=on)

    def spatial_dropout1d(self, rate: float, on: Operand | None = None) -> Layer:
        """Appends a Keras SpatialDropout1D layer: whole features dropped per sequence.

        Args:
            rate: Fraction of the features dropped, in [0, 1).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_spatial_dropout1d, float(rate), on=on)

    def activation(self, activation: str | None, on: Operand | None = None) -> Layer:
        """Appends a Keras Activation layer.

        Args:
            activation: None or 'linear', 'tanh', 'relu', 'sigmoid', 'softmax' or
                'log_softmax'.
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            ValueError: The activation is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_activation,
                         _lib.enum(_lib.ACTIVATIONS, activation, "activation"), on=on)

    def global_pooling(self, pooling: str = "average", on: Operand | None = None) -> Layer:
        """Appends global average or max pooling over each sample's real steps.

        Args:
            pooling: 'average' ('avg') or 'max'. Defaults to "average".
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer, output (N, features).

        Raises:
            ValueError: ``pooling`` is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_global_pooling,
                         _lib.enum(_lib.POOLINGS, pooling, "pooling"), on=on)

    def global_average_pooling1d(self, on: Operand | None = None) -> Layer:
        """Appends Keras' GlobalAveragePooling1D: ``global_pooling('average')``.

        Args:
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self.global_pooling("average", on=on)

    def global_max_pooling1d(self, on: Operand | None = None) -> Layer:
        """Appends Keras' GlobalMaxPooling1D: ``global_pooling('max')``.

        Args:
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self.global_pooling("max", on=on)

    def flatten(self, on: Operand | None = None) -> Layer:
        """Appends a Keras Flatten layer: (N, ...) to (N, features).

        Args:
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_flatten, on=on)

    def add_layer(self, kind: str, inputs: Operand | list[Operand] | None = None,
                  **config: Any) -> Layer:
        """Appends a layer of any kind by its model-file name (``rnn_model_add_layer``).

        For example ``m.add_layer("dense", units=8, activation="softmax")``. The
        options are the kind's own (open-ended: every kind the library has, now
        or later), so they stay keywords passed through as JSON.

        Args:
            kind: The kind's name in model files ("dense", "layer_normalization",
                ... as :attr:`Layer.config` reports).
            inputs: What the layer reads: a Layer, (Layer, output) or a list of
                them; None: the next producer. Defaults to None.
            **config: The kind's options by name, as in :attr:`Layer.config`'s
                "config" (JSON values).

        Returns:
            The new layer.

        Raises:
            TypeError: An input is not a Layer or (Layer, int), or an option
                value is not JSON.
            RnnError: An unknown kind or option, or a bad value
                (RNN_ERR_INVALID_ARG, named in the message), or inputs that do
                not fit (RNN_ERR_SHAPE, RNN_ERR_DTYPE).
        """
        items = [] if inputs is None else (
            inputs if isinstance(inputs, list) else [inputs])
        ops = [_operand(o) for o in items]
        arr = (LayerP * max(1, len(ops)))(*[o[0].handle for o in ops])
        outs = (ctypes.c_int * max(1, len(ops)))(*[o[1] for o in ops])
        out = LayerP()
        lib.rnn_model_add_layer(self.handle, kind.encode(), json.dumps(config).encode(),
                                len(ops), arr, outs, ctypes.byref(out))
        return self._layer(out)

    def layer_normalization(self, epsilon: float = 1e-3, center: bool = True,
                            scale: bool = True, on: Operand | None = None) -> Layer:
        """Appends a Keras LayerNormalization layer (over the last axis).

        Args:
            epsilon: Added to the variance (> 0). Defaults to 1e-3.
            center: Learn an offset "beta" (starts at 0). Defaults to True.
            scale: Learn a factor "gamma" (starts at 1). Defaults to True.
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        o = _lib.init_struct(_lib.rnn_layer_normalization_options)
        o.epsilon, o.center, o.scale = float(epsilon), int(bool(center)), int(bool(scale))
        return self._add(lib.rnn_model_add_layer_normalization, ctypes.byref(o), on=on)

    def repeat_vector(self, n: int, on: Operand | None = None) -> Layer:
        """Appends a Keras RepeatVector layer: (N, F) to (N, n, F).

        Args:
            n: The number of repetitions (steps), > 0.
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_repeat_vector, int(n), on=on)

    def conv1d(self, filters: int, kernel_size: int, strides: int = 1, padding: str = "valid",
               dilation_rate: int = 1, activation: str | None = None, use_bias: bool = True,
               kernel_initializer: str | None = None, bias_initializer: str | None = None,
               on: Operand | None = None) -> Layer:
        """Appends a Keras Conv1D layer over the steps of a sequence.

        Args:
            filters: Output features (> 0).
            kernel_size: Window length in steps (> 0).
            strides: Step between windows. Defaults to 1.
            padding: 'valid' or 'same'. Defaults to "valid".
            dilation_rate: Spacing of the window's steps. Defaults to 1.
            activation: None or 'linear', 'tanh', 'relu', 'sigmoid', 'softmax' or
                'log_softmax'. Defaults to None.
            use_bias: Whether the layer has a bias. Defaults to True.
            kernel_initializer: 'glorot_uniform', 'orthogonal', 'zeros' or
                'ones'; None: 'glorot_uniform'. Defaults to None.
            bias_initializer: As kernel_initializer; None: 'zeros'. Defaults to None.
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            ValueError: The padding, activation or an initializer is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        o = _lib.init_struct(_lib.rnn_conv1d_options)
        o.filters, o.kernel_size, o.strides = int(filters), int(kernel_size), int(strides)
        o.padding = _lib.enum(_lib.PADDINGS, padding, "padding")
        o.dilation_rate = int(dilation_rate)
        o.activation = _lib.enum(_lib.ACTIVATIONS, activation, "activation")
        o.use_bias = int(bool(use_bias))
        if kernel_initializer is not None:
            o.kernel_initializer = _lib.enum(_lib.INITIALIZERS, kernel_initializer, "initializer")
        if bias_initializer is not None:
            o.bias_initializer = _lib.enum(_lib.INITIALIZERS, bias_initializer, "initializer")
        return self._add(lib.rnn_model_add_conv1d, ctypes.byref(o), on=on)

    def max_pooling1d(self, pool_size: int = 2, strides: int | None = None,
                      padding: str = "valid", on: Operand | None = None) -> Layer:
        """Appends a Keras MaxPooling1D layer over the steps of a sequence.

        Args:
            pool_size: Window length in steps. Defaults to 2.
            strides: Step between windows; None: ``pool_size``. Defaults to None.
            padding: 'valid' or 'same'. Defaults to "valid".
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new layer.

        Raises:
            ValueError: ``padding`` is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        return self._add(lib.rnn_model_add_max_pooling1d, int(pool_size), int(strides or 0),
                         _lib.enum(_lib.PADDINGS, padding, "padding"), on=on)

    def concatenate(self, *operands: Operand | list[Operand]) -> Layer:
        """Appends a Keras Concatenate layer (on the last axis).

        Args:
            *operands: 2..9 operands, each a Layer or (Layer, output); or a
                single list of them.

        Returns:
            The new layer.

        Raises:
            TypeError: An operand is not a Layer or (Layer, int).
            RnnError: Too few or too many operands (RNN_ERR_INVALID_ARG), or
                shapes that differ on other axes (RNN_ERR_SHAPE).
        """
        items = operands[0] if len(operands) == 1 and isinstance(operands[0], list) else operands
        ops = [_operand(o) for o in items]
        outs = (ctypes.c_int * max(1, len(ops)))(*[i for _, i in ops])
        return self._add(lib.rnn_model_add_concatenate, len(ops),
                         _layer_array([l for l, _ in ops]), outs)

    def attention(self, query: Operand, value: Operand, score: str = "dot", units: int = 0,
                  scale: bool = False, kernel_initializer: str | None = None) -> Layer:
        """Appends attention of ``query`` steps over ``value`` steps.

        Keras' Attention ('dot') and AdditiveAttention ('additive'), and Luong's
        'general' score. Output 0: the contexts (N, Tq, Dv); output 1: the
        weights (N, Tq, Tv).

        Args:
            query: A Layer or (Layer, output): the (N, Tq, Dq) queries.
            value: A Layer or (Layer, output): the (N, Tv, Dv) values (also the
                keys).
            score: 'dot' ('luong'), 'general' or 'additive' ('bahdanau').
                Defaults to "dot".
            units: 'additive': the size of the score layer; 0: the value
                size. Defaults to 0.
            scale: 'dot' and 'general': divide the scores by sqrt(Dq).
                Defaults to False.
            kernel_initializer: 'glorot_uniform', 'orthogonal', 'zeros' or
                'ones'; None: 'glorot_uniform'. Defaults to None.

        Returns:
            The new layer.

        Raises:
            TypeError: ``query`` or ``value`` is not a Layer or (Layer, int).
            ValueError: ``score`` or the initializer is unknown.
            RnnError: A bad option (RNN_ERR_INVALID_ARG), or the input does not fit
                the layer (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_STATE).
        """
        o = _lib.init_struct(_lib.rnn_attention_options)
        o.score = _lib.enum(_lib.ATTENTION_SCORES, score, "score")
        o.units, o.scale = int(units), int(bool(scale))
        if kernel_initializer is not None:
            o.kernel_initializer = _lib.enum(_lib.INITIALIZERS, kernel_initializer, "initializer")
        (ql, qo), (vl, vo) = _operand(query), _operand(value)
        return self._add(lib.rnn_model_add_attention, ctypes.byref(o), ql.handle, qo,
                         vl.handle, vo)

    def shared(self, layer: Layer, on: Operand | None = None) -> Layer:
        """Applies ``layer`` again, with its very parameters (a Keras shared layer).

        Args:
            layer: The layer to apply again (not an input).
            on: What the layer reads: a Layer or (Layer, output); None: the
                last layer added. Defaults to None.

        Returns:
            The new application (a layer sharing ``layer``'s parameters).

        Raises:
            RnnError: ``layer`` is an input or of another model
                (RNN_ERR_INVALID_ARG), or the producer does not fit it
                (RNN_ERR_STATE, RNN_ERR_SHAPE).
        """
        return self._add(lib.rnn_model_add_shared, layer.handle, on=on)

    def connect_next(self, layer: Layer, output: int = 0) -> None:
        """Makes the next layer added read output ``output`` of ``layer``.

        The builders' ``on=`` argument does this.

        Args:
            layer: The producer.
            output: Its output index. Defaults to 0.

        Raises:
            RnnError: ``layer`` is of another model (RNN_ERR_INVALID_ARG), or
                ``output`` is not one of its outputs (RNN_ERR_RANGE).
        """
        lib.rnn_model_connect_next(self.handle, layer.handle, int(output))

    def set_outputs(self, outputs: Sequence[Operand] | None) -> None:
        """Sets the model's outputs (Keras ``Model(inputs, outputs)``).

        Args:
            outputs: A list of Layer or (Layer, output); [] or None returns to
                the default (the last layer's outputs).

        Raises:
            TypeError: An entry is not a Layer or (Layer, int).
            RnnError: A bad layer or output index (RNN_ERR_INVALID_ARG,
                RNN_ERR_RANGE).
        """
        ops = [_operand(o) for o in (outputs or [])]
        outs = (ctypes.c_int * max(1, len(ops)))(*[i for _, i in ops])
        lib.rnn_model_set_outputs(self.handle, len(ops), _layer_array([l for l, _ in ops]),
                                  outs)

    # -------------------------------------------------------------- introspection
    def _count(self, fn):
        v = ctypes.c_int()
        fn(self.handle, ctypes.byref(v))
        return v.value

    @property
    def num_inputs(self) -> int:
        """The number of inputs declared with :meth:`input`.

        Raises:
            ValueError: The model is closed.
        """
        return self._count(lib.rnn_model_num_inputs)

    @property
    def num_outputs(self) -> int:
        """The number of model outputs (see :meth:`set_outputs`).

        Raises:
            ValueError: The model is closed.
        """
        return self._count(lib.rnn_model_num_outputs)

    @property
    def output_sources(self) -> list[tuple[Layer, int]]:
        """Which layer output each model output is (``rnn_model_output_source``):
        (layer, output index) pairs.

        Raises:
            ValueError: The model is closed.
        """
        out = []
        for k in range(self.num_outputs):
            h, o = LayerP(), ctypes.c_int()
            lib.rnn_model_output_source(self.handle, k, ctypes.byref(h), ctypes.byref(o))
            out.append((self._layer(h), o.value))
        return out

    @property
    def num_layers(self) -> int:
        """The number of layers, inputs included.

        Raises:
            ValueError: The model is closed.
        """
        return self._count(lib.rnn_model_num_layers)

    def layer(self, index: int | str) -> Layer:
        """A layer by position or name (also ``get_layer``, as Keras).

        Args:
            index: Its position (0 is the first input) or its name.

        Returns:
            The layer.

        Raises:
            KeyError: No layer has that name.
            ValueError: The model is closed.
            RnnError: The position is outside [0, num_layers) (RNN_ERR_RANGE).
        """
        if isinstance(index, str):
            for l in self.layers:
                if l.name == index:
                    return l
            raise KeyError("no layer named %r" % index)
        out = LayerP()
        lib.rnn_model_layer(self.handle, int(index), ctypes.byref(out))
        return self._layer(out)

    get_layer = layer

    @property
    def layers(self) -> list[Layer]:
        """Every layer, in order, inputs included.

        Raises:
            ValueError: The model is closed.
        """
        return [self.layer(i) for i in range(self.num_layers)]

    def count_params(self) -> int:
        """The number of parameter values (Keras' ``model.count_params()``).

        Returns:
            The number of scalars in all the layers' parameters.

        Raises:
            ValueError: The model is closed.
        """
        v = ctypes.c_int64()
        lib.rnn_model_count_params(self.handle, ctypes.byref(v))
        return v.value

    def summary(self, print_fn: Callable[[str], Any] | None = None) -> str:
        """Keras' summary table (layers, output shapes, parameter counts).

        Args:
            print_fn: Called with the table when given (e.g. ``print``); None:
                nothing is printed. Defaults to None.

        Returns:
            The table as a string.

        Raises:
            ValueError: The model is closed.
        """
        needed = ctypes.c_size_t()
        lib.rnn_model_summary(self.handle, None, 0, ctypes.byref(needed))
        buf = ctypes.create_string_buffer(needed.value)
        lib.rnn_model_summary(self.handle, buf, needed.value, ctypes.byref(needed))
        text = buf.value.decode()
        if print_fn is not None:
            print_fn(text)
        return text

    def get_weights(self, format: str = "keras") -> list[np.ndarray]:
        """Every layer's weights, in layer order (Keras' ``model.get_weights()``).

        Args:
            format: 'keras' or 'pytorch' (see :meth:`Layer.get_weights`).
                Defaults to "keras".

        Returns:
            A list of float32 numpy copies.

        Raises:
            ValueError: The model is closed, or ``format`` is unknown.
            RnnError: 'pytorch' with a layer it cannot express.
        """
        out = []
        for l in self.layers:
            if l.num_params:
                out.extend(l.get_weights(format))
        return out

    def set_weights(self, weights: Sequence[npt.ArrayLike], format: str = "keras") -> None:
        """Replaces every layer's weights (Keras' ``model.set_weights()``).

        Args:
            weights: Arrays in the order :meth:`get_weights` gives.
            format: 'keras' or 'pytorch'. Defaults to "keras".

        Raises:
            ValueError: The model is closed, ``format`` is unknown, an array has
                the wrong shape, or arrays are left over.
            RnnError: The library refused an array (see
                :meth:`Layer.set_weights`).
        """
        weights = list(weights)
        for l in self.layers:
            if l.num_params:
                n = len(l.weights_info(format))
                l.set_weights(weights[:n], format)
                weights = weights[n:]
        if weights:
            raise ValueError("%d weight arrays left over" % len(weights))

    # -------------------------------------------------------------- running
    def _input_list(self, x, what="inputs"):
        n = self.num_inputs
        if n == 1:
            if isinstance(x, (list, tuple)) and len(x) == 1 and (
                    x[0] is None or isinstance(x[0], (np.ndarray, Tensor))):
                x = x[0]
            return [x]
        if not isinstance(x, (list, tuple)) or len(x) != n:
            raise ValueError("%s: the model has %d inputs, give a list of %d" % (what, n, n))
        return list(x)

    def _prepare(self, x, lengths):
        xs = [as_tensor(v) for v in self._input_list(x)]
        if lengths is None:
            ls = None
        else:
            ls = [as_tensor(v, np.int32) for v in self._input_list(lengths, "lengths")]
        return xs, ls

    def _outputs(self):
        n = self.num_outputs
        outs = [self.output(i) for i in range(n)]
        return outs[0] if n == 1 else outs

    def output(self, index: int = 0) -> np.ndarray:
        """One model output of the last forward.

        Args:
            index: The output, 0..num_outputs-1. Defaults to 0.

        Returns:
            A numpy copy.

        Raises:
            ValueError: The model is closed.
            RnnError: No forward ran yet (RNN_ERR_STATE) or a bad index
                (RNN_ERR_RANGE).
        """
        t = TensorP()
        lib.rnn_model_output(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self).numpy()

    def forward(self, x: Inputs, lengths: Inputs | None = None,
                training: bool = False) -> np.ndarray | list[np.ndarray]:
        """Runs the model on a batch (``rnn_model_forward``; also ``model(x)``).

        The arrays are passed without copying when they can be, and the C model
        reads them again in ``backward``: the binding keeps them alive until the
        next run, but do not modify them in place before ``backward``.

        Args:
            x: One array per input (a list for several inputs).
            lengths: None, or per input None or the int32 (N) lengths of
                right-padded sequences. Defaults to None.
            training: Keep what backward needs (and apply dropout). Defaults
                to False.

        Returns:
            Output 0 as a numpy copy, or the list of outputs when the model has
            several.

        Raises:
            ValueError: The model is closed, or a list of the wrong length for
                a model with several inputs.
            TypeError: Data that is not numeric.
            RnnError: Inputs or lengths that do not fit (RNN_ERR_SHAPE,
                RNN_ERR_DTYPE, RNN_ERR_RANGE), or a model without layers
                (RNN_ERR_STATE).
        """
        xs, ls = self._prepare(x, lengths)
        self._keep = (xs, ls)  # the model reads them again in backward
        lib.rnn_model_forward(self.handle, len(xs), tensor_array(xs),
                              tensor_array(ls) if ls is not None else None, int(bool(training)))
        return self._outputs()

    __call__ = forward

    def backward(self, grads: Inputs | None = None) -> None:
        """Back-propagates from the outputs of the last training forward.

        Parameter gradients accumulate (see :meth:`zero_grad`).

        Args:
            grads: dLoss/dOutput, one array per output (None entries: zero); a
                single array for a single output; None: every output's gradient
                is zero. Defaults to None.

        Raises:
            ValueError: The model is closed.
            RnnError: No training forward since the last change (RNN_ERR_STATE),
                or gradients of the wrong shape (RNN_ERR_SHAPE).
        """
        if grads is None:
            lib.rnn_model_backward(self.handle, self.num_outputs, None)
            return
        n = self.num_outputs
        items = [grads] if n == 1 and not isinstance(grads, (list, tuple)) else grads
        ts = [as_tensor(g, np.float32) for g in cast(Sequence[Any], items)]
        lib.rnn_model_backward(self.handle, len(ts), tensor_array(ts))

    def input_grad(self, index: int = 0) -> np.ndarray:
        """The gradient with respect to one input, after a backward.

        Args:
            index: The input. Defaults to 0.

        Returns:
            A float32 numpy copy, shaped as the input.

        Raises:
            ValueError: The model is closed.
            RnnError: No backward ran yet (RNN_ERR_STATE), or the input holds
                token ids (RNN_ERR_DTYPE).
        """
        t = TensorP()
        lib.rnn_model_input_grad(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self).numpy()

    def zero_grad(self) -> None:
        """Zeroes every parameter gradient (they accumulate over backwards).

        Raises:
            ValueError: The model is closed.
        """
        lib.rnn_model_zero_grad(self.handle)

    def reset_states(self) -> None:
        """Zeroes the carried states of every stateful layer (Keras ``reset_states``).

        Raises:
            ValueError: The model is closed.
        """
        lib.rnn_model_reset_states(self.handle)

    def set_precision(self, precision: str) -> None:
        """Chooses the precision the model computes in (``rnn_model_set_precision``).

        'mixed_bfloat16' is Keras' mixed precision policy of that name: the recurrent
        kernels and Dense products take bfloat16 operands and accumulate in float32,
        while parameters, gradients, the loss and the optimizer stay float32. A runtime
        setting: it is not saved with the model and may change between any two calls.

        Args:
            precision: 'float32' (the default) or 'mixed_bfloat16' (also 'f32', 'bf16').

        Raises:
            ValueError: An unknown name, or the model is closed.
            RnnError: 'mixed_bfloat16' on a CPU without AVX512-BF16 or AMX
                (RNN_ERR_UNSUPPORTED; the message names the instruction set found).
        """
        lib.rnn_model_set_precision(self.handle,
                                    _lib.enum(_lib.PRECISIONS, precision, "precision"))

    @property
    def precision(self) -> str:
        """The precision set by :meth:`set_precision`: 'float32' or 'mixed_bfloat16'."""
        v = ctypes.c_int()
        lib.rnn_model_get_precision(self.handle, ctypes.byref(v))
        return "mixed_bfloat16" if v.value == _lib.PRECISIONS["mixed_bfloat16"] else "float32"

    # -------------------------------------------------------------- training
    def compile(self, loss: str | int = "sparse_categorical_crossentropy",
                optimizer: optimizers.OptimizerConfig | str = "rmsprop",
                from_logits: bool = False, reduction: str | int = "mean") -> None:
        """Sets the loss (on output 0) and the model's own optimizer, as Keras ``compile``.

        Compiling again replaces both (and invalidates :attr:`optimizer`).

        Args:
            loss: 'sparse_categorical_crossentropy', 'categorical_crossentropy',
                'binary_crossentropy' or 'mean_squared_error' ('mse'). Mean
                squared error has no accuracy. Defaults to
                "sparse_categorical_crossentropy".
            optimizer: An :class:`librnn.OptimizerConfig` such as
                ``librnn.Adam(1e-3)``, or a name ('adam', ...). Defaults to
                "rmsprop".
            from_logits: Output 0 holds logits, not probabilities (the
                cross-entropy losses). Defaults to False.
            reduction: 'mean' ('sum_over_batch_size'): the loss averaged over
                the batch (and steps); 'masked_mean': over the unmasked steps
                only. Defaults to "mean".

        Raises:
            ValueError: The model is closed, or the loss, reduction or optimizer
                is unknown.
            RnnError: Bad optimizer options (RNN_ERR_INVALID_ARG), or a model
                without layers (RNN_ERR_STATE).
        """
        c = _lib.init_struct(_lib.rnn_compile_options,
                             _lib.enum(_lib.LOSSES, loss, "loss"))
        c.from_logits = int(bool(from_logits))
        c.reduction = _lib.enum(_lib.REDUCTIONS, reduction, "reduction")
        o = optimizers.get(optimizer).struct()
        lib.rnn_model_compile(self.handle, ctypes.byref(c), ctypes.byref(o))
        self._compile_gen += 1

    @property
    def optimizer(self) -> optimizers.Optimizer:
        """The optimizer compile made (borrowed; valid until the next compile).

        Raises:
            ValueError: The model is closed.
            RnnError: The model is not compiled (RNN_ERR_STATE).
        """
        h = OptimizerP()
        lib.rnn_model_optimizer(self.handle, ctypes.byref(h))
        return optimizers.Optimizer._borrowed(self, h, self._compile_gen)

    # -------------------------------------------------------------- data parallelism
    def set_collective(self, collective: Any) -> None:
        """Trains and evaluates together with the other ranks of ``collective``
        from now on (``rnn_model_set_collective``), or alone again (None).

        A collective call: every rank calls it with the same model. Rank 0's
        weights are broadcast to every rank. Then ``fit``, ``evaluate``,
        ``train_step`` and ``test_step`` work on each rank's share of every
        batch, sum the gradients over the ranks and report the same figures on
        every rank (docs/guide/distributed.md). The model keeps ``collective``
        alive while it uses it.

        Args:
            collective: A :class:`librnn.mpi.Collective`, or None to detach.

        Raises:
            ValueError: The model or the collective is closed.
            RnnError: The broadcast failed (RNN_ERR_COLLECTIVE); the model is
                then left alone.
        """
        ptr = None if collective is None else collective._collective()
        lib.rnn_model_set_collective(self.handle, ptr)
        self._collective_ref = collective

    def sync_weights(self) -> None:
        """Broadcasts rank 0's weights (and optimizer state) to every rank
        (``rnn_model_sync_weights``), after a rank changed its own; ``fit``
        does it when it starts. A collective call.

        Raises:
            ValueError: The model is closed.
            RnnError: No collective is attached (RNN_ERR_STATE), or it failed
                (RNN_ERR_COLLECTIVE).
        """
        lib.rnn_model_sync_weights(self.handle)

    @property
    def collective_rank(self) -> tuple[int, int]:
        """(rank, size) of the attached collective; (0, 1) without one
        (``rnn_model_collective_rank``): print or save on rank 0 only.

        Raises:
            ValueError: The model is closed.
        """
        rank, size = ctypes.c_int(), ctypes.c_int()
        lib.rnn_model_collective_rank(self.handle, ctypes.byref(rank), ctypes.byref(size))
        return rank.value, size.value

    def _step(self, fn, x, y, lengths):
        xs, ls = self._prepare(x, lengths)
        ty = as_tensor(y)
        self._keep = (xs, ls, ty)
        loss, acc = ctypes.c_float(), ctypes.c_float()
        fn(self.handle, len(xs), tensor_array(xs), tensor_array(ls) if ls is not None else None,
           ty.handle, ctypes.byref(loss), ctypes.byref(acc))
        return loss.value, acc.value

    def train_step(self, x: Inputs, y: ArrayIn,
                   lengths: Inputs | None = None) -> tuple[float, float]:
        """One training step on a batch (also ``train_on_batch``, as Keras).

        Args:
            x: The inputs, as for :meth:`forward`.
            y: The targets of output 0: class ids (sparse loss), or arrays of
                output 0's shape.
            lengths: As for :meth:`forward`. Defaults to None.

        Returns:
            (loss, accuracy) of the batch before the update; the accuracy is
            NaN when the loss has none (mean squared error).

        Raises:
            ValueError: The model is closed.
            RnnError: Not compiled (RNN_ERR_STATE), data that does not fit the
                model (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE, named in the
                message), or a loss or gradient that is not finite
                (RNN_ERR_NUMERIC).
        """
        return self._step(lib.rnn_model_train_step, x, y, lengths)

    def test_step(self, x: Inputs, y: ArrayIn,
                  lengths: Inputs | None = None) -> tuple[float, float]:
        """Loss and accuracy on a batch, without updating (also ``test_on_batch``).

        Args:
            x: The inputs, as for :meth:`forward`.
            y: The targets, as for :meth:`train_step`.
            lengths: As for :meth:`forward`. Defaults to None.

        Returns:
            (loss, accuracy); the accuracy is NaN when the loss has none (mean
            squared error).

        Raises:
            ValueError: The model is closed.
            RnnError: Not compiled (RNN_ERR_STATE), data that does not fit the
                model (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE, named in the
                message), or a loss or gradient that is not finite
                (RNN_ERR_NUMERIC).
        """
        return self._step(lib.rnn_model_test_step, x, y, lengths)

    train_on_batch = train_step
    test_on_batch = test_step

    def fit(self, x: ArrayIn | BatchFn, y: ArrayIn | None = None, lengths: ArrayIn | None = None,
            batch_size: int = 32, epochs: int = 1,
            validation_data: Sequence[Any] | BatchFn | None = None,
            callbacks: Sequence[CallbackLike] | None = None,
            checkpoint_path: str | os.PathLike[str] | None = None, monitor: str | None = None,
            lr_schedule: str | None = None, verbose: int | str = 0, *, shuffle: bool = True,
            seed: int = 0, bucket_batches: int = 0, validation_split: float = 0.0,
            reset_states: bool = False, early_stopping: bool = False, patience: int = 0,
            min_delta: float = 0.0, restore_best_weights: bool = False,
            decay_rate: float = 0.96, decay_steps: int = 0, staircase: bool = False,
            plateau_factor: float = 0.1, plateau_patience: int = 10,
            plateau_min_delta: float = 1e-4, plateau_cooldown: int = 0,
            min_lr: float = 0.0) -> History:
        """Trains the compiled model, as Keras ``fit`` (``rnn_model_fit``).

        Over in-memory arrays (x (S, ...), y (S, ...), lengths (S)), or over a
        batch function ``x(epoch, batch)`` returning (x, y[, lengths]) or None
        at the end of an epoch. The keyword-only options are
        ``rnn_fit_options``' fields, with its defaults.

        An exception raised in a callback or batch function stops training and
        is raised again once the C call has returned.

        Args:
            x: The inputs of the single-input model (S, ...), or a batch function.
            y: The targets (S, ...); None with a batch function. Defaults to None.
            lengths: int32 (S) lengths of right-padded sequences. Defaults to None.
            batch_size: Samples per batch of in-memory data. Defaults to 32.
            epochs: Epochs to run. Defaults to 1.
            validation_data: (x, y[, lengths]) or a batch function, evaluated
                after each epoch; wins over ``validation_split``. Defaults to None.
            callbacks: :class:`Callback` objects, or functions ``f(epoch, logs)``
                called after each epoch. Defaults to None.
            checkpoint_path: A file where the model is saved (atomically) each
                time the monitored quantity improves. Defaults to None.
            monitor: What early stopping, checkpoints and plateau watch:
                'val_loss', 'val_accuracy', 'loss' or 'accuracy'; None:
                'val_loss'. Defaults to None.
            lr_schedule: None or 'constant', 'exponential', 'step' or 'plateau'.
                Defaults to None.
            verbose: As Keras: 0 silent, 1 a progress bar (updated per batch on
                a terminal), 2 one line per epoch, 'auto' 1 on a terminal and 2
                elsewhere; written to Python's ``sys.stdout`` of the moment from
                the library's progress reports (the C library never prints).
                Defaults to 0.
            shuffle: A new seeded permutation of the samples each epoch.
                Defaults to True.
            seed: Seed of the shuffling. Defaults to 0.
            bucket_batches: 0 off; k > 0 sorts each run of k batches by length
                and cuts each batch to its longest sequence. Defaults to 0.
            validation_split: Fraction of the in-memory samples held out for
                validation, taken from the end, in [0, 1). Defaults to 0.0.
            reset_states: Reset stateful layers before each epoch. Defaults to
                False.
            early_stopping: Stop after ``patience`` epochs without improvement.
                Defaults to False.
            patience: Epochs without improvement tolerated. Defaults to 0.
            min_delta: An improvement must exceed this. Defaults to 0.0.
            restore_best_weights: End with the weights of the best epoch.
                Defaults to False.
            decay_rate: Exponential and step decay factor. Defaults to 0.96.
            decay_steps: Steps (exponential) or epochs (step) per decay; 0: 1000
                or 10. Defaults to 0.
            staircase: Exponential: decay in whole steps of decay_steps.
                Defaults to False.
            plateau_factor: 'plateau': the factor of each reduction. Defaults
                to 0.1.
            plateau_patience: 'plateau': epochs without improvement before a
                reduction. Defaults to 10.
            plateau_min_delta: 'plateau': an improvement must exceed this.
                Defaults to 1e-4.
            plateau_cooldown: 'plateau': epochs to wait after a reduction.
                Defaults to 0.
            min_lr: Floor of the plateau reductions. Defaults to 0.0.

        Returns:
            A :class:`History`. Metrics the loss does not define are left out
            of it and of the callbacks' logs (mean squared error: no accuracy,
            no perplexity).

        Raises:
            TypeError: A callback that is neither a Callback nor callable.
            ValueError: The model is closed, or ``verbose``, ``monitor``,
                ``lr_schedule`` or ``validation_data`` is not one of its forms.
            RnnError: Not compiled (RNN_ERR_STATE), bad options
                (RNN_ERR_INVALID_ARG), data that does not fit the model
                (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE), a loss that is
                not finite (RNN_ERR_NUMERIC), or a checkpoint that cannot be
                written (RNN_ERR_IO); the message names the epoch and batch.
            Exception: What a callback or batch function raised.
        """
        errors: list[BaseException] = []
        train = _Data(x, y, lengths, errors)
        val = None
        fo = _lib.init_struct(_lib.rnn_fit_options)
        fo.batch_size, fo.epochs = int(batch_size), int(epochs)
        if validation_data is not None:
            val = _Data(*_data_args(validation_data), errors=errors)
            fo.validation_data = ctypes.pointer(val.struct)
        path = None
        if checkpoint_path is not None:
            path = os.fsencode(checkpoint_path)
            fo.checkpoint_path = path
        if monitor is not None:
            fo.monitor = _lib.enum(_lib.MONITORS, monitor, "monitor")
        if lr_schedule is not None:
            fo.lr_schedule = _lib.enum(_lib.LR_SCHEDULES, lr_schedule, "lr_schedule")
        options = {"shuffle": shuffle, "seed": seed, "bucket_batches": bucket_batches,
                   "validation_split": validation_split, "reset_states": reset_states,
                   "early_stopping": early_stopping, "patience": patience,
                   "min_delta": min_delta, "restore_best_weights": restore_best_weights,
                   "decay_rate": decay_rate, "decay_steps": decay_steps, "staircase": staircase,
                   "plateau_factor": plateau_factor, "plateau_patience": plateau_patience,
                   "plateau_min_delta": plateau_min_delta,
                   "plateau_cooldown": plateau_cooldown, "min_lr": min_lr}
        _set_fields(fo, options, "fit")
        printer = _ProgressPrinter(_verbosity(verbose))

        cbs = []
        for cb in callbacks or []:
            if not isinstance(cb, Callback):
                if not callable(cb):
                    raise TypeError("callbacks must be Callback objects or functions")
                cb = LambdaCallback(on_epoch_end=cb)
            cb.model = self
            cbs.append(cb)
        history = History()
        self.stop_training = False

        def on_epoch(user, plog):
            try:
                log = plog.contents
                logs = _struct_dict(log)
                logs["improved"] = bool(logs["improved"])
                history._add(logs)
                logs = _defined(logs)
                stop = False
                for cb in cbs:
                    stop = bool(cb.on_epoch_end(logs["epoch"], dict(logs))) or stop
                return 1 if stop or self.stop_training else 0
            except BaseException as e:  # never unwind through C
                errors.append(e)
                return 1

        def on_batch(user, plog):
            try:
                logs = _defined(_struct_dict(plog.contents))
                stop = False
                for cb in cbs:
                    if _wants_batches(cb):
                        stop = bool(cb.on_batch_end(logs["batch"], dict(logs))) or stop
                return 1 if stop or self.stop_training else 0
            except BaseException as e:
                errors.append(e)
                return 1

        def on_progress(user, pp):
            try:
                printer(pp.contents)
                return 0
            except BaseException as e:  # e.g. KeyboardInterrupt: stop, raise it after
                errors.append(e)
                return 1

        progress_cb = None
        if printer.verbose:
            progress_cb = _lib.rnn_progress_callback(on_progress)
            fo.on_progress = progress_cb
        epoch_cb = _lib.rnn_epoch_callback(on_epoch)
        fo.on_epoch = epoch_cb
        batch_cb = None
        if any(_wants_batches(cb) for cb in cbs):
            batch_cb = _lib.rnn_batch_callback(on_batch)
            fo.on_batch = batch_cb
        result = _lib.rnn_fit_result()
        result.struct_size = ctypes.sizeof(result)
        try:  # train, val, path and the callbacks stay referenced across the call
            lib.rnn_model_fit(self.handle, ctypes.byref(train.struct), ctypes.byref(fo),
                              ctypes.byref(result))
        except RnnError as e:
            if errors:
                raise errors[0] from e
            raise
        if errors:
            raise errors[0]
        history.epochs_run = result.epochs_run
        history.best_epoch = result.best_epoch
        history.best_value = result.best_value
        history.stop = _lib.FIT_STOPS.get(result.stop, result.stop)
        history.last = _defined(_struct_dict(result.last)) if result.epochs_run else None
        if history.last is not None:
            history.last["improved"] = bool(history.last["improved"])
        history._drop_undefined()
        return history

    def evaluate(self, x: ArrayIn | BatchFn, y: ArrayIn | None = None,
                 lengths: ArrayIn | None = None, batch_size: int = 32) -> dict[str, float | int]:
        """Loss and metrics over a whole data set, as Keras ``evaluate``.

        Args:
            x: The inputs (S, ...), or a batch function as for :meth:`fit`.
            y: The targets (S, ...); None with a batch function. Defaults to None.
            lengths: int32 (S) lengths of right-padded sequences. Defaults to None.
            batch_size: Samples per batch. Defaults to 32.

        Returns:
            {'loss', 'accuracy', 'perplexity', 'samples'}, without the metrics
            the loss does not define (mean squared error: no accuracy and no
            perplexity; perplexity is the cross-entropy losses').

        Raises:
            ValueError: The model is closed.
            RnnError: Not compiled (RNN_ERR_STATE), data that does not fit
                (RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE), or a batch
                function that gave no batch (RNN_ERR_INVALID_ARG).
            Exception: What the batch function raised.
        """
        errors: list[BaseException] = []
        data = _Data(x, y, lengths, errors)
        r = _lib.rnn_eval_result()
        r.struct_size = ctypes.sizeof(r)
        try:
            lib.rnn_model_evaluate(self.handle, ctypes.byref(data.struct), int(batch_size),
                                   ctypes.byref(r))
        except RnnError as e:
            if errors:
                raise errors[0] from e
            raise
        return _defined(_struct_dict(r))

    def predict(self, x: ArrayIn | BatchFn, lengths: ArrayIn | None = None,
                batch_size: int = 32) -> np.ndarray:
        """Output 0 for every sample, as Keras ``predict`` (``rnn_model_predict``).

        Args:
            x: The inputs (S, ...), or a batch function as for :meth:`fit`
                (its targets are ignored).
            lengths: int32 (S) lengths of right-padded sequences. Defaults to None.
            batch_size: Samples per batch. Defaults to 32.

        Returns:
            A numpy array (S, ...) over the library's result (no copy).

        Raises:
            ValueError: The model is closed.
            RnnError: Data that does not fit (RNN_ERR_SHAPE, RNN_ERR_DTYPE,
                RNN_ERR_RANGE), or a batch function that gave no batch
                (RNN_ERR_INVALID_ARG).
            Exception: What the batch function raised.
        """
        errors: list[BaseException] = []
        data = _Data(x, None, lengths, errors)
        out = TensorP()
        try:
            lib.rnn_model_predict(self.handle, ctypes.byref(data.struct), int(batch_size),
                                  ctypes.byref(out))
        except RnnError as e:
            if errors:
                raise errors[0] from e
            raise
        return Tensor(out).numpy(copy=False)

    # -------------------------------------------------------------- saving
    def save(self, path: str | os.PathLike[str], include_optimizer: bool = False) -> None:
        """Writes the model to a file, atomically (``rnn_model_save``).

        The file is safetensors with the architecture and metadata in its
        header; :meth:`load` reads it.

        Args:
            path: The file to write (replaced if it exists).
            include_optimizer: Also save the compile configuration and the
                optimizer's state, so that training resumes where it stopped.
                Defaults to False.

        Raises:
            ValueError: The model is closed.
            RnnError: The file cannot be written (RNN_ERR_IO), or
                ``include_optimizer`` on a model that is not compiled
                (RNN_ERR_STATE).
        """
        if include_optimizer:
            lib.rnn_model_save_ex(self.handle, os.fsencode(path), _lib.SAVE_OPTIMIZER)
        else:
            lib.rnn_model_save(self.handle, os.fsencode(path))

    # -------------------------------------------------------------- metadata
    @staticmethod
    def _meta_bytes(s, what):
        if not isinstance(s, str):
            raise TypeError("%s must be a str (got %s)" % (what, type(s).__name__))
        if "\0" in s:
            raise ValueError("%s must not contain NUL characters" % what)
        return s.encode("utf-8")  # lone surrogates raise UnicodeEncodeError

    def set_metadata(self, key: str, value: str | None) -> None:
        """Sets a metadata string, saved in the model file (``rnn_model_set_metadata``).

        :meth:`save` writes it and :meth:`load` restores it; other safetensors
        readers see it in ``__metadata__``. Keys have 1 to 255 UTF-8 bytes,
        values at most 16 MiB (and 16 MiB in all, at most 1024 keys); "format",
        "format_version", "librnn_version", "architecture", "checksum" and keys
        starting with "librnn." are reserved.

        Args:
            key: The key.
            value: The value; None removes the key.

        Raises:
            TypeError: ``key`` or ``value`` is not a str.
            ValueError: The model is closed, or a NUL character.
            UnicodeEncodeError: A lone surrogate.
            RnnError: A key or value outside the limits above, or a reserved key
                (RNN_ERR_INVALID_ARG); the metadata is then unchanged.
        """
        lib.rnn_model_set_metadata(self.handle, self._meta_bytes(key, "key"),
                                   None if value is None else self._meta_bytes(value, "value"))

    def get_metadata(self, key: str, default: str | None = None) -> str | None:
        """One metadata value (``rnn_model_get_metadata``).

        Args:
            key: The key.
            default: What to return when the model has no such key. Defaults
                to None.

        Returns:
            The value, or ``default``.

        Raises:
            TypeError: ``key`` is not a str.
            ValueError: The model is closed, or a NUL character in ``key``.
        """
        out = ctypes.c_char_p()
        lib.rnn_model_get_metadata(self.handle, self._meta_bytes(key, "key"),
                                   ctypes.byref(out))
        return default if out.value is None else out.value.decode("utf-8")

    @property
    def metadata(self) -> dict[str, str]:
        """A copy of the model's metadata, keys in sorted (byte) order.

        Change it with :meth:`set_metadata`.

        Raises:
            ValueError: The model is closed.
        """
        n = ctypes.c_int()
        lib.rnn_model_metadata_count(self.handle, ctypes.byref(n))
        out: dict[str, str] = {}
        for i in range(n.value):
            k = ctypes.c_char_p()
            lib.rnn_model_metadata_key(self.handle, i, ctypes.byref(k))
            key = cast(bytes, k.value).decode("utf-8")
            out[key] = cast(str, self.get_metadata(key))
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str], seed: int = 0,
             backend: str | int = "onednn") -> Model:
        """Reads a model saved by :meth:`save` (``rnn_model_load``).

        Args:
            path: The file.
            seed: Seed of the dropout masks of further training. Defaults to 0.
            backend: 'onednn' or 'reference'. Defaults to "onednn".

        Returns:
            The model, compiled (with its optimizer's state) if it was saved
            with ``include_optimizer``.

        Raises:
            ValueError: ``backend`` is unknown.
            RnnError: The file cannot be read (RNN_ERR_IO), or is not a librnn
                model file or is damaged (RNN_ERR_FORMAT, the message says
                where).
        """
        o = _lib.init_struct(_lib.rnn_model_options)
        o.seed = int(seed)
        o.backend = _lib.enum(_lib.BACKENDS, backend, "backend")
        h = ModelP()
        lib.rnn_model_load(os.fsencode(path), ctypes.byref(o), ctypes.byref(h))
        return cls(_handle=h)

    def save_onnx(self, path: str | os.PathLike[str]) -> None:
        """Writes the model as ONNX, opset 14 (``rnn_model_save_onnx`` of
        librnn-onnx, the ``-Donnx`` part), for ONNX Runtime and other tools.

        Args:
            path: The .onnx file, written atomically.

        Raises:
            ImportError: librnn-onnx is not installed.
            RnnError: A layer or option ONNX cannot express exactly
                (RNN_ERR_UNSUPPORTED, the message names the layer), or the file
                cannot be written (RNN_ERR_IO).
        """
        from .onnx import save_onnx
        save_onnx(self, path)

    # -------------------------------------------------------------- decoding
    def _token_input(self, token_input):
        return self.num_inputs - 1 if token_input is None or token_input < 0 else token_input

    def decode(self, inputs: Inputs | None = None, lengths: Inputs | None = None,
               batch_size: int | None = None, *, strategy: str | int = "greedy",
               token_input: int = -1, output: int = 0, from_logits: bool | None = None,
               start_token: int = 1, end_token: int | None = 2, max_length: int = 50,
               temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
               beam_width: int = 4, length_penalty: float = 0.0,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Generates sequences token by token (``rnn_model_decode``).

        The keyword-only options are ``rnn_decode_options``' fields, with its
        defaults.

        Args:
            inputs: One entry per model input: None for the token input (start
                from ``start_token``) or an int32 (N, P) prompt; the other
                inputs' arrays. A single-input model takes the prompt or None.
                Defaults to None.
            lengths: As for :meth:`forward`. Defaults to None.
            batch_size: N when no input gives it; None: from the inputs, else 1.
                Defaults to None.
            strategy: 'greedy', 'sample' or 'beam'. Defaults to "greedy".
            token_input: Index of the token input; -1: the last input.
                Defaults to -1.
            output: The model output holding the next-token distribution.
                Defaults to 0.
            from_logits: That output holds logits (True) or probabilities
                (False); None: as compiled, else False. Defaults to None.
            start_token: Fed first when no prompt is given. Defaults to 1.
            end_token: Ends a sequence (not part of the result); None: no end
                token, every sequence runs ``max_length``. Defaults to 2.
            max_length: Tokens generated at most per sequence. Defaults to 50.
            temperature: 'sample': divides the log-probabilities (> 0).
                Defaults to 1.0.
            top_k: 'sample': keep the k most probable tokens (0: all).
                Defaults to 0.
            top_p: 'sample': keep the smallest set of most probable tokens whose
                probability reaches top_p (1.0: all). Defaults to 1.0.
            beam_width: 'beam': hypotheses kept per sequence. Defaults to 4.
            length_penalty: 'beam': GNMT's length penalty (0: rank by log
                probability). Defaults to 0.0.
            seed: 'sample': seed of the sampler. Defaults to 0.

        Returns:
            (tokens (N, max_length) int32, lengths (N) int32, scores (N)
            float32); :func:`librnn.sequences` cuts the rows to their lengths.

        Raises:
            ValueError: The model is closed, ``strategy`` is unknown, or a list
                of the wrong length for a model with several inputs.
            RnnError: Bad options (RNN_ERR_INVALID_ARG, the message names the
                field), a token input that is not an int32 sequence
                (RNN_ERR_DTYPE, RNN_ERR_RANGE), a layer that cannot run step by
                step (RNN_ERR_UNSUPPORTED), or a distribution that is not finite
                (RNN_ERR_NUMERIC).
        """
        o = _lib.init_struct(_lib.rnn_decode_options)
        options = {"strategy": strategy, "token_input": token_input, "output": output,
                   "from_logits": -1 if from_logits is None else int(from_logits),
                   "start_token": start_token,
                   "end_token": -1 if end_token is None else end_token,  # None: "none"
                   "max_length": max_length, "temperature": temperature, "top_k": top_k,
                   "top_p": top_p, "beam_width": beam_width, "length_penalty": length_penalty,
                   "seed": seed}
        conv = {"strategy": lambda v: _lib.enum(_lib.DECODE_STRATEGIES, v, "strategy")}
        _set_fields(o, options, "decode", conv)
        xs = [None] * self.num_inputs if inputs is None else self._input_list(inputs)
        ts = [as_tensor(v, np.int32 if i == self._token_input(o.token_input) else None)
              for i, v in enumerate(xs)]
        ls = None
        if lengths is not None:
            ls = [as_tensor(v, np.int32) for v in self._input_list(lengths, "lengths")]
        n = batch_size
        if n is None:
            n = next((t.shape[0] for t in ts if t is not None), 1)
        assert n is not None
        tokens = np.zeros((n, o.max_length), np.int32)
        out_len = np.zeros(n, np.int32)
        scores = np.zeros(n, np.float32)
        keep = [Tensor.wrap(tokens), Tensor.wrap(out_len), Tensor.wrap(scores)]
        lib.rnn_model_decode(self.handle, ctypes.byref(o), len(ts), tensor_array(ts),
                             tensor_array(ls) if ls is not None else None,
                             keep[0].handle, keep[1].handle, keep[2].handle)
        return tokens, out_len, scores

    def step_begin(self, inputs: Inputs, token_input: int = -1,
                   lengths: Inputs | None = None) -> np.ndarray | list[np.ndarray]:
        """Starts step-wise inference (``rnn_model_step_begin``); end it with :meth:`step_end`.

        Args:
            inputs: The model's inputs, as for :meth:`forward`;
                ``inputs[token_input]`` is the (N, P) int32 prefix.
            token_input: Index of the token input; -1: the last input.
                Defaults to -1.
            lengths: As for :meth:`forward`. Defaults to None.

        Returns:
            The outputs after the prefix, as :meth:`forward` returns them.

        Raises:
            ValueError: The model is closed.
            RnnError: ``token_input`` is not an input (RNN_ERR_RANGE) or not an
                int32 sequence (RNN_ERR_DTYPE), a layer cannot run step by step
                (RNN_ERR_UNSUPPORTED), or errors as :meth:`forward`.
        """
        ti = self._token_input(token_input)
        xs = self._input_list(inputs)
        ts = [as_tensor(v, np.int32 if i == ti else None) for i, v in enumerate(xs)]
        ls = None
        if lengths is not None:
            ls = [as_tensor(v, np.int32) for v in self._input_list(lengths, "lengths")]
        self._step_keep = (ts, ls)  # must stay valid until step_end
        lib.rnn_model_step_begin(self.handle, ti, len(ts), tensor_array(ts),
                                 tensor_array(ls) if ls is not None else None)
        return self._outputs()

    def step(self, tokens: npt.ArrayLike) -> np.ndarray | list[np.ndarray]:
        """Runs the model on the next tokens, from the carried states (``rnn_model_step``).

        Args:
            tokens: (N,) or (N, S) int32 token ids.

        Returns:
            The outputs for these steps, as :meth:`forward` returns them.

        Raises:
            ValueError: The model is closed.
            RnnError: No :meth:`step_begin` before (RNN_ERR_STATE), or another
                batch size (RNN_ERR_SHAPE).
        """
        t = np.asarray(tokens)
        if t.ndim == 1:
            t = t[:, None]
        tt = as_tensor(t, np.int32)
        lib.rnn_model_step(self.handle, tt.handle)
        return self._outputs()

    def step_select(self, rows: npt.ArrayLike) -> None:
        """Reorders the carried states: row n continues from row ``rows[n]`` (beam search).

        Args:
            rows: (N) int32 row indices.

        Raises:
            ValueError: The model is closed.
            RnnError: No :meth:`step_begin` before (RNN_ERR_STATE), or a row
                outside [0, N) (RNN_ERR_RANGE).
        """
        r = np.require(np.asarray(rows), np.int32, ["C", "A"])
        lib.rnn_model_step_select(self.handle, r.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                  r.size)

    def step_end(self) -> None:
        """Ends step-wise inference, releasing its states (``rnn_model_step_end``).

        Raises:
            ValueError: The model is closed.
        """
        lib.rnn_model_step_end(self.handle)
        self._step_keep = ()

    def stepping(self, inputs: Inputs, token_input: int = -1,
                 lengths: Inputs | None = None) -> _Stepping:
        """A context manager over :meth:`step_begin` and :meth:`step_end`.

        ``with model.stepping(prefix) as out:`` runs step_begin and gives its
        outputs; leaving the block runs step_end.

        Args:
            inputs: As for :meth:`step_begin`.
            token_input: As for :meth:`step_begin`. Defaults to -1.
            lengths: As for :meth:`step_begin`. Defaults to None.

        Returns:
            The context manager (step_begin runs when it is entered).
        """
        return _Stepping(self, inputs, token_input, lengths)

    def scheduled_sampling(self, inputs: Inputs, probability: float, token_input: int = -1,
                           output: int = 0, seed: int = 0,
                           lengths: Inputs | None = None) -> np.ndarray:
        """Scheduled sampling (``rnn_model_scheduled_sampling``), for training decoders.

        Each token of the token input after the first is replaced, with
        ``probability``, by the model's most probable token at that step.

        Args:
            inputs: The model's inputs, as for :meth:`forward`.
            probability: Chance of each replacement, in [0, 1].
            token_input: Index of the token input; -1: the last input.
                Defaults to -1.
            output: The model output holding the next-token distribution.
                Defaults to 0.
            seed: Seed of the draws. Defaults to 0.
            lengths: As for :meth:`forward`. Defaults to None.

        Returns:
            The mixed int32 tokens, shaped as the token input.

        Raises:
            ValueError: The model is closed.
            RnnError: Bad arguments (RNN_ERR_INVALID_ARG, RNN_ERR_RANGE), or
                errors as :meth:`forward`.
        """
        ti = self._token_input(token_input)
        xs = self._input_list(inputs)
        ts = [as_tensor(v, np.int32 if i == ti else None) for i, v in enumerate(xs)]
        ls = None
        if lengths is not None:
            ls = [as_tensor(v, np.int32) for v in self._input_list(lengths, "lengths")]
        mixed = np.zeros(ts[ti].shape, np.int32)
        tm = Tensor.wrap(mixed)
        self._keep = (ts, ls)
        lib.rnn_model_scheduled_sampling(self.handle, ti, int(output), float(probability),
                                         int(seed), len(ts), tensor_array(ts),
                                         tensor_array(ls) if ls is not None else None,
                                         tm.handle)
        return mixed


class _Stepping:
    def __init__(self, model, inputs, token_input, lengths):
        self.model, self.args = model, (inputs, token_input, lengths)

    def __enter__(self) -> np.ndarray | list[np.ndarray]:
        return self.model.step_begin(*self.args)

    def __exit__(self, *exc: object) -> None:
        self.model.step_end()


def load(path: str | os.PathLike[str], seed: int = 0, backend: str | int = "onednn") -> Model:
    """Reads a model file written by :meth:`Model.save` (same as :meth:`Model.load`).

    Args:
        path: The file.
        seed: Seed of the dropout masks of further training. Defaults to 0.
        backend: 'onednn' or 'reference'. Defaults to "onednn".

    Returns:
        The model, compiled if it was saved with its optimizer.

    Raises:
        ValueError: ``backend`` is unknown.
        RnnError: The file cannot be read (RNN_ERR_IO), or is not a librnn
            model file or is damaged (RNN_ERR_FORMAT).
    """
    return Model.load(path, seed=seed, backend=backend)
