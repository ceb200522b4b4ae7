# SPDX-License-Identifier: Apache-2.0
"""From a graph of layer applications to one librnn C model.

map_graph orders a model's layers as Keras orders ``model.layers`` (by depth from
the outputs, ties in traversal order), which is also the order of
``model.get_weights()``; build() adds one C layer per application (a second
application of a layer with weights is a C shared layer) and sets the outputs.
"""
from __future__ import annotations

import random
from typing import Any, Sequence

from .. import model as _cmodel
from ._base import Operation, unsupported


def map_graph(inputs: Sequence[Any], outputs: Sequence[Any]) -> tuple[list[Any], list[Any],
                                                                        dict[Any, int]]:
    """(operations in Keras' order, nodes in a topological order) of the graph
    from ``inputs`` to ``outputs`` (lists of KerasTensors).

    Args:
        inputs: The model's input KerasTensors (from ``keras.Input``).
        outputs: Its output KerasTensors.

    Returns:
        (operations sorted as Keras sorts ``model.layers``, the nodes in a
        topological order, each node's depth from the outputs).

    Raises:
        ValueError: A cycle, a disconnected graph, or an output not made by a layer.
        NotImplementedError: Inputs that are not ``keras.Input`` tensors.
    """
    finished: set[Any]
    in_progress: set[Any]
    ordered: list[Any]
    op_index: dict[Any, int]
    finished, in_progress, ordered, op_index = set(), set(), [], {}
    input_ids = {id(t) for t in inputs}

    def visit(t):
        op, ni, _ = t._keras_history
        node = op._inbound_nodes[ni]
        if node in finished:
            return
        if not node.is_input and id(t) in input_ids:
            raise unsupported("a model whose input %s is not a keras.Input()" % t.name)
        if node in in_progress:
            raise ValueError("Tensor %s from operation '%s' is part of a cycle."
                             % (t.name, op.name))
        op_index.setdefault(op, len(op_index))
        in_progress.add(node)
        for x in node.input_tensors:
            visit(x)
        in_progress.discard(node)
        finished.add(node)
        ordered.append(node)

    for t in outputs:
        if t._keras_history is None:
            raise ValueError("Model outputs must be outputs of layers (got %r)" % (t,))
        visit(t)
    reached = {id(t) for n in ordered for t in n.outputs}
    for n in ordered:
        for t in n.input_tensors:
            if id(t) not in reached:
                raise ValueError("Graph disconnected: cannot find parent for tensor %s at "
                                 "layer '%s'" % (t.name, n.layer.name))
    for t in inputs:
        if t._keras_history is None or not t._keras_history[0]._inbound_nodes[
                t._keras_history[1]].is_input:
            raise unsupported("model inputs other than keras.Input() tensors")
    # depths, as Keras computes them
    node_depth: dict[Any, int]
    op_depth: dict[Any, int]
    node_depth, op_depth = {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(node, 0), op_depth.get(node.layer, 0))
        op_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in finished:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in inputs:  # inputs that reach no output
        op = t._keras_history[0]
        if op not in op_depth:
            op_depth[op] = 0
            op_index[op] = -1
            ordered.insert(0, op._inbound_nodes[t._keras_history[1]])
    ops = sorted(op_depth, key=lambda op: (-op_depth[op], op_index[op]))
    return ops, ordered, node_depth


class _Builder:
    """What a layer's _c_build gets: ``b.m`` the librnn.Model being built."""

    def __init__(self, m):
        self.m = m


def new_seed() -> int:
    """A seed for a new C model or an epoch's shuffle, from Python's generator
    (which ``keras.utils.set_random_seed`` seeds).

    Returns:
        A 63-bit int.
    """
    return random.getrandbits(63)


def build(kmodel: Any, inputs: Sequence[Any], outputs: Sequence[Any], nodes: Sequence[Any],
          bind: Any = None) -> tuple[Any, dict[Any, Any], list[Any]]:
    """Builds (or, with ``bind``, a loaded librnn.Model, binds) the C model of
    ``kmodel``. Returns (librnn.Model, {layer: primary C layer}, fixed params).

    Args:
        kmodel: The librnn.keras Model.
        inputs: Its input KerasTensors.
        outputs: Its output KerasTensors.
        nodes: Its nodes in a topological order (``map_graph``'s).
        bind: None to build a new C model, or a loaded librnn.Model whose
            layers are taken in order for the nodes.

    Returns:
        (the librnn.Model, {layer: its first C layer}, [(C layer, parameter
        name, value)] of the parameters kept fixed after every step).

    Raises:
        ValueError: ``bind``'s layers do not match the description.
        NotImplementedError: A graph librnn cannot build (a non-shareable layer
            called twice, an Input not listed among the inputs, ...).
    """
    m = bind if bind is not None else _cmodel.Model(seed=new_seed())
    b = _Builder(m)
    existing = iter(m.layers) if bind is not None else None
    refs: dict[int, Any]
    primary: dict[Any, Any]
    refs, primary = {}, {}

    def take(layer):
        c = next(existing, None)
        want = layer.class_name
        if want in ("TimeDistributed",):
            want = "Dense"
        if c is None or (c.type != want and not (want == "AdditiveAttention"
                                                   and c.type == "Attention")):
            raise ValueError("the model file does not match its Keras description at layer "
                             "'%s' (%s; file: %s)" % (layer.name, layer.class_name,
                                                      c.type if c is not None else "no layer"))
        return c

    in_nodes = [t._keras_history[0]._inbound_nodes[t._keras_history[1]] for t in inputs]
    for t, node in zip(inputs, in_nodes):
        layer = node.layer
        c = take(layer) if bind is not None else layer._c_build(b, node, [], [])
        refs[id(t)] = (c, 0)
        primary.setdefault(layer, c)
    for node in nodes:
        if node in in_nodes or isinstance(node.layer, Operation):
            continue
        if node.is_input:
            raise unsupported("a model that uses keras.Input() %s without listing it in its "
                              "inputs" % node.layer.name)
        layer = node.layer
        ins = [refs[id(t)] for t in node.inputs]
        states = [refs[id(t)] for t in node.states]
        if bind is not None:
            c = take(layer)
        elif layer in primary and layer._weight_shapes:
            if not layer._c_kind_shared:
                raise unsupported("calling %s '%s' more than once in a model (a shared %s)"
                                  % (layer.class_name, layer.name, layer.class_name))
            c = m.shared(primary[layer], on=ins[0])
            layer._c_connect(b, c, node, ins, states)
        else:
            c = layer._c_build(b, node, ins, states)
            layer._c_connect(b, c, node, ins, states)
        primary.setdefault(layer, c)
        for i, t in enumerate(node.outputs):
            refs[id(t)] = (c, i)
    if bind is None:
        m.set_outputs([refs[id(t)] for t in outputs])
    elif next(existing, None) is not None:
        raise ValueError("the model file has more layers than its Keras description")

    fixed: list[Any] = []
    for layer, c in primary.items():
        for name, value in layer._c_fixed(c):
            c.set_param(name, value)
            fixed.append((c, name, value))
        if layer._weight_shapes:
            if bind is None:
                if layer._home is not None:
                    layer._c_set_weights(c, layer._c_weights(layer._home))
                elif layer._pending is not None:
                    layer._c_set_weights(c, layer._pending)
                else:
                    w = layer._numpy_init(c)
                    if w is not None:
                        layer._c_set_weights(c, w)
                layer._pending = None
            c.trainable = layer.trainable
            layer._home = c
        layer._c_layers[kmodel] = c
        layer._models.add(kmodel)
    return m, primary, fixed
