# SPDX-License-Identifier: Apache-2.0
"""The symbolic layer graph of librnn.keras: names, KerasTensor, Node, the Layer
base class, InputLayer and Input.

Calling a layer on KerasTensors records a Node (as Keras does); a Model maps the
graph of nodes between its inputs and outputs and builds it as one librnn C model
(see _graph.py). Shapes, masks and Keras weight shapes are computed here, in
Python, so that summaries and parameter counts need no C model.
"""
import re
import weakref

import numpy as np

__all__ = ["KerasTensor", "Layer", "InputLayer", "Input", "unsupported", "clear_session"]

# ------------------------------------------------------------------ names

_uids = {}


def clear_session():
    """Resets the automatic names (``lstm``, ``lstm_1``, ...), as Keras'
    ``keras.backend.clear_session()`` / ``keras.utils.clear_session()``."""
    _uids.clear()


def to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(prefix):
    """``prefix``, then ``prefix_1``, ``prefix_2``, ... per session, as Keras names
    layers, models and symbolic tensors."""
    n = _uids.get(prefix, 0) + 1
    _uids[prefix] = n
    return prefix if n == 1 else "%s_%d" % (prefix, n - 1)


# ------------------------------------------------------------------ errors

def unsupported(what, reason=""):
    """The NotImplementedError for anything outside librnn.keras' subset."""
    return NotImplementedError("librnn.keras: %s is not supported%s"
                               % (what, ": " + reason if reason else ""))


def refuse_arg(cls_name, arg, value, reason=""):
    raise unsupported("%s(%s=%r)" % (cls_name, arg, value), reason)


def check_defaults(cls_name, given, defaults):
    """Raises NotImplementedError for the first argument whose value differs
    from the only value librnn supports (``defaults``: name -> value)."""
    for k, want in defaults.items():
        v = given.get(k, want)
        if v is want:
            continue
        same = False
        try:
            same = bool(v == want) and type(v) is not np.ndarray
        except Exception:  # e.g. an array compared with None
            same = False
        if not same:
            refuse_arg(cls_name, k, v)


def unknown_kwargs(cls_name, kwargs):
    if kwargs:
        raise ValueError("Unrecognized keyword arguments passed to %s: %r" % (cls_name, kwargs))


DTYPES = {None: "float32", "float32": "float32", "int32": "int32", "int64": "int32",
          "int16": "int32", "int8": "int32", "uint8": "int32", "uint16": "int32",
          "uint32": "int32"}


def standardize_dtype(dtype, what):
    if dtype is not None and not isinstance(dtype, str):
        dtype = getattr(dtype, "name", None) or np.dtype(dtype).name
    if dtype not in DTYPES:
        raise unsupported("%s(dtype=%r)" % (what, dtype),
                          "librnn computes in float32 on int32 token ids")
    return DTYPES[dtype]


# ------------------------------------------------------------------ symbolic tensors

class KerasHistory(tuple):
    """(operation, node_index, tensor_index) of a KerasTensor, as Keras'."""

    __slots__ = ()

    def __new__(cls, operation, node_index, tensor_index):
        return tuple.__new__(cls, (operation, node_index, tensor_index))

    operation = property(lambda self: self[0])
    node_index = property(lambda self: self[1])
    tensor_index = property(lambda self: self[2])


def _no_ops(name):
    def op(self, *args, **kwargs):
        raise unsupported("the operation %s on a symbolic KerasTensor" % name,
                          "build models from layers only")
    op.__name__ = name
    return op


