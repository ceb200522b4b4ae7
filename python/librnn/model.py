# SPDX-License-Identifier: Apache-2.0
"""Models and layers: building (sequential and functional), running forward and
backward, training (compile, train_step, fit, evaluate, predict), weights,
saving and loading, and decoding."""
import ctypes
import json
import math
import os
import sys
import weakref

import numpy as np

from . import _lib, optimizers
from ._lib import LayerP, ModelP, OptimizerP, RnnError, TensorP, lib
from .tensor import Tensor, as_tensor, tensor_array


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


class Layer:
    """A layer of a :class:`Model` (``rnn_layer``), borrowed from it: the Layer
    keeps its model alive, and is unusable once the model is closed. Layers of
    one model compare equal when they are the same C layer."""

    __slots__ = ("_model", "_h", "__weakref__")

    def __init__(self, model, handle):
        self._model = model
        self._h = handle

    @property
    def handle(self):
        self._model.handle  # raises once the model is closed
        return self._h

    @property
    def model(self):
        return self._model

    def __eq__(self, other):
        return isinstance(other, Layer) and _lib.address(self._h) == _lib.address(other._h)

    def __hash__(self):
        return _lib.address(self._h)

    def __repr__(self):
        try:
            return "<librnn.Layer %s>" % self.name
        except ValueError:
            return "<librnn.Layer of a closed model>"

    # -------------------------------------------------------------- identity
    @property
    def name(self):
        p = ctypes.c_char_p()
        lib.rnn_layer_name(self.handle, ctypes.byref(p))
        return p.value.decode()

    @property
    def type(self):
        """Keras' class name of the layer: "LSTM", "Dense", "InputLayer", ..."""
        p = ctypes.c_char_p()
        lib.rnn_layer_type(self.handle, ctypes.byref(p))
        return p.value.decode()

    @property
    def config(self):
        """The layer's configuration, as Keras' ``get_config()`` and model files
        have it: ``{"kind", "class_name", "name", "trainable", "config": {...}}``."""
        need = ctypes.c_size_t()
        lib.rnn_layer_config(self.handle, None, 0, ctypes.byref(need))
        buf = ctypes.create_string_buffer(need.value)
        lib.rnn_layer_config(self.handle, buf, need.value, None)
        return json.loads(buf.value.decode())

    def count_params(self):
        v = ctypes.c_int64()
        lib.rnn_layer_count_params(self.handle, ctypes.byref(v))
        return v.value

    @property
    def trainable(self):
        v = ctypes.c_int()
        lib.rnn_layer_trainable(self.handle, ctypes.byref(v))
        return bool(v.value)

    @trainable.setter
    def trainable(self, value):
        lib.rnn_layer_set_trainable(self.handle, int(bool(value)))

    def set_trainable(self, value):
        self.trainable = value

    # -------------------------------------------------------------- parameters
    @property
    def num_params(self):
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
    def param_names(self):
        return [self._param(i)[1] for i in range(self.num_params)]

    def get_param(self, key):
        """Parameter ``key`` (name such as "kernel", or index) as a numpy copy, Keras layout."""
        return Tensor._borrowed(self._param(key)[2], self._model).numpy()

    def grad(self, key):
        """Gradient of parameter ``key`` (accumulated since the last zero_grad), a copy."""
        return Tensor._borrowed(self._param(key)[3], self._model).numpy()

    def set_param(self, key, value):
        """Copies ``value`` (same shape) into parameter ``key``."""
        idx = self._param(key)[0]
        t = as_tensor(value, np.float32)  # held: a temporary's finalizer frees the handle
        lib.rnn_layer_set_param(self.handle, idx, t.handle)

    @property
    def params(self):
        """Every parameter, name -> numpy copy (Keras layout)."""
        return {self._param(i)[1]: self.get_param(i) for i in range(self.num_params)}

    @property
    def gradients(self):
        """Every parameter gradient, name -> numpy copy (Keras layout)."""
        return {self._param(i)[1]: self.grad(i) for i in range(self.num_params)}

    def params_changed(self):
        """Tells the layer its parameter buffers were written directly."""
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

    def weights_info(self, format="keras"):
        """[(name, shape)] of the arrays get_weights/set_weights use in ``format``
        ('keras' or 'pytorch'; PyTorch's only for recurrent layers)."""
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
            out.append((name.value.decode(), tuple(dims[k] for k in range(rank.value))))
        return out

    def get_weights(self, format="keras"):
        """The weights as a list of numpy arrays: Keras ``layer.get_weights()`` order,
        or (``format='pytorch'``, recurrent layers) PyTorch's state_dict order for
        one layer index."""
        fmt = self._recurrent_format(format)
        if fmt is None:
            return [self.get_param(i) for i in range(self.num_params)]
        arrays = [np.zeros(shape, np.float32) for _, shape in self.weights_info(format)]
        tensors = [Tensor.wrap(a) for a in arrays]
        lib.rnn_layer_get_weights(self.handle, fmt, len(tensors), tensor_array(tensors))
        return arrays

    def set_weights(self, weights, format="keras"):
        """Replaces the weights with arrays in ``format`` (a list in get_weights' order,
        or a dict by the names weights_info gives). Nothing changes unless all fit."""
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
    def num_outputs(self):
        v = ctypes.c_int()
        lib.rnn_layer_num_outputs(self.handle, ctypes.byref(v))
        return v.value

    def output(self, index=0):
        """Output ``index`` of the last forward (a copy)."""
        t = TensorP()
        lib.rnn_layer_output(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self._model).numpy()

    @property
    def num_states(self):
        v = ctypes.c_int()
        lib.rnn_layer_num_states(self.handle, ctypes.byref(v))
        return v.value

    def set_initial_state(self, states):
        """Initial states (Keras ``initial_state=``): arrays (N, units) in the order
        h, c per direction; copied. None or [] clears them."""
        tensors = [as_tensor(s, np.float32) for s in (states or [])]
        lib.rnn_layer_set_initial_state(self.handle, len(tensors), tensor_array(tensors))

    def connect_initial_state(self, sources):
        """Starts this recurrent layer from other layers' outputs at every forward:
        ``sources`` lists Layer or (Layer, output index), one per state."""
        ops = [_operand(s) for s in sources]
        outs = (ctypes.c_int * max(1, len(ops)))(*[i for _, i in ops])
        lib.rnn_layer_connect_initial_state(self.handle, len(ops),
                                            _layer_array([l for l, _ in ops]), outs)

    def initial_state_grad(self, index):
        """Gradient with respect to initial state ``index`` after a backward (a copy)."""
        t = TensorP()
        lib.rnn_layer_initial_state_grad(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self._model).numpy()

    def reset_states(self):
        lib.rnn_layer_reset_states(self.handle)


