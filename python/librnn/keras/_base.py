# SPDX-License-Identifier: Apache-2.0
"""The symbolic layer graph of librnn.keras: names, KerasTensor, Node, the Layer
base class, InputLayer and Input.

Calling a layer on KerasTensors records a Node (as Keras does); a Model maps the
graph of nodes between its inputs and outputs and builds it as one librnn C model
(see _graph.py). Shapes, masks and Keras weight shapes are computed here, in
Python, so that summaries and parameter counts need no C model.
"""
from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, NoReturn, Sequence, Tuple

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    #: A shape with its batch axis; None marks an axis of any size.
    Shape = Tuple[Any, ...]
    #: [(Keras weight name, shape, trainable)] of a layer.
    WeightShapes = list[tuple[str, Tuple[int, ...], bool]]

__all__ = ["KerasTensor", "Layer", "InputLayer", "Input", "unsupported", "clear_session"]

# ------------------------------------------------------------------ names

_uids: Dict[str, int] = {}


def clear_session() -> None:
    """Resets the automatic names (``lstm``, ``lstm_1``, ...), as Keras'
    ``keras.backend.clear_session()`` / ``keras.utils.clear_session()``.

    Unlike Keras, there is no global graph or backend state to free: models and
    their C memory go when they are no longer referenced.
    """
    _uids.clear()


def to_snake_case(name: str) -> str:
    """Keras' snake_case form of a class name ("GlobalMaxPooling1D" ->
    "global_max_pooling1d"), the prefix of automatic layer names.

    Args:
        name: A class name.

    Returns:
        The name in lower case with underscores between words.
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(prefix: str) -> str:
    """``prefix``, then ``prefix_1``, ``prefix_2``, ... per session, as Keras names
    layers, models and symbolic tensors.

    Args:
        prefix: The base name (e.g. "lstm").

    Returns:
        The next unused name for ``prefix`` since the last :func:`clear_session`.
    """
    n = _uids.get(prefix, 0) + 1
    _uids[prefix] = n
    return prefix if n == 1 else "%s_%d" % (prefix, n - 1)


# ------------------------------------------------------------------ errors

def unsupported(what: str, reason: str = "") -> NotImplementedError:
    """The NotImplementedError for anything outside librnn.keras' subset.

    Args:
        what: What is not supported, as the user wrote it (e.g.
            "LSTM(time_major=True)").
        reason: Why, or what to do instead; appended after a colon.

    Returns:
        The exception (for the caller to raise): its message starts with
        "librnn.keras: <what> is not supported".
    """
    return NotImplementedError("librnn.keras: %s is not supported%s"
                               % (what, ": " + reason if reason else ""))


def refuse_arg(cls_name: str, arg: str, value: Any, reason: str = "") -> None:
    """Raises the NotImplementedError for an argument value librnn cannot do.

    Args:
        cls_name: The class or function given the argument (e.g. "Dense").
        arg: The argument's name.
        value: The value given.
        reason: Why, or what to do instead.

    Raises:
        NotImplementedError: Always, naming ``cls_name(arg=value)``.
    """
    raise unsupported("%s(%s=%r)" % (cls_name, arg, value), reason)


def check_defaults(cls_name: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Raises NotImplementedError for the first argument whose value differs
    from the only value librnn supports.

    Args:
        cls_name: The class given the arguments, for the message.
        given: Argument name -> the value given.
        defaults: Argument name -> the only value librnn supports (Keras' default).

    Raises:
        NotImplementedError: An argument has another value (e.g. a regularizer).
    """
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


def unknown_kwargs(cls_name: str, kwargs: dict[str, Any]) -> None:
    """Raises Keras' ValueError for keyword arguments a class does not know.

    Args:
        cls_name: The class, for the message.
        kwargs: The unknown keyword arguments (nothing happens when empty).

    Raises:
        ValueError: ``kwargs`` is not empty.
    """
    if kwargs:
        raise ValueError("Unrecognized keyword arguments passed to %s: %r" % (cls_name, kwargs))