class KerasTensor:
    """A symbolic tensor: the output of a layer in a model being defined.

    ``shape`` includes the batch axis (None); ``dtype`` is "float32" or "int32".
    Arithmetic on KerasTensors (keras.ops) is outside librnn.keras' subset."""

    def __init__(self, shape, dtype="float32", masked=False, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._masked = bool(masked)     # librnn: per-sample lengths reach this tensor
        self._keras_mask = None         # Keras: the mask tensor attached to it
        self._mask_key = None           # which token input that mask comes from
        self.name = name or auto_name("keras_tensor")
        self._keras_history = None
        self.sparse = False
        self.ragged = False

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return "<KerasTensor shape=%s, dtype=%s, sparse=False, ragged=False, name=%s>" % (
            self.shape, self.dtype, self.name)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __bool__(self):
        raise unsupported("the truth value of a symbolic KerasTensor")

    def __array__(self, *args, **kwargs):
        raise unsupported("converting a symbolic KerasTensor to a numpy array",
                          "call model.predict() on data instead")


for _op in ("add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "matmul",
            "rmatmul", "pow", "neg", "abs", "getitem", "lt", "le", "gt", "ge", "floordiv",
            "mod", "and", "or"):
    setattr(KerasTensor, "__%s__" % _op, _no_ops("__%s__" % _op))


def is_tensor(x):
    return isinstance(x, KerasTensor)


_node_serial = [0]


class Node:
    """One application of a layer: its input tensors (the main inputs, then any
    initial states), its outputs and the call's options."""

    def __init__(self, layer, inputs, states, outputs, call_args, masks=()):
        _node_serial[0] += 1
        self.serial = _node_serial[0]   # creation order (kept when a model is saved)
        self.operation = layer
        self.layer = layer
        self.inputs = list(inputs)
        self.states = list(states)
        self.masks = list(masks)        # Keras' mask arguments (graph and summary only)
        self.outputs = list(outputs)
        self.call_args = dict(call_args)
        layer._inbound_nodes.append(self)
        self.index = len(layer._inbound_nodes) - 1
        for i, t in enumerate(self.outputs):
            t._keras_history = KerasHistory(layer, self.index, i)

    @property
    def input_tensors(self):
        return self.inputs + self.states + self.masks

    @property
    def output_tensors(self):
        return self.outputs

    @property
    def is_input(self):
        return isinstance(self.layer, InputLayer)

    @property
    def parent_nodes(self):
        out = []
        for t in self.input_tensors:
            op, ni, _ = t._keras_history
            out.append(op._inbound_nodes[ni])
        return out


# ------------------------------------------------------------------ masks
# Keras 3 computes masks with symbolic operations that become part of a
# functional model's graph (its summary lists them). They are mirrored here so
# that summaries and layer names match; librnn itself uses per-sample lengths.

class Operation:
    """A Keras operation on masks (NotEqual, ExpandDims, ...): in the graph and
    the summary of a model, never in its layers or its C model."""

    def __init__(self, class_name):
        self.class_name = class_name
        self.name = auto_name(to_snake_case(class_name))
        self._inbound_nodes = []
        self._weight_shapes = []
        self.trainable = False
        self._models = weakref.WeakSet()

    def count_params(self):
        return 0

    def __repr__(self):
        return "<Operation %s>" % self.name


def mask_op(class_name, inputs, shape):
    """The output of Keras operation ``class_name`` on ``inputs``."""
    op = Operation(class_name)
    out = KerasTensor(shape, "bool")
    Node(op, inputs, [], [out], {})
    return out


def embedding_mask(ids):
    return mask_op("NotEqual", [ids], ids.shape)


def concatenate_mask(inputs):
    """Keras 3's Concatenate.compute_mask: a step is kept when any input keeps it."""
    if all(t._keras_mask is None for t in inputs):
        return None
    parts = []
    for t in inputs:
        m = t._keras_mask
        if m is None:
            parts.append(mask_op("OnesLike", [t], t.shape))
        elif len(m.shape) < len(t.shape):
            e = mask_op("ExpandDims", [m], m.shape + (1,))
            z = mask_op("ZerosLike", [t], t.shape)
            parts.append(mask_op("LogicalOr", [e, z], t.shape))
        else:
            parts.append(m)
    feats = [p.shape[-1] for p in parts]
    cat = mask_op("Concatenate", parts, parts[0].shape[:-1] + (
        None if None in feats else sum(feats),))
    return mask_op("Any", [cat], cat.shape[:-1])


# ------------------------------------------------------------------ weights

class Variable:
    """A layer weight as Keras shows it (``layer.weights``): name, path, shape,
    trainable, ``numpy()`` and ``assign(value)``; reads and writes go to the C
    model holding the layer's weights."""

    def __init__(self, layer, index, name, shape, trainable):
        self._layer, self._index = layer, index
        self.name, self.shape, self._trainable = name, tuple(shape), trainable
        self.path = "%s/%s" % (layer.name, name)
        self.dtype = "float32"

    @property
    def trainable(self):
        return self._layer.trainable and self._trainable

    def numpy(self):
        return self._layer.get_weights()[self._index]

    value = property(numpy)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def assign(self, value):
        w = self._layer.get_weights()
        w[self._index] = np.asarray(value, np.float32).reshape(self.shape)
        self._layer.set_weights(w)

    def __repr__(self):
        return "<Variable path=%s, shape=%s, dtype=float32>" % (self.path, self.shape)


# ------------------------------------------------------------------ layers

_BASE_KWARGS = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim",
                "batch_input_shape", "batch_size", "activity_regularizer")


