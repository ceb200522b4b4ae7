# SPDX-License-Identifier: Apache-2.0
"""``keras.models``: Model (the functional API), Sequential, load_model.

A model is a graph of layer applications, mapped as Keras maps it (layer order,
weight order, summary); it is built lazily as one librnn C model (a Sequential
is rebuilt when layers are added). Weights live in the C model that used them
last: a layer shared by two models (an encoder in a training model and in an
inference model) carries its weights from one to the other when the other runs.
"""
from __future__ import annotations

import json
import os
import warnings

from typing import Any, Callable, Sequence

import numpy as np

from .. import model as _cmodel
from . import _graph, _summary
from . import losses as _losses
from . import optimizers as _optimizers
from ._base import InputLayer, Layer, Operation, auto_name, is_tensor, unsupported
from ._layers_core import Embedding
from ._training import Trainer

__all__ = ["Model", "Sequential", "load_model", "save_model", "clone_model",
           "model_from_json"]

META_KEY = "keras_model"
FORMAT = "librnn.keras"


def _flatten(struct, what):
    if is_tensor(struct):
        return [struct], "single", None
    if isinstance(struct, dict):
        keys = list(struct)
        return [struct[k] for k in keys], "dict", keys
    if isinstance(struct, (list, tuple)):
        flat = list(struct)
        if not all(is_tensor(t) for t in flat):
            raise unsupported("nested %s structures" % what)
        return flat, "list", None
    raise TypeError("%s must be KerasTensors from keras.Input() and layer calls (got %r)"
                    % (what, struct))