DTYPES = {None: "float32", "float32": "float32", "int32": "int32", "int64": "int32",
          "int16": "int32", "int8": "int32", "uint8": "int32", "uint16": "int32",
          "uint32": "int32"}


def standardize_dtype(dtype: Any, what: str) -> str:
    """The dtype librnn computes in for a Keras dtype argument.

    Args:
        dtype: None, a dtype name ("float32", "int64", ...), a numpy dtype or type.
        what: The class or function given it, for the message.

    Returns:
        "float32" (None and "float32"), or "int32" for integer dtypes (token ids).

    Raises:
        NotImplementedError: Any other dtype (float16, bfloat16, float64, bool, ...).
    """
    if dtype is not None and not isinstance(dtype, str):
        dtype = getattr(dtype, "name", None) or np.dtype(dtype).name
    if dtype not in DTYPES:
        raise unsupported("%s(dtype=%r)" % (what, dtype),
                          "librnn computes in float32 on int32 token ids")
    return DTYPES[dtype]


# ------------------------------------------------------------------ symbolic tensors

class KerasHistory(tuple):
    """(operation, node_index, tensor_index) of a KerasTensor, as Keras': the
    layer (or mask operation) that made it, which call of that layer, and which
    of that call's outputs."""

    __slots__ = ()

    def __new__(cls, operation: Any, node_index: int, tensor_index: int) -> KerasHistory:
        return tuple.__new__(cls, (operation, node_index, tensor_index))

    @property
    def operation(self) -> Any:
        """The layer or mask operation whose output the tensor is."""
        return self[0]

    @property
    def node_index(self) -> int:
        """Which call of the operation (its ``_inbound_nodes`` index)."""
        return self[1]

    @property
    def tensor_index(self) -> int:
        """Which output of that call."""
        return self[2]