class Layer:
    """Base of librnn.keras' layers (Keras 3's ``keras.layers.Layer``).

    A layer object is configured once, then called on KerasTensors; calling it
    again shares its weights (a shared layer). Its weights live in the C model of
    the last model that used it, and follow it from model to model.
    Subclassing Layer to write a custom layer is outside the subset."""

    _keras_name = None      # the Keras class name (defaults to the Python class name)
    _c_kind_shared = True   # a second application shares the first one's C parameters

    def __init__(self, **kwargs):
        cls = self.class_name
        if type(self).__module__.split(".")[0:2] != ["librnn", "keras"]:
            raise unsupported("subclassing keras.layers.Layer (custom layer %s)"
                              % type(self).__name__)
        extra = {k: v for k, v in kwargs.items() if k not in _BASE_KWARGS}
        unknown_kwargs(cls, extra)
        name = kwargs.get("name")
        self.name = name if name is not None else auto_name(to_snake_case(cls))
        if kwargs.get("activity_regularizer") is not None:
            refuse_arg(cls, "activity_regularizer", kwargs["activity_regularizer"])
        self.dtype = standardize_dtype(kwargs.get("dtype"), cls)
        if self.dtype != "float32":
            refuse_arg(cls, "dtype", kwargs.get("dtype"), "layers compute in float32")
        self._trainable = bool(kwargs.get("trainable", True))
        self._inbound_nodes = []
        # where the weights are: the C layer (librnn.Layer) holding the current
        # values (it keeps its C model alive), and the C layers of each model
        self._home = None
        self._c_layers = weakref.WeakKeyDictionary()
        self._models = weakref.WeakSet()
        self._pending = None          # Keras-layout weights to load at the first build
        self._weight_shapes = None    # [(name, shape, trainable)] once called
        # a batch input shape given to the first layer of a Sequential
        shape = None
        if kwargs.get("batch_input_shape") is not None:
            shape = tuple(kwargs["batch_input_shape"])
        elif kwargs.get("input_shape") is not None:
            shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        elif kwargs.get("input_dim") is not None:
            shape = (kwargs.get("batch_size"), kwargs["input_dim"])
        self._batch_input_shape = shape

    # -------------------------------------------------------------- identity
    @property
    def class_name(self):
        return self._keras_name or type(self).__name__

    def __repr__(self):
        return "<%s name=%s, built=%s>" % (self.class_name, self.name, self.built)

    @property
    def built(self):
        return bool(self._inbound_nodes) or self._home is not None

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for c in list(self._c_layers.values()):
            try:
                c.trainable = self._trainable
            except ValueError:  # a closed model
                pass

    # -------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.pop(self._first_arg(), None)
        if len(args) > 1:
            raise TypeError("%s: pass options by keyword" % self.class_name)
        flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if not flat or not all(is_tensor(t) for t in flat):
            raise unsupported("calling %s on arrays (eager execution)" % self.class_name,
                              "call layers on keras.Input() tensors and use model.predict()")
        if kwargs.get("mask") is not None:
            raise unsupported("%s(..., mask=...)" % self.class_name,
                              "masks come from Embedding(mask_zero=True)")
        kwargs.pop("mask", None)
        training = kwargs.pop("training", None)
        if training is not None:
            raise unsupported("%s(..., training=%r)" % (self.class_name, training),
                              "fit() trains, predict() and evaluate() infer")
        ins, states, call_args = self._parse_call(inputs, **kwargs)
        specs, single = self._output_specs(ins, states, call_args)
        if self._weight_shapes is None:
            self._weight_shapes = self._compute_weight_shapes(ins)
        elif self._c_kind_shared:
            shapes = self._compute_weight_shapes(ins)
            if [s[1] for s in shapes] != [s[1] for s in self._weight_shapes]:
                raise ValueError("%s: a shared layer must be called on inputs of the same "
                                 "feature size (weights %s, now %s)" % (
                                     self.name, [s[1] for s in self._weight_shapes],
                                     [s[1] for s in shapes]))
        self._warn_mask(ins)
        outs = [KerasTensor(s, d, m) for s, d, m in specs]
        node = Node(self, ins, states, outs, call_args, self._mask_args(ins, states))
        self._set_output_masks(node)
        return outs[0] if single else outs

    # which layers take Keras masks as arguments, and the masks of their outputs
    _takes_mask = False        # call(..., mask=None): the mask becomes a node input
    _supports_masking = True   # passes its input's mask on (Keras' default compute_mask)

    def _mask_args(self, ins, states):
        if self._takes_mask and not states and ins[0]._keras_mask is not None:
            return [ins[0]._keras_mask]
        return []

    def _set_output_masks(self, node):
        if self._supports_masking and node.inputs and node.inputs[0]._keras_mask is not None:
            node.outputs[0]._keras_mask = node.inputs[0]._keras_mask
            node.outputs[0]._mask_key = node.inputs[0]._mask_key

    def _first_arg(self):
        return "inputs"

    def _parse_call(self, inputs, **kwargs):
        """(main inputs, state inputs, call options) of a call."""
        if kwargs:
            raise TypeError("%s() got unexpected arguments %s" % (self.class_name,
                                                                sorted(kwargs)))
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError("%s takes one input (got %d)" % (self.class_name, len(inputs)))
            inputs = inputs[0]
        return [inputs], [], {}

    def _output_specs(self, ins, states, call_args):
        """([(shape, dtype, masked)], single) of the outputs."""
        raise NotImplementedError

    def _compute_weight_shapes(self, ins):
        """[(Keras weight name, shape, trainable)] for inputs ``ins``."""
        return []

    # masks: Keras drops them at layers that do not support masking; librnn
    # keeps the lengths and honours them (padding never leaks)
    _drops_mask = False

    def _warn_mask(self, ins):
        if self._drops_mask and any(t._masked for t in ins):
            import warnings
            warnings.warn(
                "librnn.keras: layer '%s' (%s) receives a mask (Embedding(mask_zero=True)). "
                "Keras drops the mask here and computes over the padded steps too; librnn "
                "keeps each sample's length and ignores its padding, so results at padded "
                "inputs differ from Keras'." % (self.name, self.class_name), stacklevel=3)

    # -------------------------------------------------------------- C building
    def _c_build(self, b, node, refs, state_refs):
        """Adds this node's C layer to builder ``b`` (refs: (librnn.Layer, output)
        of the inputs); returns the C layer."""
        raise NotImplementedError

    def _c_connect(self, b, c, node, refs, state_refs):
        """Connects C layer ``c`` to the node's other inputs (initial states)."""
        if state_refs:
            raise unsupported("initial states for %s" % self.class_name)

    def _numpy_init(self, c):
        """Keras-layout initial weights drawn in Python, or None (the C library's)."""
        return None

    # -------------------------------------------------------------- weights
    def _c_weights(self, c):
        """The Keras-layout weights of C layer ``c``."""
        return c.get_weights()

    def _c_set_weights(self, c, weights):
        c.set_weights(weights)

    def _c_fixed(self, c):
        """[(param name, array)] of C parameters that must keep a value (reset after
        every optimizer step): parts of a C layer Keras does not have."""
        return []

    def _ensure_home(self):
        if self._home is None:
            for m in list(self._models):
                m._ensure_c()
                if self._home is not None:
                    break

    def _check_weights(self, weights):
        shapes = self._weight_shapes or []
        if len(weights) != len(shapes):
            raise ValueError("Layer %s weight shape mismatch: expected %d weights, got %d"
                             % (self.name, len(shapes), len(weights)))
        out = []
        for (name, shape, _), w in zip(shapes, weights):
            a = np.asarray(w, np.float32)
            if a.shape != tuple(shape):
                raise ValueError("Layer %s weight shape mismatch for %s: expected %s, got %s"
                                 % (self.name, name, tuple(shape), a.shape))
            out.append(a)
        return out

    def get_weights(self):
        """The weights as numpy arrays, in Keras' order and layout."""
        if not self._weight_shapes:
            return []
        self._ensure_home()
        if self._home is None:
            return [np.array(w, np.float32) for w in (self._pending or [])]
        return [np.array(w) for w in self._c_weights(self._home)]

    def set_weights(self, weights):
        """Replaces the weights (numpy arrays in Keras' order and layout)."""
        if self._weight_shapes is None:
            raise ValueError("You called `set_weights(weights)` on layer '%s' with a weight "
                             "list of length %d, but the layer was not built yet"
                             % (self.name, len(weights)))
        arrays = self._check_weights(list(weights))
        self._ensure_home()
        if self._home is None:
            self._pending = arrays
        else:
            self._c_set_weights(self._home, arrays)

    @property
    def weights(self):
        return [Variable(self, i, n, s, t) for i, (n, s, t) in enumerate(self._weight_shapes or [])]

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def count_params(self):
        if self._weight_shapes is None:
            raise ValueError("You tried to call `count_params` on layer '%s', but the layer "
                             "isn't built. You can build it manually via: "
                             "`layer.build(input_shape)`." % self.name)
        return int(sum(int(np.prod(s)) for _, s, _ in self._weight_shapes))

    # -------------------------------------------------------------- graph access
    def _node_tensor(self, attr):
        if not self._inbound_nodes:
            raise AttributeError("Layer %s has never been called and thus has no defined %s."
                                 % (self.name, attr))
        if len(self._inbound_nodes) > 1:
            raise AttributeError("Layer %s has multiple inbound nodes; use get_%s_at(index)"
                                 % (self.name, attr))
        n = self._inbound_nodes[0]
        ts = n.inputs if attr == "input" else n.outputs
        return ts[0] if len(ts) == 1 else list(ts)

    @property
    def input(self):
        return self._node_tensor("input")

    @property
    def output(self):
        return self._node_tensor("output")

    def get_input_at(self, index):
        ts = self._inbound_nodes[index].inputs
        return ts[0] if len(ts) == 1 else list(ts)

    def get_output_at(self, index):
        ts = self._inbound_nodes[index].outputs
        return ts[0] if len(ts) == 1 else list(ts)

    # -------------------------------------------------------------- configuration
    _config_keys = ()

    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        for k in self._config_keys:
            cfg[k] = getattr(self, k)
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def build(self, input_shape=None):
        """Keras' explicit build: unavailable for a lone layer (weights exist in a model)."""
        raise unsupported("%s.build() outside a model" % self.class_name,
                          "call the layer on keras.Input() and make a Model")