class Callback:
    """Base class of fit callbacks (Keras-like). Return True from a method, or set
    ``model.stop_training = True``, to stop training. ``logs`` is a dict of the
    C log's fields."""

    model = None

    def on_batch_end(self, batch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions ``on_epoch_end(epoch, logs)`` and
    ``on_batch_end(batch, logs)``."""

    def __init__(self, on_epoch_end=None, on_batch_end=None):
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end
        if on_batch_end is not None:
            self.on_batch_end = on_batch_end


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
    """What fit returns: ``history`` (metric -> list per epoch, Keras' names),
    ``epoch`` (indices), ``epochs_run``, ``best_epoch``, ``best_value``, ``stop``
    ('completed', 'early_stopped' or 'callback') and ``last`` (the last epoch's log)."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.epochs_run = 0
        self.best_epoch = -1
        self.best_value = math.nan
        self.stop = None
        self.last = None

    def _add(self, logs):
        self.epoch.append(logs["epoch"])
        for k, v in logs.items():
            if k != "epoch":
                self.history.setdefault(k, []).append(v)

    def __repr__(self):
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


def _data_args(data):
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
    """

    def __init__(self, seed=0, backend="onednn", _handle=None):
        if _handle is None:
            o = _lib.init_struct(_lib.rnn_model_options)
            o.seed = int(seed)
            o.backend = _lib.enum(_lib.BACKENDS, backend, "backend")
            _handle = ModelP()
            lib.rnn_model_create(ctypes.byref(o), ctypes.byref(_handle))
        self._h = _handle
        self._fin = weakref.finalize(self, _destroy_model, _handle)
        self._layers = weakref.WeakValueDictionary()
        self._optimizers = weakref.WeakSet()
        self._keep = ()        # inputs of the last run: the model reads them in backward
        self._step_keep = ()   # inputs of step-wise decoding, until step_end
        self._compile_gen = 0
        self.stop_training = False

    # -------------------------------------------------------------- lifetime
    @property
    def handle(self):
        if not self._fin.alive:
            raise ValueError("model is closed")
        return self._h

    def close(self):
        """Releases the model now (its optimizers first); idempotent."""
        for opt in list(self._optimizers):
            opt.close()
        self._fin()
        self._keep = self._step_keep = ()

    @property
    def closed(self):
        return not self._fin.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
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
    def input(self, shape, dtype="float32"):
        """Declares an input (Keras ``Input(shape=..., dtype=...)``), without the batch
        axis; None (or 0) is "any number of steps": (None,) int32 token ids,
        (None, F) float32 sequences, (F,) float32 vectors."""
        shape = tuple(0 if s is None else int(s) for s in shape)
        code = _lib.F32 if np.dtype(dtype) == np.float32 else _lib.I32
        if np.dtype(dtype) not in (np.float32, np.int32):
            raise TypeError("inputs are float32 or int32 (got %s)" % dtype)
        dims = (ctypes.c_int64 * max(1, len(shape)))(*shape)
        return self._add(lib.rnn_model_add_input, code, len(shape), dims)

    def recurrent(self, cell, units, on=None, **options):
        """A recurrent layer: cell 'simple_rnn', 'lstm' or 'gru'; options as Keras'
        (activation, use_bias, return_sequences, return_state, go_backwards, stateful,
        reset_after, unit_forget_bias, dropout, recurrent_dropout, kernel_initializer,
        recurrent_initializer, bias_initializer) plus bidirectional and merge_mode."""
        o = _lib.init_struct(_lib.rnn_recurrent_options,
                             _lib.enum(_lib.CELLS, cell, "cell"))
        o.units = int(units)
        conv = {"activation": lambda v: _lib.enum(_lib.ACTIVATIONS, v, "activation"),
                "merge_mode": lambda v: _lib.enum(_lib.MERGE_MODES, v, "merge_mode")}
        for k in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            conv[k] = lambda v, k=k: _lib.enum(_lib.INITIALIZERS, v, k)
        _set_fields(o, options, "recurrent", conv)
        return self._add(lib.rnn_model_add_recurrent, ctypes.byref(o), on=on)

    def simple_rnn(self, units, on=None, **options):
        return self.recurrent("simple_rnn", units, on=on, **options)

    def lstm(self, units, on=None, **options):
        return self.recurrent("lstm", units, on=on, **options)

    def gru(self, units, on=None, **options):
        return self.recurrent("gru", units, on=on, **options)

    def dense(self, units, activation=None, use_bias=True, kernel_initializer=None,
              bias_initializer=None, on=None):
        """Keras Dense (per time step on a sequence, as TimeDistributed(Dense))."""
        o = _lib.init_struct(_lib.rnn_dense_options)
        o.units = int(units)
        o.activation = _lib.enum(_lib.ACTIVATIONS, activation, "activation")
        o.use_bias = int(bool(use_bias))
        if kernel_initializer is not None:
            o.kernel_initializer = _lib.enum(_lib.INITIALIZERS, kernel_initializer, "initializer")
        if bias_initializer is not None:
            o.bias_initializer = _lib.enum(_lib.INITIALIZERS, bias_initializer, "initializer")
        return self._add(lib.rnn_model_add_dense, ctypes.byref(o), on=on)

    def embedding(self, input_dim, output_dim, mask_zero=False, trainable=True, weights=None,
                  on=None):
        """Keras Embedding; ``weights`` (input_dim, output_dim) loads pretrained vectors."""
        o = _lib.init_struct(_lib.rnn_embedding_options)
        o.input_dim, o.output_dim = int(input_dim), int(output_dim)
        o.mask_zero, o.trainable = int(bool(mask_zero)), int(bool(trainable))
        layer = self._add(lib.rnn_model_add_embedding, ctypes.byref(o), on=on)
        if weights is not None:
            layer.set_param("embeddings", weights)
        return layer

    def dropout(self, rate, on=None):
        return self._add(lib.rnn_model_add_dropout, float(rate), on=on)

    def spatial_dropout1d(self, rate, on=None):
        return self._add(lib.rnn_model_add_spatial_dropout1d, float(rate), on=on)

    def activation(self, activation, on=None):
        return self._add(lib.rnn_model_add_activation,
                         _lib.enum(_lib.ACTIVATIONS, activation, "activation"), on=on)

    def global_pooling(self, pooling="average", on=None):
        """Global average or max pooling over each sample's real steps."""
        return self._add(lib.rnn_model_add_global_pooling,
                         _lib.enum(_lib.POOLINGS, pooling, "pooling"), on=on)

    def global_average_pooling1d(self, on=None):
        return self.global_pooling("average", on=on)

    def global_max_pooling1d(self, on=None):
        return self.global_pooling("max", on=on)

    def flatten(self, on=None):
        return self._add(lib.rnn_model_add_flatten, on=on)

    def add_layer(self, kind, inputs=None, **config):
        """Appends a layer of any kind by its model-file name (``"dense"``,
        ``"layer_normalization"``, ... as :attr:`Layer.config` reports) with
        option names and values as keywords, e.g.
        ``m.add_layer("dense", units=8, activation="softmax")``. ``inputs``: a
        layer, ``(layer, output)`` or a list of them (default: the next
        producer)."""
        ops = [] if inputs is None else (
            inputs if isinstance(inputs, list) else [inputs])
        ops = [_operand(o) for o in ops]
        arr = (LayerP * max(1, len(ops)))(*[o[0].handle for o in ops])
        outs = (ctypes.c_int * max(1, len(ops)))(*[o[1] for o in ops])
        out = LayerP()
        lib.rnn_model_add_layer(self.handle, kind.encode(), json.dumps(config).encode(),
                                len(ops), arr, outs, ctypes.byref(out))
        return self._layer(out)

    def layer_normalization(self, epsilon=1e-3, center=True, scale=True, on=None):
        """Keras LayerNormalization over the last axis."""
        o = _lib.init_struct(_lib.rnn_layer_normalization_options)
        o.epsilon, o.center, o.scale = float(epsilon), int(bool(center)), int(bool(scale))
        return self._add(lib.rnn_model_add_layer_normalization, ctypes.byref(o), on=on)

    def repeat_vector(self, n, on=None):
        return self._add(lib.rnn_model_add_repeat_vector, int(n), on=on)

    def conv1d(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1,
               activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
               on=None):
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

    def max_pooling1d(self, pool_size=2, strides=None, padding="valid", on=None):
        return self._add(lib.rnn_model_add_max_pooling1d, int(pool_size), int(strides or 0),
                         _lib.enum(_lib.PADDINGS, padding, "padding"), on=on)

    def concatenate(self, *operands):
        """Keras Concatenate (last axis) of 2..9 operands, each a Layer or (Layer, output)."""
        if len(operands) == 1 and isinstance(operands[0], list):
            operands = operands[0]
        ops = [_operand(o) for o in operands]
        outs = (ctypes.c_int * max(1, len(ops)))(*[i for _, i in ops])
        return self._add(lib.rnn_model_add_concatenate, len(ops),
                         _layer_array([l for l, _ in ops]), outs)

    def attention(self, query, value, score="dot", units=0, scale=False,
                  kernel_initializer=None):
        """Attention of ``query`` steps over ``value`` steps (each a Layer or
        (Layer, output)). Output 0: contexts (N, Tq, Dv); output 1: weights (N, Tq, Tv)."""
        o = _lib.init_struct(_lib.rnn_attention_options)
        o.score = _lib.enum(_lib.ATTENTION_SCORES, score, "score")
        o.units, o.scale = int(units), int(bool(scale))
        if kernel_initializer is not None:
            o.kernel_initializer = _lib.enum(_lib.INITIALIZERS, kernel_initializer, "initializer")
        (ql, qo), (vl, vo) = _operand(query), _operand(value)
        return self._add(lib.rnn_model_add_attention, ctypes.byref(o), ql.handle, qo,
                         vl.handle, vo)

    def shared(self, layer, on=None):
        """Applies ``layer`` (its very parameters) again on the current producer."""
        return self._add(lib.rnn_model_add_shared, layer.handle, on=on)

    def connect_next(self, layer, output=0):
        """The next layer added reads output ``output`` of ``layer``."""
        lib.rnn_model_connect_next(self.handle, layer.handle, int(output))

    def set_outputs(self, outputs):
        """The model's outputs: a list of Layer or (Layer, output); [] or None returns
        to the default (the last layer's outputs)."""
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
    def num_inputs(self):
        return self._count(lib.rnn_model_num_inputs)

    @property
    def num_outputs(self):
        return self._count(lib.rnn_model_num_outputs)

    @property
    def num_layers(self):
        return self._count(lib.rnn_model_num_layers)

    def layer(self, index):
        """Layer ``index`` (0 is the first input), or the layer named ``index``."""
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
    def layers(self):
        return [self.layer(i) for i in range(self.num_layers)]

    def count_params(self):
        v = ctypes.c_int64()
        lib.rnn_model_count_params(self.handle, ctypes.byref(v))
        return v.value

    def summary(self, print_fn=None):
        """Keras' summary table as a string (also passed to ``print_fn`` if given)."""
        needed = ctypes.c_size_t()
        lib.rnn_model_summary(self.handle, None, 0, ctypes.byref(needed))
        buf = ctypes.create_string_buffer(needed.value)
        lib.rnn_model_summary(self.handle, buf, needed.value, ctypes.byref(needed))
        text = buf.value.decode()
        if print_fn is not None:
            print_fn(text)
        return text

    def get_weights(self, format="keras"):
        """Keras ``model.get_weights()``: every layer's weights, in layer order."""
        out = []
        for l in self.layers:
            if l.num_params:
                out.extend(l.get_weights(format))
        return out

    def set_weights(self, weights, format="keras"):
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

    def output(self, index=0):
        """Model output ``index`` of the last forward (a copy)."""
        t = TensorP()
        lib.rnn_model_output(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self).numpy()

    def forward(self, x, lengths=None, training=False):
        """Runs the model on a batch; returns output 0 (or the list of outputs when the
        model has several). ``x``: one array per input (a list for several inputs);
        ``lengths``: None, or per input None or int32 (N) lengths of right-padded
        sequences. ``training=True`` keeps what backward needs (and applies dropout).

        The arrays are passed without copying when they can be, and the C model
        reads them again in ``backward``: the binding keeps them alive until the
        next run, but do not modify them in place before ``backward``."""
        xs, ls = self._prepare(x, lengths)
        self._keep = (xs, ls)  # the model reads them again in backward
        lib.rnn_model_forward(self.handle, len(xs), tensor_array(xs),
                              tensor_array(ls) if ls is not None else None, int(bool(training)))
        return self._outputs()

    __call__ = forward

    def backward(self, grads=None):
        """Back-propagates from the outputs of the last training forward. ``grads``:
        dLoss/dOutput, one array per output (None entries: zero). Parameter
        gradients accumulate (see zero_grad)."""
        if grads is None:
            lib.rnn_model_backward(self.handle, self.num_outputs, None)
            return
        n = self.num_outputs
        if n == 1 and not isinstance(grads, (list, tuple)):
            grads = [grads]
        ts = [as_tensor(g, np.float32) for g in grads]
        lib.rnn_model_backward(self.handle, len(ts), tensor_array(ts))

    def input_grad(self, index=0):
        """Gradient with respect to input ``index`` after a backward (a copy)."""
        t = TensorP()
        lib.rnn_model_input_grad(self.handle, index, ctypes.byref(t))
        return Tensor._borrowed(t, self).numpy()

    def zero_grad(self):
        lib.rnn_model_zero_grad(self.handle)

    def reset_states(self):
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
    def compile(self, loss="sparse_categorical_crossentropy", optimizer="rmsprop",
                from_logits=False, reduction="mean"):
        """Keras ``compile``: the loss (on output 0) and the model's own optimizer
        (an OptimizerConfig such as ``librnn.Adam(1e-3)``, or a name)."""
        c = _lib.init_struct(_lib.rnn_compile_options,
                             _lib.enum(_lib.LOSSES, loss, "loss"))
        c.from_logits = int(bool(from_logits))
        c.reduction = _lib.enum(_lib.REDUCTIONS, reduction, "reduction")
        o = optimizers.get(optimizer).struct()
        lib.rnn_model_compile(self.handle, ctypes.byref(c), ctypes.byref(o))
        self._compile_gen += 1

    @property
    def optimizer(self):
        """The optimizer compile made (borrowed; valid until the next compile)."""
        h = OptimizerP()
        lib.rnn_model_optimizer(self.handle, ctypes.byref(h))
        return optimizers.Optimizer._borrowed(self, h, self._compile_gen)

    def _step(self, fn, x, y, lengths):
        xs, ls = self._prepare(x, lengths)
        ty = as_tensor(y)
        self._keep = (xs, ls, ty)
        loss, acc = ctypes.c_float(), ctypes.c_float()
        fn(self.handle, len(xs), tensor_array(xs), tensor_array(ls) if ls is not None else None,
           ty.handle, ctypes.byref(loss), ctypes.byref(acc))
        return loss.value, acc.value

    def train_step(self, x, y, lengths=None):
        """One training step on a batch (Keras ``train_on_batch``): (loss, accuracy)."""
        return self._step(lib.rnn_model_train_step, x, y, lengths)

    def test_step(self, x, y, lengths=None):
        """Loss and accuracy on a batch without updating (Keras ``test_on_batch``)."""
        return self._step(lib.rnn_model_test_step, x, y, lengths)

    train_on_batch = train_step
    test_on_batch = test_step

    def fit(self, x, y=None, lengths=None, batch_size=32, epochs=1, validation_data=None,
            callbacks=None, checkpoint_path=None, monitor=None, lr_schedule=None, verbose=0,
            **options):
        """Keras ``fit`` over in-memory arrays (x (S, ...), y (S, ...), lengths (S)),
        or over a batch function ``x(epoch, batch)`` returning (x, y[, lengths]) or
        None at the end of an epoch. ``validation_data``: (x, y[, lengths]) or a batch
        function. ``callbacks``: Callback objects, or functions ``f(epoch, logs)``
        called after each epoch. Other options are rnn_fit_options' fields: shuffle,
        seed, bucket_batches, validation_split, reset_states, early_stopping,
        patience, min_delta, restore_best_weights, decay_rate, decay_steps, staircase,
        plateau_factor, plateau_patience, plateau_min_delta, plateau_cooldown, min_lr.
        Returns a :class:`History`.

        ``verbose`` as Keras: 0 (default) silent, 1 a progress bar (updated per batch
        on a terminal), 2 one line per epoch, 'auto' 1 on a terminal and 2 elsewhere;
        written with Python's ``sys.stdout`` from the library's progress reports (the
        C library itself never prints).

        An exception raised in a callback or batch function stops training and is
        raised again once the C call has returned.
        """
        errors = []
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
                stop = False
                for cb in cbs:
                    stop = bool(cb.on_epoch_end(logs["epoch"], dict(logs))) or stop
                return 1 if stop or self.stop_training else 0
            except BaseException as e:  # never unwind through C
                errors.append(e)
                return 1

        def on_batch(user, plog):
            try:
                logs = _struct_dict(plog.contents)
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
        history.last = _struct_dict(result.last) if result.epochs_run else None
        if history.last is not None:
            history.last["improved"] = bool(history.last["improved"])
        return history

    def evaluate(self, x, y=None, lengths=None, batch_size=32):
        """Keras ``evaluate``: {'loss', 'accuracy', 'perplexity', 'samples'}."""
        errors = []
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
        return _struct_dict(r)

    def predict(self, x, lengths=None, batch_size=32):
        """Keras ``predict``: output 0 for every sample, (S, ...), as a numpy array
        over the library's result (no copy)."""
        errors = []
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
    def save(self, path, include_optimizer=False):
        """Writes the model (atomically), with the compile configuration and the
        optimizer's state when ``include_optimizer``."""
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

    def set_metadata(self, key, value):
        """Sets metadata ``key`` to the string ``value`` (``None`` removes the key),
        saved in the model file by :meth:`save` and restored by :meth:`load`; other
        safetensors readers see it in ``__metadata__``. Keys have 1 to 255 UTF-8
        bytes, values at most 16 MiB (and 16 MiB in all, at most 1024 keys);
        "format", "format_version", "librnn_version", "architecture", "checksum"
        and keys starting with "librnn." are reserved. Raises RnnError otherwise
        (the metadata is then unchanged)."""
        lib.rnn_model_set_metadata(self.handle, self._meta_bytes(key, "key"),
                                   None if value is None else self._meta_bytes(value, "value"))

    def get_metadata(self, key, default=None):
        """The value of metadata ``key``, or ``default`` when the model has no such key."""
        out = ctypes.c_char_p()
        lib.rnn_model_get_metadata(self.handle, self._meta_bytes(key, "key"),
                                   ctypes.byref(out))
        return default if out.value is None else out.value.decode("utf-8")

    @property
    def metadata(self):
        """A copy of the model's metadata as a dict of str, keys in sorted
        (byte) order; change it with :meth:`set_metadata`."""
        n = ctypes.c_int()
        lib.rnn_model_metadata_count(self.handle, ctypes.byref(n))
        out = {}
        for i in range(n.value):
            k = ctypes.c_char_p()
            lib.rnn_model_metadata_key(self.handle, i, ctypes.byref(k))
            key = k.value.decode("utf-8")
            out[key] = self.get_metadata(key)
        return out

    @classmethod
    def load(cls, path, seed=0, backend="onednn"):
        """Reads a model saved by :meth:`save` (compiled if saved with its optimizer)."""
        o = _lib.init_struct(_lib.rnn_model_options)
        o.seed = int(seed)
        o.backend = _lib.enum(_lib.BACKENDS, backend, "backend")
        h = ModelP()
        lib.rnn_model_load(os.fsencode(path), ctypes.byref(o), ctypes.byref(h))
        return cls(_handle=h)

    # -------------------------------------------------------------- decoding
    def _token_input(self, token_input):
        return self.num_inputs - 1 if token_input is None or token_input < 0 else token_input

    def decode(self, inputs=None, lengths=None, batch_size=None, **options):
        """Generates sequences (``rnn_model_decode``); returns (tokens (N, max_length)
        int32, lengths (N) int32, scores (N) float32).

        ``inputs``: one entry per model input, None for the token input (start from
        start_token) or an int32 (N, P) prompt; a single-input model takes the prompt
        or None. ``batch_size`` gives N when no input does. Options (rnn_decode_options):
        strategy ('greedy', 'sample', 'beam'), token_input, output, from_logits,
        start_token, end_token (None: none), max_length, temperature, top_k, top_p,
        beam_width, length_penalty, seed."""
        o = _lib.init_struct(_lib.rnn_decode_options)
        for k in ("end_token", "from_logits"):  # None: "none" / "as compiled"
            if k in options and options[k] is None:
                options[k] = -1
        if isinstance(options.get("from_logits"), bool):
            options["from_logits"] = int(options["from_logits"])
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
        tokens = np.zeros((n, o.max_length), np.int32)
        out_len = np.zeros(n, np.int32)
        scores = np.zeros(n, np.float32)
        keep = [Tensor.wrap(tokens), Tensor.wrap(out_len), Tensor.wrap(scores)]
        lib.rnn_model_decode(self.handle, ctypes.byref(o), len(ts), tensor_array(ts),
                             tensor_array(ls) if ls is not None else None,
                             keep[0].handle, keep[1].handle, keep[2].handle)
        return tokens, out_len, scores

    def step_begin(self, inputs, token_input=-1, lengths=None):
        """Starts step-wise inference: runs the model on ``inputs`` (inputs[token_input]
        is the (N, P) int32 prefix) and returns its outputs as forward does."""
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

    def step(self, tokens):
        """Runs the step layers on the next tokens ((N,) or (N, S) int32) and
        returns the outputs."""
        t = np.asarray(tokens)
        if t.ndim == 1:
            t = t[:, None]
        tt = as_tensor(t, np.int32)
        lib.rnn_model_step(self.handle, tt.handle)
        return self._outputs()

    def step_select(self, rows):
        """Row n of the carried states continues from row rows[n] (beam search)."""
        r = np.require(np.asarray(rows), np.int32, ["C", "A"])
        lib.rnn_model_step_select(self.handle, r.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                  r.size)

    def step_end(self):
        lib.rnn_model_step_end(self.handle)
        self._step_keep = ()

    def stepping(self, inputs, token_input=-1, lengths=None):
        """Context manager over step_begin/step_end; yields the first outputs."""
        return _Stepping(self, inputs, token_input, lengths)

    def scheduled_sampling(self, inputs, probability, token_input=-1, output=0, seed=0,
                           lengths=None):
        """Scheduled sampling: the token input with each token after the first
        replaced, with ``probability``, by the model's most probable token.
        Returns the mixed int32 tokens."""
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

    def __enter__(self):
        return self.model.step_begin(*self.args)

    def __exit__(self, *exc):
        self.model.step_end()


def load(path, seed=0, backend="onednn"):
    """Reads a model file written by Model.save (same as Model.load)."""
    return Model.load(path, seed=seed, backend=backend)