class Model(Trainer):
    """A model from ``inputs`` to ``outputs`` (Keras' functional API):
    ``keras.Model(inputs=inp, outputs=out)``. Subclassed models (a ``call``
    method) are outside the subset.

    The model is built as one librnn C model the first time it needs weights
    (fit, predict, get_weights, ...); the training methods (compile, fit,
    evaluate, predict, ...) are documented on ``Trainer``.

    Args:
        *args: ``inputs`` and ``outputs`` given by position.
        **kwargs: ``inputs``: a KerasTensor from ``keras.Input``, or a list or
            dict of them; ``outputs``: a KerasTensor made by calling layers on
            them, or a list or dict of them (a dict names the outputs for
            ``fit``'s and ``predict``'s dicts); ``name`` (default "functional",
            numbered); ``trainable`` (default True). Other names raise TypeError.

    Raises:
        NotImplementedError: No inputs or outputs (a subclassed model), nested
            structures, or inputs that are not ``keras.Input`` tensors.
        ValueError: The graph from the inputs to the outputs is disconnected,
            or two layers have the same name.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        if kwargs:
            raise TypeError("Model() got unexpected arguments %s" % sorted(kwargs))
        if inputs is None or outputs is None or type(self).call is not Model.call:
            raise unsupported("subclassed models (a keras.Model with call())",
                              "build models with keras.Sequential or keras.Model(inputs, "
                              "outputs)")
        self._init_common(name or auto_name("functional"))
        ins, self._input_struct, self._input_keys = _flatten(inputs, "inputs")
        outs, self._output_struct, self._output_keys = _flatten(outputs, "outputs")
        self._set_graph(ins, outs)
        if not trainable:
            self.trainable = False

    def call(self, *args: Any, **kwargs: Any) -> Any:  # marks "not subclassed"
        """Keras' forward pass for subclassed models: outside the subset.

        Args:
            *args: The inputs.
            **kwargs: The call's options.

        Returns:
            Never returns.

        Raises:
            NotImplementedError: Always (use ``predict``, or call the model on arrays).
        """
        raise unsupported("Model.call")

    # ------------------------------------------------------------------ graph
    def _init_common(self, name):
        self.name = name
        self._init_training()
        self._c = None
        self._primary = {}
        self._fixed = []
        self.inputs, self.outputs = [], []
        self._operations, self._nodes = [], []
        self._node_depth = {}
        self._mask_src = {}
        self._input_struct, self._input_keys = "single", None
        self._output_struct, self._output_keys = "single", None
        self._trainable = True

    def _graph_ready(self):
        return bool(self.outputs)

    def _set_graph(self, inputs, outputs):
        self.inputs, self.outputs = list(inputs), list(outputs)
        self._operations, self._nodes, self._node_depth = _graph.map_graph(self.inputs,
                                                                           self.outputs)
        names = [op.name for op in self._operations]
        for n in names:
            if names.count(n) != 1:
                raise ValueError('The name "%s" is used %d times in the model. All layer names '
                                 'should be unique.' % (n, names.count(n)))
        # which model inputs mask each tensor (Embedding(mask_zero=True) on them)
        index = {id(t): k for k, t in enumerate(self.inputs)}
        src = {}
        for node in self._nodes:
            layer = node.layer
            if isinstance(layer, Operation):
                continue
            if isinstance(layer, Embedding) and layer.mask_zero:
                s = frozenset([index[id(node.inputs[0])]]) if id(node.inputs[0]) in index \
                    else frozenset()
            else:
                s = frozenset().union(*[src.get(id(t), frozenset()) for t in node.inputs
                                        if t._masked]) if node.inputs else frozenset()
            for t in node.outputs:
                src[id(t)] = s if t._masked else frozenset()
        self._mask_src = src
        for layer in self._operations:
            layer._models.add(self)
        self._invalidate_c()
        if self.compiled:
            self._metrics_resolved = None

    def _masked_inputs(self):
        return sorted(set().union(*self._mask_src.values())) if self._mask_src else []

    def _output_mask_sources(self):
        return self._mask_src.get(id(self.outputs[0]), frozenset())

    def _nodes_in_model(self):
        return set(self._nodes)

    def _invalidate_c(self):
        self._c = None
        self._c_compiled = False
        self._primary, self._fixed = {}, []

    def _build_from_data(self, x):
        pass

    def _ensure_c(self, bind=None):
        """Builds the C model (once), compiles it if the model is compiled, and
        brings every layer's weights into it."""
        if self._c is None:
            if not self._graph_ready():
                raise ValueError("The model '%s' has not been built yet: give it a "
                                 "keras.Input() or call build()/fit() first" % self.name)
            self._c, self._primary, self._fixed = _graph.build(
                self, self.inputs, self.outputs, self._nodes, bind=bind)
            if bind is None and self.compiled:
                self._c_compile()
        self._sync()
        return self._c

    def _sync(self):
        for layer, c in self._primary.items():
            if layer._weight_shapes and layer._home is not c:
                layer._c_set_weights(c, layer._c_weights(layer._home))
                layer._home = c

    # ------------------------------------------------------------------ Keras API
    @property
    def layers(self) -> list[Layer]:
        """The model's layers (InputLayers included), in Keras' order (by depth
        from the outputs), which is also the order of ``get_weights()``."""
        return [op for op in self._operations if isinstance(op, Layer)]

    def _summary_layers(self):
        return list(self._operations)

    def _sequential_like(self):
        by_depth = {}
        for node, d in self._node_depth.items():
            by_depth.setdefault(d, []).append(node)
        for nodes in by_depth.values():
            if len(nodes) > 1 or (len(nodes) == 1 and len(nodes[0].input_tensors) > 1):
                return False
        mine = set(self._nodes)
        for layer in self._operations:
            if sum(1 for n in layer._inbound_nodes if n in mine) > 1:
                return False
        return True

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer of the model by name or by index (Keras' ``get_layer``).

        Args:
            name: The layer's name.
            index: Its position in ``layers``.

        Returns:
            The layer.

        Raises:
            ValueError: Both or neither given, no layer of that name, or an
                index out of range.
        """
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: index=%r, "
                             "name=%r." % (index, name))
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError("Was asked to retrieve layer at index %d but model only has "
                                 "%d layers." % (index, len(self.layers)))
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError("No such layer: %s. Existing layers are: %s."
                             % (name, [l.name for l in self.layers]))
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Callable[..., Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: Any = None) -> None:
        """Prints Keras 3's summary table (or passes it to ``print_fn``, once).

        Args:
            line_length: The table's width in characters (default: 88 for a
                sequential model, 108 for a functional one, at most the
                terminal's width - 4).
            positions: The right edge of each column as fractions of
                ``line_length``.
            print_fn: A function called once with the whole text (Keras calls
                it per line through rich); default: written to sys.stdout.
            expand_nested: Accepted; librnn.keras models hold no nested models.
            show_trainable: Whether to add a "Trainable" column.
            layer_range: Must be None (else NotImplementedError).
        """
        if layer_range is not None:
            raise unsupported("summary(layer_range=...)")
        text = _summary.summary_text(self, line_length, positions, show_trainable)
        if print_fn is not None:
            print_fn(text)
        else:
            import sys
            sys.stdout.write(text)
            sys.stdout.flush()

    def _param_counts(self):
        trainable = non = 0
        for layer in self._summary_layers():
            if not layer._weight_shapes:
                continue
            for w in layer.weights:
                n = int(np.prod(w.shape))
                if w.trainable:
                    trainable += n
                else:
                    non += n
        return trainable, non

    def _optimizer_param_count(self, trainable):
        if not self.compiled or self.optimizer is None or not self.optimizer.built:
            return None
        return self.optimizer._variable_count(trainable)

    def count_params(self) -> int:
        """The number of weight values of all the layers (Keras' ``count_params()``).

        Returns:
            The number of scalars.

        Raises:
            ValueError: The model is not built (a Sequential without input).
        """
        if not self._graph_ready():
            raise ValueError("You tried to call `count_params` on model '%s', but the model "
                             "isn't built." % self.name)
        return sum(layer.count_params() for layer in self.layers)

    @property
    def weights(self) -> list[Any]:
        """Every layer's weights as Variables, in ``get_weights()``'s order."""
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[Any]:
        """The weights training updates."""
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Any]:
        """The weights training leaves alone (those of non-trainable layers)."""
        return [w for w in self.weights if not w.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Every layer's weights, in Keras' order and layout.

        Returns:
            One float32 array per weight (builds the C model if needed).
        """
        self._ensure_c()
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replaces every layer's weights (Keras' order and layout).

        Args:
            weights: One array per weight, as ``get_weights()`` returns them.

        Raises:
            ValueError: The number of arrays, or a shape, differs.
        """
        weights = list(weights)
        self._ensure_c()
        expected = sum(len(l._weight_shapes or []) for l in self.layers)
        if len(weights) != expected:
            raise ValueError("You called `set_weights(weights)` on model '%s' with a weight list "
                             "of length %d, but the model was expecting %d weights."
                             % (self.name, len(weights), expected))
        for layer in self.layers:
            n = len(layer._weight_shapes or [])
            if n:
                layer.set_weights(weights[:n])
                weights = weights[n:]

    @property
    def trainable(self) -> bool:
        """Whether training updates the model's weights; setting it sets every
        layer's ``trainable``."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self.layers:
            if not isinstance(layer, InputLayer):
                layer.trainable = value

    @property
    def input(self) -> Any:
        """The input KerasTensor (a list for several inputs)."""
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self) -> Any:
        """The output KerasTensor (a list for several outputs)."""
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    @property
    def input_shape(self) -> Any:
        """The input's shape with the batch axis (a list for several inputs)."""
        s = [t.shape for t in self.inputs]
        return s[0] if len(s) == 1 else s

    @property
    def output_shape(self) -> Any:
        """The output's shape with the batch axis (a list for several outputs)."""
        s = [t.shape for t in self.outputs]
        return s[0] if len(s) == 1 else s

    @property
    def built(self) -> bool:
        """Whether the model's graph is known (a Sequential has an input)."""
        return self._graph_ready()

    def reset_states(self) -> None:
        """Zeroes the carried states of the model's stateful recurrent layers."""
        self._ensure_c()
        self._c.reset_states()

    reset_state = reset_states

    def __repr__(self) -> str:
        return "<%s name=%s, built=%s>" % (type(self).__name__ if type(self) is not Model
                                            else "Functional", self.name, self.built)

    # ------------------------------------------------------------------ saving
    def _describe(self):
        nodes = sorted((n for n in self._nodes if not isinstance(n.layer, Operation)),
                       key=lambda n: n.serial)
        index = {n: i for i, n in enumerate(nodes)}

        def ref(t):
            op, ni, ti = t._keras_history
            return [index[op._inbound_nodes[ni]], ti]

        layers, seen = [], set()
        for n in nodes:
            if n.layer in seen:
                continue
            seen.add(n.layer)
            layers.append({"class_name": n.layer.class_name, "config": n.layer.get_config()})
        return {
            "format": FORMAT, "version": 1, "name": self.name,
            "class_name": "Sequential" if isinstance(self, Sequential) else "Functional",
            "trainable": self.trainable, "layers": layers,
            "nodes": [{"layer": n.layer.name, "inputs": [ref(t) for t in n.inputs],
                       "states": [ref(t) for t in n.states], "call_args": n.call_args}
                      for n in nodes],
            "inputs": [ref(t) for t in self.inputs], "outputs": [ref(t) for t in self.outputs],
            "input_struct": [self._input_struct, self._input_keys],
            "output_struct": [self._output_struct, self._output_keys],
        }

    def get_config(self) -> dict[str, Any]:
        """The model's architecture (librnn.keras' description, not Keras' format).

        Returns:
            A JSON-compatible dict (layers with their configurations, the nodes
            connecting them, inputs and outputs) that ``from_config`` reads.
        """
        return self._describe()

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Model:
        """A new model (new layers, new weights) from ``get_config()``'s dict.

        Args:
            config: The description.
            custom_objects: Ignored (custom layers are outside the subset).

        Returns:
            The model: a Sequential or a functional Model, as described.

        Raises:
            ValueError: ``config`` is not a librnn.keras model description.
        """
        return _from_description(config)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON (``get_config()``'s dict).

        Args:
            **kwargs: Passed to ``json.dumps`` (e.g. ``indent``).

        Returns:
            The JSON text; ``keras.models.model_from_json`` reads it.
        """
        return json.dumps(self._describe(), **kwargs)

    def save(self, filepath: str | os.PathLike[str], overwrite: bool = True,
             zipped: bool | None = None, **kwargs: Any) -> None:
        """Saves the model, its weights and (when compiled) its compile configuration
        and optimizer state in librnn's model file (safetensors; the Keras model
        as JSON metadata). keras.models.load_model reads it back.

        Keras cannot read the file; a path ending in ``.keras`` or
        ``.weights.h5`` is written in librnn's format with a warning.

        Args:
            filepath: The file to write (e.g. "model.rnn").
            overwrite: Whether to replace an existing file; False over an
                existing file raises NotImplementedError (Keras asks).
            zipped: Ignored (librnn's file is not a zip archive).
            **kwargs: ``include_optimizer`` (default True: the optimizer's state
                is saved when the model is compiled); others raise ValueError.

        Raises:
            NotImplementedError: A ``.h5``/``.hdf5`` path (Keras' legacy format).
        """
        include_optimizer = kwargs.pop("include_optimizer", True)
        if kwargs:
            raise ValueError("The following argument(s) are not supported: %s"
                             % sorted(kwargs))
        path = _check_path(filepath, overwrite)
        self._ensure_c()
        desc = self._describe()
        if self.compiled and self._loss_obj is not None:
            desc["compile"] = {"optimizer": _optimizers.serialize(self.optimizer),
                               "loss": _losses.serialize(self._loss_obj),
                               "metrics": list(self._metric_names)}
        self._c.set_metadata(META_KEY, json.dumps(desc))
        self._c.save(path, include_optimizer=bool(include_optimizer and self._c_compiled))

    def save_weights(self, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
        """Saves the weights (librnn's model file; load_weights reads it).

        Args:
            filepath: The file to write.
            overwrite: Whether to replace an existing file (False over one
                raises NotImplementedError).
        """
        self.save(filepath, overwrite=overwrite, include_optimizer=False)

    def load_weights(self, filepath: str | os.PathLike[str], skip_mismatch: bool = False,
                     **kwargs: Any) -> None:
        """Loads weights saved by ``save_weights`` or ``save`` into this model.

        Args:
            filepath: A file written by librnn.keras.
            skip_mismatch: Must be False (else NotImplementedError).
            **kwargs: Ignored.

        Raises:
            ValueError: The file's weights do not match the model's.
        """
        if skip_mismatch:
            raise unsupported("load_weights(skip_mismatch=True)")
        other = load_model(filepath, compile=False)
        self.set_weights(other.get_weights())


class Sequential(Model):
    """A stack of layers, each reading the previous one's output
    (``keras.Sequential([...])``, ``.add()``, ``.pop()``). Its input comes from a
    ``keras.Input`` first, an ``input_shape=`` on the first layer, build(), or
    the first data given to fit/predict/evaluate.

    Args:
        layers: The layers, in order (a ``keras.Input`` tensor or InputLayer
            may come first).
        trainable: Whether the model's layers are trainable.
        name: The model's name (default "sequential", numbered).
    """

    def __init__(self, layers: Sequence[Any] | None = None, trainable: bool = True,
                 name: str | None = None) -> None:
        self._init_common(name or auto_name("sequential"))
        self._layers: list[Any] = []
        self._input_layer: Any = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()
        if not trainable:
            self.trainable = False

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Appends a layer (Keras' ``Sequential.add``).

        Args:
            layer: A layer, or a ``keras.Input`` tensor (first only); a model
                (nested) raises NotImplementedError.
            rebuild: Whether to rebuild the graph now (Keras' argument).

        Raises:
            ValueError: Not a layer, an input after other layers, or a
                duplicate layer name.
        """
        if is_tensor(layer):
            op = layer._keras_history[0] if layer._keras_history else None
            if not isinstance(op, InputLayer):
                raise unsupported("adding a layer's output tensor to a Sequential")
            layer = op
        if isinstance(layer, Model):
            raise unsupported("a model inside a Sequential (a nested model)",
                              "add its layers instead")
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential "
                             "model. Received: %r (of type %s)" % (layer, type(layer)))
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential model '%s' has already been configured to use "
                                 "an input; an InputLayer must be first" % self.name)
            self._input_layer = layer
        else:
            names = [l.name for l in self._layers]
            if layer.name in names:
                raise ValueError("All layers added to a Sequential model should have unique "
                                 "names. Name '%s' is already the name of a layer in this "
                                 "model." % layer.name)
            self._layers.append(layer)
        if rebuild:
            self._rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Removes the last layer (Keras' ``Sequential.pop``).

        Args:
            rebuild: Whether to rebuild the graph now.

        Returns:
            The removed layer.

        Raises:
            TypeError: The model has no layers.
        """
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        if rebuild:
            self._rebuild()
        return layer

    def _rebuild(self):
        if self._input_layer is None and self._layers and \
                self._layers[0]._batch_input_shape is not None:
            dtype = "int32" if isinstance(self._layers[0], Embedding) else "float32"
            self._input_layer = InputLayer(batch_shape=self._layers[0]._batch_input_shape,
                                           dtype=dtype)
        if self._input_layer is None or not self._layers:
            self.inputs, self.outputs = [], []
            self._operations, self._nodes, self._node_depth = [], [], {}
            self._invalidate_c()
            return
        auto_name("functional")   # Keras builds a Functional inside, which takes a name
        x = self._input_layer._in_tensor
        for layer in self._layers:
            x = layer(x)
            if isinstance(x, list):
                raise unsupported("a layer with several outputs (%s) inside a Sequential"
                                  % layer.name)
        self._set_graph([self._input_layer._in_tensor], [x])

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Declares the input shape (with the batch axis), e.g. ``(None, 100)``;
        nothing happens when the model already has an input. An Embedding
        first makes the input int32 token ids.

        Args:
            input_shape: The shape with the batch axis (None for any size).

        Raises:
            ValueError: ``input_shape`` is None.
        """
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if self._input_layer is not None:
            return
        dtype = "int32" if self._layers and isinstance(self._layers[0], Embedding) else \
            "float32"
        self._input_layer = InputLayer(batch_shape=tuple(input_shape), dtype=dtype)
        self._rebuild()

    def _build_from_data(self, x):
        if self._graph_ready():
            return
        if isinstance(x, (list, tuple)) and len(x) == 1:
            x = x[0]
        a = np.asarray(x)
        dtype = "int32" if (a.dtype.kind in "iu" or (self._layers and isinstance(
            self._layers[0], Embedding))) else "float32"
        self._input_layer = InputLayer(batch_shape=(None,) + a.shape[1:], dtype=dtype)
        self._rebuild()

    @property
    def layers(self) -> list[Layer]:
        """The layers added, in order (without the InputLayer, as Keras)."""
        return list(self._layers)

    def _summary_layers(self):
        return self.layers

    def _sequential_like(self):
        return True


# ---------------------------------------------------------------------- files

def _check_path(filepath, overwrite):
    path = os.fspath(filepath)
    low = path.lower()
    if low.endswith((".h5", ".hdf5")) and not low.endswith(".weights.h5"):
        raise unsupported("saving to %r (Keras' legacy HDF5 format)" % path,
                          "use a librnn model file (e.g. 'model.rnn')")
    if low.endswith((".keras", ".weights.h5")):
        warnings.warn("librnn.keras: '%s' is written in librnn's model file format "
                      "(safetensors with the model as JSON), not Keras': "
                      "librnn.keras.models.load_model() reads it back, Keras cannot."
                      % path, stacklevel=3)
    if not overwrite and os.path.exists(path):
        raise unsupported("save(overwrite=False) over an existing file (Keras asks whether "
                          "to overwrite)")
    return path


def _from_description(desc, bind=None):
    from . import layers as _layers
    if desc.get("format") != FORMAT:
        raise ValueError("not a librnn.keras model description")
    made = {}
    for entry in desc["layers"]:
        layer = _layers.deserialize(entry)
        made[layer.name] = layer
    tensors = []   # per node: its outputs
    for n in desc["nodes"]:
        layer = made[n["layer"]]
        if isinstance(layer, InputLayer):
            tensors.append([layer._in_tensor])
            continue
        ins = [tensors[i][k] for i, k in n["inputs"]]
        states = [tensors[i][k] for i, k in n["states"]]
        kwargs = dict(n.get("call_args") or {})
        if states:
            kwargs["initial_state"] = states
        out = layer(ins if len(ins) > 1 else ins[0], **kwargs)
        tensors.append(out if isinstance(out, list) else [out])
    ins = [tensors[i][k] for i, k in desc["inputs"]]
    outs = [tensors[i][k] for i, k in desc["outputs"]]
    if desc["class_name"] == "Sequential":
        m = Sequential.__new__(Sequential)
        m._init_common(desc["name"])
        m._layers = [made[n["layer"]] for n in desc["nodes"]
                     if not isinstance(made[n["layer"]], InputLayer)]
        m._input_layer = ins[0]._keras_history[0]
        m._set_graph(ins, outs)
    else:
        def struct(kind, keys, flat):
            if kind == "single":
                return flat[0]
            if kind == "dict":
                return dict(zip(keys, flat))
            return flat
        m = Model(struct(*desc["input_struct"], ins), struct(*desc["output_struct"], outs),
                  name=desc["name"])
    if bind is not None:
        m._ensure_c(bind=bind)
    if not desc.get("trainable", True):
        m.trainable = False
    return m


def load_model(filepath: str | os.PathLike[str], custom_objects: Any = None,
               compile: bool = True, safe_mode: bool = True) -> Model:
    """Loads a model saved by ``model.save()`` (librnn's model file), with its
    weights and, when it was compiled, its compile configuration and optimizer
    state. A real Keras 3 ``.keras`` file (a zip) is read by librnn-keras
    (:func:`librnn.load_keras`) and comes back as a :class:`librnn.Model`, not
    compiled.

    Args:
        filepath: The file ``save`` wrote.
        custom_objects: Must be empty (custom objects are outside the subset;
            else NotImplementedError).
        compile: Whether to compile the model as it was saved.
        safe_mode: Ignored (librnn's file holds no code).

    Returns:
        The model (a Sequential or a functional Model; a :class:`librnn.Model`
        for a real Keras ``.keras`` file).

    Raises:
        NotImplementedError: A Keras legacy ``.h5`` file.
        RnnError: A ``.keras`` file librnn-keras refuses (or librnn-keras is
            not installed).
        ValueError: A librnn model file not saved by librnn.keras.
    """
    path = os.fspath(filepath)
    if path.lower().endswith((".h5", ".hdf5")) and not path.lower().endswith(".weights.h5"):
        raise unsupported("loading %r (Keras' legacy HDF5 format)" % path)
    with open(path, "rb") as f:
        if f.read(2) == b"PK":
            # a real Keras 3 .keras file: librnn-keras builds a librnn.Model
            # (predict, fit, evaluate, save as the core binding's Model)
            from ..keras_files import load_keras
            if custom_objects:
                raise unsupported("load_model(custom_objects=...)")
            return load_keras(path)
    if custom_objects:
        raise unsupported("load_model(custom_objects=...)")
    cm = _cmodel.Model.load(path, seed=_graph.new_seed())
    raw = cm.get_metadata(META_KEY)
    if raw is None:
        raise ValueError("%s is a librnn model file without a Keras description (it was not "
                         "saved by librnn.keras); load it with librnn.load()" % path)
    desc = json.loads(raw)
    m = _from_description(desc, bind=cm)
    cfg = desc.get("compile")
    if compile and cfg:
        m._compile_config(_optimizers.deserialize(cfg["optimizer"]),
                          _losses.deserialize(cfg["loss"]), metrics=cfg["metrics"])
        try:
            cm.optimizer            # saved with its optimizer: keep its state
            m._c_compiled = True
            m.optimizer._built = True
        except Exception:
            m._c_compile()
    return m


def save_model(model: Model, filepath: str | os.PathLike[str], overwrite: bool = True,
               **kwargs: Any) -> None:
    """``model.save(filepath, overwrite, **kwargs)`` (Keras' function form).

    Args:
        model: The model to save.
        filepath: The file to write.
        overwrite: Whether to replace an existing file.
        **kwargs: Passed to ``Model.save``.
    """
    model.save(filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string: str, custom_objects: Any = None) -> Model:
    """A new model from ``model.to_json()``'s text (new weights).

    Args:
        json_string: The JSON text.
        custom_objects: Ignored.

    Returns:
        The model.
    """
    return _from_description(json.loads(json_string))


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None,
                call_function: Any = None, recursive: bool = False, **kwargs: Any) -> Model:
    """A model of the same architecture with new layers and newly initialised
    weights (Keras' ``clone_model``).

    Args:
        model: The model to clone.
        input_tensors: Must be None (else NotImplementedError).
        clone_function: Must be None (else NotImplementedError).
        call_function: Must be None (else NotImplementedError).
        recursive: Ignored (no nested models).
        **kwargs: Ignored.

    Returns:
        The new model.
    """
    if input_tensors is not None or clone_function is not None or call_function is not None:
        raise unsupported("clone_model(input_tensors/clone_function/call_function)")
    return _from_description(model._describe())