class InputLayer(Layer):
    """The layer behind ``keras.Input``."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        kwargs.pop("input_shape", None)
        for arg, v in (("sparse", sparse), ("ragged", ragged), ("input_tensor", input_tensor)):
            if v:
                refuse_arg("Input", arg, v)
        if optional:
            refuse_arg("Input", "optional", optional)
        unknown_kwargs("InputLayer", kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._in_dtype = standardize_dtype(dtype, "Input")
        super().__init__(name=name if name is not None else auto_name("input_layer"))
        self.batch_shape = batch_shape
        if len(batch_shape) not in (2, 3):
            raise unsupported("Input(shape=%s)" % (batch_shape[1:],),
                              "inputs are (steps,) token ids, (steps, features) or "
                              "(features,) float vectors")
        if self._in_dtype == "int32" and len(batch_shape) != 2:
            raise unsupported("Input(shape=%s, dtype='int32')" % (batch_shape[1:],),
                              "integer inputs are (steps,) token ids")
        out = KerasTensor(batch_shape, self._in_dtype)
        Node(self, [], [], [out], {})
        self.dtype = self._in_dtype
        self._trainable = False
        self._weight_shapes = []
        self._in_tensor = out

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self._in_dtype, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(batch_shape=tuple(config["batch_shape"]), dtype=config["dtype"],
                   name=config["name"])

    def _c_build(self, b, node, refs, state_refs):
        shape = self.batch_shape[1:]
        return b.m.input(shape=shape, dtype=self._in_dtype)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """A symbolic model input, as ``keras.Input``: ``shape`` without the batch axis,
    e.g. ``(None,)`` with ``dtype="int32"`` for token ids, ``(None, features)`` for
    float sequences, ``(features,)`` for vectors."""
    if tensor is not None:
        refuse_arg("Input", "tensor", tensor)
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, optional=optional, name=name)
    return layer._in_tensor


def keras_getattr(module, keras_names):
    """A module ``__getattr__``: Keras 3 names outside the subset raise
    NotImplementedError naming them; other names raise AttributeError."""
    names = frozenset(keras_names.split())

    def __getattr__(name):
        if name in names:
            raise unsupported("keras.%s" % ".".join(p for p in (module, name) if p))
        raise AttributeError("module %r has no attribute %r"
                             % (".".join(p for p in ("librnn.keras", module) if p), name))

    return __getattr__