def _no_ops(name: str) -> Callable[..., NoReturn]:
    def op(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise unsupported("the operation %s on a symbolic KerasTensor" % name,
                          "build models from layers only")
    op.__name__ = name
    return op


class KerasTensor:
    """A symbolic tensor: the output of a layer in a model being defined.

    ``shape`` includes the batch axis (None); ``dtype`` is "float32" or "int32".
    Arithmetic on KerasTensors (keras.ops) is outside librnn.keras' subset:
    operators, ``bool()`` and conversion to numpy raise NotImplementedError.

    Args:
        shape: The shape, batch axis first (None for an axis of any size).
        dtype: "float32", "int32" (token ids) or "bool" (masks).
        masked: Whether per-sample lengths (an ``Embedding(mask_zero=True)``
            upstream) reach this tensor (librnn's own bookkeeping, not Keras').
        name: The tensor's name; "keras_tensor", "keras_tensor_1", ... when None.
    """

    def __init__(self, shape: Sequence[Any], dtype: str = "float32", masked: bool = False,
                 name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self._masked = bool(masked)     # librnn: per-sample lengths reach this tensor
        self._keras_mask = None         # Keras: the mask tensor attached to it
        self._mask_key = None           # which token input that mask comes from
        self.name = name or auto_name("keras_tensor")
        self._keras_history: Any = None
        self.sparse = False
        self.ragged = False

    @property
    def ndim(self) -> int:
        """The rank, counting the batch axis."""
        return len(self.shape)

    def __repr__(self) -> str:
        return "<KerasTensor shape=%s, dtype=%s, sparse=False, ragged=False, name=%s>" % (
            self.shape, self.dtype, self.name)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        raise unsupported("the truth value of a symbolic KerasTensor")

    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise unsupported("converting a symbolic KerasTensor to a numpy array",
                          "call model.predict() on data instead")


for _op in ("add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "matmul",
            "rmatmul", "pow", "neg", "abs", "getitem", "lt", "le", "gt", "ge", "floordiv",
            "mod", "and", "or"):
    setattr(KerasTensor, "__%s__" % _op, _no_ops("__%s__" % _op))


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic KerasTensor.

    Args:
        x: Any object.

    Returns:
        True for a :class:`KerasTensor`.
    """
    return isinstance(x, KerasTensor)


_node_serial = [0]


class Node:
    """One application of a layer: its input tensors (the main inputs, then any
    initial states), its outputs and the call's options (Keras' ``Node``).

    Making a Node appends it to ``layer._inbound_nodes`` and sets the outputs'
    ``_keras_history``.

    Args:
        layer: The layer (or mask :class:`Operation`) applied.
        inputs: Its main input KerasTensors.
        states: Initial-state KerasTensors (recurrent layers), else empty.
        outputs: The output KerasTensors made for the call.
        call_args: The call's options (e.g. ``return_attention_scores``).
        masks: Keras mask tensors the call reads (graph and summary only).
    """

    def __init__(self, layer: Any, inputs: Sequence[KerasTensor], states: Sequence[KerasTensor],
                 outputs: Sequence[KerasTensor], call_args: dict[str, Any],
                 masks: Sequence[KerasTensor] = ()) -> None:
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
    def input_tensors(self) -> list[KerasTensor]:
        """Every tensor the call reads: main inputs, initial states, then masks."""
        return self.inputs + self.states + self.masks

    @property
    def output_tensors(self) -> list[KerasTensor]:
        """The tensors the call made."""
        return self.outputs

    @property
    def is_input(self) -> bool:
        """Whether this is the node of a ``keras.Input`` (an InputLayer)."""
        return isinstance(self.layer, InputLayer)

    @property
    def parent_nodes(self) -> list[Node]:
        """The nodes that made this node's input tensors, in input order."""
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
    the summary of a model, never in its layers or its C model.

    Args:
        class_name: Keras' class name of the operation; its automatic name is
            the snake_case form ("not_equal", "not_equal_1", ...).
    """

    def __init__(self, class_name: str) -> None:
        self.class_name = class_name
        self.name = auto_name(to_snake_case(class_name))
        self._inbound_nodes: list[Node] = []
        self._weight_shapes: WeightShapes = []
        self.trainable = False
        self._models: weakref.WeakSet[Any] = weakref.WeakSet()

    def count_params(self) -> int:
        """The number of weights: an operation has none.

        Returns:
            0.
        """
        return 0

    def __repr__(self) -> str:
        return "<Operation %s>" % self.name


def mask_op(class_name: str, inputs: Sequence[KerasTensor], shape: Shape) -> KerasTensor:
    """The output of Keras operation ``class_name`` on ``inputs``.

    Args:
        class_name: Keras' operation class ("NotEqual", "ExpandDims", ...).
        inputs: Its input tensors.
        shape: The shape of its (bool) output.

    Returns:
        A new bool KerasTensor recorded as the operation's output.
    """
    op = Operation(class_name)
    out = KerasTensor(shape, "bool")
    Node(op, inputs, [], [out], {})
    return out


def embedding_mask(ids: KerasTensor) -> KerasTensor:
    """The mask Keras' ``Embedding(mask_zero=True)`` attaches: ``ids != 0``.

    Args:
        ids: The Embedding's token-id input.

    Returns:
        A bool KerasTensor of the same shape (a NotEqual operation's output).
    """
    return mask_op("NotEqual", [ids], ids.shape)


def concatenate_mask(inputs: Sequence[KerasTensor]) -> KerasTensor | None:
    """Keras 3's Concatenate.compute_mask: a step is kept when any input keeps it.

    Args:
        inputs: The tensors being concatenated.

    Returns:
        The output's mask tensor (the operations Keras records), or None when
        no input has a mask.
    """
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
    model holding the layer's weights. Unlike Keras' variables it holds no
    value of its own and takes no part in arithmetic.

    Args:
        layer: The layer owning the weight.
        index: Its position in ``layer.get_weights()``.
        name: Keras' weight name ("kernel", "recurrent_kernel", "bias", ...).
        shape: The weight's shape in Keras' layout.
        trainable: Whether the weight itself is trainable (the layer's
            ``trainable`` applies too).
    """

    def __init__(self, layer: Layer, index: int, name: str, shape: Sequence[int],
                 trainable: bool) -> None:
        self._layer, self._index = layer, index
        self.name, self.shape, self._trainable = name, tuple(shape), trainable
        self.path = "%s/%s" % (layer.name, name)
        self.dtype = "float32"

    @property
    def trainable(self) -> bool:
        """Whether training updates the weight (its layer's ``trainable`` too)."""
        return self._layer.trainable and self._trainable

    def numpy(self) -> np.ndarray:
        """The weight's current value (a copy, from the C model holding it).

        Returns:
            A float32 array of ``shape``.
        """
        return self._layer.get_weights()[self._index]

    value = property(numpy)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def assign(self, value: npt.ArrayLike) -> None:
        """Replaces the weight's value (as Keras' ``variable.assign``).

        Args:
            value: An array of the weight's shape (anything numpy converts;
                reshaped to ``shape``).
        """
        w = self._layer.get_weights()
        w[self._index] = np.asarray(value, np.float32).reshape(self.shape)
        self._layer.set_weights(w)

    def __repr__(self) -> str:
        return "<Variable path=%s, shape=%s, dtype=float32>" % (self.path, self.shape)


# ------------------------------------------------------------------ layers

_BASE_KWARGS = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim",
                "batch_input_shape", "batch_size", "activity_regularizer")


class Layer:
    """Base of librnn.keras' layers (Keras 3's ``keras.layers.Layer``).

    A layer object is configured once, then called on KerasTensors; calling it
    again shares its weights (a shared layer). Its weights live in the C model of
    the last model that used it, and follow it from model to model.
    Subclassing Layer to write a custom layer is outside the subset (it raises
    NotImplementedError).

    Args:
        **kwargs: Keras' base layer arguments: ``name`` (default: the snake_case
            class name, numbered), ``dtype`` (only float32; other values raise
            NotImplementedError), ``trainable`` (default True), ``autocast``
            (ignored), and for the first layer of a Sequential ``input_shape``,
            ``input_dim``, ``batch_input_shape`` and ``batch_size``.
            ``activity_regularizer`` raises NotImplementedError; other names
            raise ValueError.
    """

    _keras_name: str | None = None  # the Keras class name (defaults to the Python class name)
    _c_kind_shared = True   # a second application shares the first one's C parameters

    def __init__(self, **kwargs: Any) -> None:
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
        self._inbound_nodes: list[Node] = []
        # where the weights are: the C layer (librnn.Layer) holding the current
        # values (it keeps its C model alive), and the C layers of each model
        self._home: Any = None
        self._c_layers: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._models: weakref.WeakSet[Any] = weakref.WeakSet()
        self._pending: list[np.ndarray] | None = None  # Keras-layout weights for the first build
        self._weight_shapes: WeightShapes | None = None  # [(name, shape, trainable)] once called
        # a batch input shape given to the first layer of a Sequential
        shape: tuple[Any, ...] | None = None
        if kwargs.get("batch_input_shape") is not None:
            shape = tuple(kwargs["batch_input_shape"])
        elif kwargs.get("input_shape") is not None:
            shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        elif kwargs.get("input_dim") is not None:
            shape = (kwargs.get("batch_size"), kwargs["input_dim"])
        self._batch_input_shape = shape

    # -------------------------------------------------------------- identity
    @property
    def class_name(self) -> str:
        """Keras' class name of the layer ("LSTM", "Dense", ...)."""
        return self._keras_name or type(self).__name__

    def __repr__(self) -> str:
        return "<%s name=%s, built=%s>" % (self.class_name, self.name, self.built)

    @property
    def built(self) -> bool:
        """Whether the layer has been called (its weight shapes are known)."""
        return bool(self._inbound_nodes) or self._home is not None

    @property
    def trainable(self) -> bool:
        """Whether training updates the layer's weights (settable, as in Keras;
        the change reaches every C model using the layer, and a compiled model
        needs no recompiling)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for c in list(self._c_layers.values()):
            try:
                c.trainable = self._trainable
            except ValueError:  # a closed model
                pass

    # -------------------------------------------------------------- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
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

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays, in Keras' order and layout.

        Returns:
            One float32 array per weight (empty before the layer is called);
            the values of the C model that used the layer last, or the pending
            ``weights=``/``set_weights`` values before any model was built.
        """
        if not self._weight_shapes:
            return []
        self._ensure_home()
        if self._home is None:
            return [np.array(w, np.float32) for w in (self._pending or [])]
        return [np.array(w) for w in self._c_weights(self._home)]

    def set_weights(self, weights: Sequence[npt.ArrayLike]) -> None:
        """Replaces the weights (numpy arrays in Keras' order and layout).

        Args:
            weights: One array per weight, shaped as ``get_weights()`` returns them.

        Raises:
            ValueError: The layer has not been called yet, or the number or
                shapes of the arrays differ from the layer's weights.
        """
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
    def weights(self) -> list[Variable]:
        """The layer's weights as :class:`Variable` objects, in Keras' order."""
        return [Variable(self, i, n, s, t) for i, (n, s, t) in enumerate(self._weight_shapes or [])]

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights training updates (none when the layer is not trainable)."""
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The weights training leaves alone."""
        return [w for w in self.weights if not w.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def count_params(self) -> int:
        """The number of weight values (Keras' ``layer.count_params()``).

        Returns:
            The number of scalars in all the layer's weights.

        Raises:
            ValueError: The layer has not been called yet (is not built).
        """
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
    def input(self) -> Any:
        """The input KerasTensor (a list for several) of the layer's only call.

        Raises:
            AttributeError: The layer was never called, or called more than once.
        """
        return self._node_tensor("input")

    @property
    def output(self) -> Any:
        """The output KerasTensor (a list for several) of the layer's only call.

        Raises:
            AttributeError: The layer was never called, or called more than once.
        """
        return self._node_tensor("output")

    def get_input_at(self, index: int) -> Any:
        """The input of the layer's ``index``-th call (a shared layer).

        Args:
            index: Which call, in call order.

        Returns:
            Its input KerasTensor, or a list of them.
        """
        ts = self._inbound_nodes[index].inputs
        return ts[0] if len(ts) == 1 else list(ts)

    def get_output_at(self, index: int) -> Any:
        """The output of the layer's ``index``-th call (a shared layer).

        Args:
            index: Which call, in call order.

        Returns:
            Its output KerasTensor, or a list of them.
        """
        ts = self._inbound_nodes[index].outputs
        return ts[0] if len(ts) == 1 else list(ts)

    # -------------------------------------------------------------- configuration
    _config_keys: tuple[str, ...] = ()

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (Keras' ``get_config()``).

        Returns:
            A dict of the constructor arguments (name, trainable, dtype and the
            layer's own); ``from_config`` makes an equal layer from it.
        """
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        for k in self._config_keys:
            cfg[k] = getattr(self, k)
        return cfg

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """A new layer from a configuration (Keras' ``from_config``).

        Args:
            config: What ``get_config()`` returned.

        Returns:
            The layer (unbuilt: it has no weights until called).
        """
        return cls(**config)

    def build(self, input_shape: Any = None) -> None:
        """Keras' explicit build: unavailable for a lone layer (weights exist in a model).

        Args:
            input_shape: The input shape Keras would build for (unused).

        Raises:
            NotImplementedError: Always; call the layer on ``keras.Input()``
                and make a Model instead.
        """
        raise unsupported("%s.build() outside a model" % self.class_name,
                          "call the layer on keras.Input() and make a Model")


class InputLayer(Layer):
    """The layer behind ``keras.Input``.

    Args:
        shape: The input's shape without the batch axis (an int for a vector);
            required unless ``batch_shape`` is given.
        batch_size: A fixed batch size (default None: any).
        dtype: "float32" (default) or an integer dtype for token ids (int32).
        sparse: Sparse inputs: a true value raises NotImplementedError.
        ragged: Ragged inputs: a true value raises NotImplementedError.
        batch_shape: The shape with the batch axis, instead of ``shape`` and
            ``batch_size``.
        input_tensor: An existing tensor to wrap: raises NotImplementedError.
        optional: Optional inputs: True raises NotImplementedError.
        name: The layer's name (default "input_layer", numbered).
        **kwargs: ``input_shape`` (ignored, Keras' legacy name); others raise
            ValueError.

    Raises:
        ValueError: Neither ``shape`` nor ``batch_shape`` is given.
        NotImplementedError: A rank other than (steps,) token ids,
            (steps, features) sequences or (features,) vectors, or integer
            inputs of another rank than (steps,).
    """

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 sparse: bool | None = None, ragged: bool | None = None,
                 batch_shape: Sequence[int | None] | None = None, input_tensor: Any = None,
                 optional: bool = False, name: str | None = None, **kwargs: Any) -> None:
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

    def get_config(self) -> dict[str, Any]:
        """The input's configuration: batch_shape, dtype and name.

        Returns:
            The dict ``from_config`` reads.
        """
        return {"batch_shape": self.batch_shape, "dtype": self._in_dtype, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InputLayer:
        """A new InputLayer from ``get_config()``'s dict.

        Args:
            config: The configuration (batch_shape, dtype, name).

        Returns:
            The layer, with a new input tensor.
        """
        return cls(batch_shape=tuple(config["batch_shape"]), dtype=config["dtype"],
                   name=config["name"])

    def _c_build(self, b, node, refs, state_refs):
        shape = self.batch_shape[1:]
        return b.m.input(shape=shape, dtype=self._in_dtype)


def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,
          sparse: bool | None = None, ragged: bool | None = None,
          batch_shape: Sequence[int | None] | None = None, name: str | None = None,
          tensor: Any = None, optional: bool = False) -> KerasTensor:
    """A symbolic model input, as ``keras.Input``: ``shape`` without the batch axis,
    e.g. ``(None,)`` with ``dtype="int32"`` for token ids, ``(None, features)`` for
    float sequences, ``(features,)`` for vectors.

    Args:
        shape: The shape without the batch axis; None for a dimension of any
            size (the steps of a sequence).
        batch_size: A fixed batch size (default None: any).
        dtype: "float32" (default), or an integer dtype ("int32", "int64", ...)
            for token ids, which librnn reads as int32.
        sparse: A true value raises NotImplementedError.
        ragged: A true value raises NotImplementedError.
        batch_shape: The shape with the batch axis, instead of ``shape``.
        name: The input layer's name (default "input_layer", numbered).
        tensor: An existing tensor to wrap: raises NotImplementedError.
        optional: True raises NotImplementedError.

    Returns:
        The KerasTensor to call layers on and to give ``keras.Model(inputs=...)``.

    Raises:
        ValueError: Neither ``shape`` nor ``batch_shape`` is given.
        NotImplementedError: An argument or shape outside the subset (see
            :class:`InputLayer`).
    """
    if tensor is not None:
        refuse_arg("Input", "tensor", tensor)
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, optional=optional, name=name)
    return layer._in_tensor


def keras_getattr(module: str, keras_names: str) -> Callable[[str], Any]:
    """A module ``__getattr__``: Keras 3 names outside the subset raise
    NotImplementedError naming them; other names raise AttributeError.

    Args:
        module: The module's path under ``keras`` ("layers", "" for keras itself).
        keras_names: Keras 3's names in that module that librnn.keras lacks,
            separated by white space.

    Returns:
        The function to assign to the module's ``__getattr__``.
    """
    names = frozenset(keras_names.split())

    def __getattr__(name: str) -> NoReturn:
        if name in names:
            raise unsupported("keras.%s" % ".".join(p for p in (module, name) if p))
        raise AttributeError("module %r has no attribute %r"
                             % (".".join(p for p in ("librnn.keras", module) if p), name))

    return __getattr__
