# SPDX-License-Identifier: Apache-2.0
"""Recurrent layers: SimpleRNN, LSTM, GRU and Bidirectional, on librnn's oneDNN
kernels. Every Keras option librnn has maps to the C option of the same name;
the rest raise NotImplementedError."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import activations as _act
from . import initializers as _init
from ._base import Layer, check_defaults, refuse_arg, unsupported, unknown_kwargs
from ._layers_core import _features

__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional"]

_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


class _RNN(Layer):
    _cell: str | None = None
    kernel_initializer: Any
    recurrent_initializer: Any
    bias_initializer: Any
    _config_keys: tuple[str, ...] = ("units", "use_bias", "dropout", "recurrent_dropout",
                                     "return_sequences", "return_state", "go_backwards",
                                     "stateful", "unroll")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, use_cudnn: Any = "auto", **kwargs: Any) -> None:
        cls = type(self).__name__
        check_defaults(cls, dict(kernel_regularizer=kernel_regularizer,
                                 recurrent_regularizer=recurrent_regularizer,
                                 bias_regularizer=bias_regularizer,
                                 kernel_constraint=kernel_constraint,
                                 recurrent_constraint=recurrent_constraint,
                                 bias_constraint=bias_constraint),
                       dict.fromkeys(("kernel_regularizer", "recurrent_regularizer",
                                      "bias_regularizer", "kernel_constraint",
                                      "recurrent_constraint", "bias_constraint")))
        if kwargs.pop("time_major", False):
            refuse_arg(cls, "time_major", True)
        if kwargs.get("zero_output_for_mask"):
            refuse_arg(cls, "zero_output_for_mask", True)
        kwargs.pop("zero_output_for_mask", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             "positive integer, got %r." % (units,))
        self.activation = _act.name_of(activation, "%s(activation)" % cls)
        allowed = ("tanh", "relu") if self._cell == "simple_rnn" else ("tanh",)
        if self.activation not in allowed:
            refuse_arg(cls, "activation", activation, "librnn's %s uses %s"
                       % (cls, " or ".join(allowed)))
        if self._cell != "simple_rnn":
            if _act.name_of(recurrent_activation, "%s(recurrent_activation)" % cls) != "sigmoid":
                refuse_arg(cls, "recurrent_activation", recurrent_activation,
                           "librnn's gates are sigmoid")
        self.recurrent_activation = "sigmoid"
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _init.get(kernel_initializer, "%s(kernel_initializer)" % cls)
        self.recurrent_initializer = _init.get(recurrent_initializer,
                                               "%s(recurrent_initializer)" % cls)
        self.bias_initializer = _init.get(bias_initializer, "%s(bias_initializer)" % cls)
        self.unit_forget_bias = bool(unit_forget_bias)
        for arg, v in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= v < 1:
                raise ValueError("%s: %s must be in [0, 1) (got %r)" % (cls, arg, v))
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        self.unroll = bool(unroll)            # a speed option in Keras: same results
        self.reset_after = bool(reset_after)
        self.use_cudnn = use_cudnn            # a speed option in Keras: same results

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (Keras' ``get_config()``).

        Returns:
            units, use_bias, the dropouts, return_sequences, return_state,
            go_backwards, stateful, unroll, the activations, initializers
            (serialized) and seed, besides name, trainable and dtype (LSTM adds
            unit_forget_bias, GRU reset_after).
        """
        cfg = super().get_config()
        cfg.update(activation=self.activation, recurrent_activation=self.recurrent_activation,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   recurrent_initializer=_init.serialize(self.recurrent_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer), seed=self.seed)
        return cfg

    def _first_arg(self):
        return "sequences"

    # ------------------------------------------------------------------ shapes
    @property
    def _n_states(self):
        return 2 if self._cell == "lstm" else 1

    _directions = 1

    def _parse_call(self, inputs, initial_state=None, **kwargs):
        if kwargs:
            raise TypeError("%s() got unexpected arguments %s" % (self.class_name,
                                                                sorted(kwargs)))
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError("%s takes one sequence input (got %d)"
                                 % (self.class_name, len(inputs)))
            inputs = inputs[0]
        states = []
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else \
                [initial_state]
            want = self._n_states * self._directions
            if len(states) != want:
                raise ValueError("%s expects %d initial states (got %d)"
                                 % (self.class_name, want, len(states)))
            if inputs._masked and (self._directions == 2 or self._rnn().go_backwards):
                raise unsupported("%s on a masked sequence with initial_state" % self.class_name,
                                  "Keras does not pass the mask to a recurrent layer called "
                                  "with initial states; librnn honours it, which changes "
                                  "results when the layer runs backwards")
            for s in states:
                if s.dtype != "float32" or len(s.shape) != 2 or s.shape[1] != self._units():
                    raise ValueError("%s: an initial state must be (batch, %d) float32 "
                                     "(got %s %s)" % (self.class_name, self._units(), s.shape,
                                                      s.dtype))
        return [inputs], states, {}

    _takes_mask = True

    def _set_output_masks(self, node):
        t = node.inputs[0]
        if self._rnn().return_sequences and t._keras_mask is not None:
            node.outputs[0]._keras_mask = t._keras_mask
            node.outputs[0]._mask_key = t._mask_key

    def _units(self):
        return self.units

    def _rnn(self):
        return self

    def _out_features(self):
        return self.units

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        if t.dtype != "float32" or len(t.shape) != 3:
            raise ValueError("Input %s of layer '%s' is incompatible: a recurrent layer "
                             "takes (batch, steps, features) float32 sequences"
                             % (t.shape, self.name))
        _features(t, self.class_name)
        r = self._rnn()
        n = t.shape[0]
        if r.return_sequences:
            out = [((n, t.shape[1], self._out_features()), "float32", t._masked)]
        else:
            out = [((n, self._out_features()), "float32", False)]
        if r.return_state:
            out += [((n, r.units), "float32", False)] * (self._n_states * self._directions)
        return out, len(out) == 1

    def _cell_weight_shapes(self, f):
        g, u = _GATES[self._cell], self.units
        out = [("kernel", (f, g * u), True), ("recurrent_kernel", (u, g * u), True)]
        if self.use_bias:
            bias = (2, 3 * u) if self._cell == "gru" and self.reset_after else (g * u,)
            out.append(("bias", bias, True))
        return out

    def _compute_weight_shapes(self, ins):
        return self._cell_weight_shapes(_features(ins[0], self.class_name))

    # ------------------------------------------------------------------ C
    def _c_options(self):
        def code(init):
            return init.c_code or None
        opts = dict(activation=self.activation, use_bias=self.use_bias,
                    return_sequences=self.return_sequences, return_state=self.return_state,
                    go_backwards=self.go_backwards, stateful=self.stateful,
                    dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
                    kernel_initializer=code(self.kernel_initializer),
                    recurrent_initializer=code(self.recurrent_initializer),
                    bias_initializer=code(self.bias_initializer))
        if self._cell == "lstm":
            opts["unit_forget_bias"] = self.unit_forget_bias
        if self._cell == "gru":
            opts["reset_after"] = self.reset_after
        return opts

    def _c_build(self, b, node, refs, state_refs):
        return b.m.recurrent(self._cell, self.units, on=refs[0], **self._c_options())

    def _c_connect(self, b, c, node, refs, state_refs):
        if state_refs:
            if self._rnn().stateful:
                raise unsupported("initial_state= on a stateful %s" % self.class_name)
            c.connect_initial_state(state_refs)

    def _numpy_weights(self, shapes):
        """Keras-layout weights of one direction, or None where the C library
        initialised them (entries None)."""
        inits = [self.kernel_initializer, self.recurrent_initializer]
        out = []
        for init, (_, shape, _) in zip(inits, shapes):
            out.append(None if init.c_code else init(shape))
        if self.use_bias:
            shape = shapes[2][1]
            init = self.bias_initializer
            if init.c_code:
                out.append(None)
            elif self._cell == "lstm" and self.unit_forget_bias:
                u = self.units
                out.append(np.concatenate([init((u,)), np.ones(u, np.float32),
                                           init((2 * u,))]).astype(np.float32))
            else:
                out.append(init(shape))
        return out

    def _numpy_init(self, c):
        n = len(self._weight_shapes) // self._directions
        new = []
        for d in range(self._directions):
            new += self._rnn()._numpy_weights(self._weight_shapes[d * n:(d + 1) * n])
        if all(w is None for w in new):
            return None
        cur = self._c_weights(c)
        return [c_w if w is None else w for c_w, w in zip(cur, new)]

    def reset_states(self, states: Any = None) -> None:
        """Zeroes the carried states of a stateful layer (every model using it).

        Args:
            states: Values to set the states to: must be None (setting them
                raises NotImplementedError).
        """
        if states is not None:
            raise unsupported("%s.reset_states(states)" % self.class_name)
        for c in list(self._c_layers.values()):
            from .._lib import lib
            lib.rnn_layer_reset_states(c.handle)

    reset_state = reset_states


class SimpleRNN(_RNN):
    """``keras.layers.SimpleRNN`` (tanh or relu): ``h = activation(x @ kernel +
    h @ recurrent_kernel + bias)`` per step.

    Called as ``layer(sequences, initial_state=None)``: ``sequences`` a
    (batch, steps, features) float32 KerasTensor, ``initial_state`` a list of
    (batch, units) KerasTensors (one). On masked sequences
    (``Embedding(mask_zero=True)``) each sample stops at its length, and the
    outputs at padded steps are zeros (Keras repeats the last output).
    Calling the layer a second time shares its weights.

    Args:
        units: The size of the state (and of the output per step).
        activation: "tanh" (default) or "relu"; others raise NotImplementedError.
        use_bias: Whether the layer has a bias vector.
        kernel_initializer: Initializer of ``kernel`` (input weights; default
            "glorot_uniform").
        recurrent_initializer: Initializer of ``recurrent_kernel`` (default
            "orthogonal").
        bias_initializer: Initializer of ``bias`` (default "zeros").
        kernel_regularizer: Must be None (else NotImplementedError).
        recurrent_regularizer: Must be None (else NotImplementedError).
        bias_regularizer: Must be None (else NotImplementedError).
        activity_regularizer: Must be None (else NotImplementedError).
        kernel_constraint: Must be None (else NotImplementedError).
        recurrent_constraint: Must be None (else NotImplementedError).
        bias_constraint: Must be None (else NotImplementedError).
        dropout: Fraction of the inputs dropped during fit, in [0, 1) (one mask
            per sample for all steps, as Keras).
        recurrent_dropout: Fraction of the recurrent state dropped during fit,
            in [0, 1).
        seed: Kept in the configuration; dropout masks come from the model's C
            generator (seeded from Python's), not from this seed.
        return_sequences: Whether to return the output of every step
            (batch, steps, units) rather than the last (batch, units).
        return_state: Whether to return the final states too: the output,
            then the last state.
        go_backwards: Whether to run over the steps in reverse (and, with
            return_sequences, return the outputs in that reversed order).
        stateful: Whether each batch starts from the previous batch's final
            states (reset with ``reset_states()``).
        unroll: Accepted and ignored (a speed option in Keras; same results).
        **kwargs: The base layer arguments (see :class:`Layer`);
            ``time_major=True`` and ``zero_output_for_mask=True`` raise
            NotImplementedError.

    Raises:
        ValueError: ``units`` is not positive, or a dropout is outside [0, 1).
    """
    _cell = "simple_rnn"

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll, seed=seed, **kwargs)


class LSTM(_RNN):
    """``keras.layers.LSTM`` (gates i, f, c, o in Keras' weight layout;
    unit_forget_bias).

    Called as ``layer(sequences, initial_state=None)``: ``sequences`` a
    (batch, steps, features) float32 KerasTensor, ``initial_state`` a list of
    (batch, units) KerasTensors (two: h, c). On masked sequences
    (``Embedding(mask_zero=True)``) each sample stops at its length, and the
    outputs at padded steps are zeros (Keras repeats the last output).
    Calling the layer a second time shares its weights.

    Args:
        units: The size of the state (and of the output per step).
        activation: The candidate and output activation: "tanh" only (else
            NotImplementedError).
        recurrent_activation: The gates' activation: "sigmoid" only (else
            NotImplementedError).
        use_bias: Whether the layer has a bias vector.
        kernel_initializer: Initializer of ``kernel`` (input weights; default
            "glorot_uniform").
        recurrent_initializer: Initializer of ``recurrent_kernel`` (default
            "orthogonal").
        bias_initializer: Initializer of ``bias`` (default "zeros").
        unit_forget_bias: Whether the forget gate's bias starts at ones (the
            other gates' from ``bias_initializer``), as Keras does.
        kernel_regularizer: Must be None (else NotImplementedError).
        recurrent_regularizer: Must be None (else NotImplementedError).
        bias_regularizer: Must be None (else NotImplementedError).
        activity_regularizer: Must be None (else NotImplementedError).
        kernel_constraint: Must be None (else NotImplementedError).
        recurrent_constraint: Must be None (else NotImplementedError).
        bias_constraint: Must be None (else NotImplementedError).
        dropout: Fraction of the inputs dropped during fit, in [0, 1) (one mask
            per sample for all steps, as Keras).
        recurrent_dropout: Fraction of the recurrent state dropped during fit,
            in [0, 1).
        seed: Kept in the configuration; dropout masks come from the model's C
            generator (seeded from Python's), not from this seed.
        return_sequences: Whether to return the output of every step
            (batch, steps, units) rather than the last (batch, units).
        return_state: Whether to return the final states too: the output,
            then the hidden state h and the cell state c.
        go_backwards: Whether to run over the steps in reverse (and, with
            return_sequences, return the outputs in that reversed order).
        stateful: Whether each batch starts from the previous batch's final
            states (reset with ``reset_states()``).
        unroll: Accepted and ignored (a speed option in Keras; same results).
        use_cudnn: Accepted and ignored (a speed option in Keras).
        **kwargs: The base layer arguments (see :class:`Layer`);
            ``time_major=True`` and ``zero_output_for_mask=True`` raise
            NotImplementedError.

    Raises:
        ValueError: ``units`` is not positive, or a dropout is outside [0, 1).
    """
    _cell = "lstm"
    _config_keys = _RNN._config_keys + ("unit_forget_bias",)

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 use_cudnn: Any = "auto", **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                         kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed,
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         use_cudnn=use_cudnn, **kwargs)


class GRU(_RNN):
    """``keras.layers.GRU`` (gates z, r, h in Keras' weight layout; reset_after
    True as Keras 3's default).

    Called as ``layer(sequences, initial_state=None)``: ``sequences`` a
    (batch, steps, features) float32 KerasTensor, ``initial_state`` a list of
    (batch, units) KerasTensors (one). On masked sequences
    (``Embedding(mask_zero=True)``) each sample stops at its length, and the
    outputs at padded steps are zeros (Keras repeats the last output).
    Calling the layer a second time shares its weights.

    Args:
        units: The size of the state (and of the output per step).
        activation: The candidate activation: "tanh" only (else NotImplementedError).
        recurrent_activation: The gates' activation: "sigmoid" only (else
            NotImplementedError).
        use_bias: Whether the layer has a bias vector.
        kernel_initializer: Initializer of ``kernel`` (input weights; default
            "glorot_uniform").
        recurrent_initializer: Initializer of ``recurrent_kernel`` (default
            "orthogonal").
        bias_initializer: Initializer of ``bias`` (default "zeros").
        kernel_regularizer: Must be None (else NotImplementedError).
        recurrent_regularizer: Must be None (else NotImplementedError).
        bias_regularizer: Must be None (else NotImplementedError).
        activity_regularizer: Must be None (else NotImplementedError).
        kernel_constraint: Must be None (else NotImplementedError).
        recurrent_constraint: Must be None (else NotImplementedError).
        bias_constraint: Must be None (else NotImplementedError).
        dropout: Fraction of the inputs dropped during fit, in [0, 1) (one mask
            per sample for all steps, as Keras).
        recurrent_dropout: Fraction of the recurrent state dropped during fit,
            in [0, 1).
        seed: Kept in the configuration; dropout masks come from the model's C
            generator (seeded from Python's), not from this seed.
        return_sequences: Whether to return the output of every step
            (batch, steps, units) rather than the last (batch, units).
        return_state: Whether to return the final states too: the output,
            then the last state.
        go_backwards: Whether to run over the steps in reverse (and, with
            return_sequences, return the outputs in that reversed order).
        stateful: Whether each batch starts from the previous batch's final
            states (reset with ``reset_states()``).
        unroll: Accepted and ignored (a speed option in Keras; same results).
        reset_after: Whether the reset gate applies after the recurrent
            matrix product (True, Keras 3's and cuDNN's form, with a (2, 3 * units)
            bias) or before it (False, a (3 * units,) bias).
        use_cudnn: Accepted and ignored (a speed option in Keras).
        **kwargs: The base layer arguments (see :class:`Layer`);
            ``time_major=True`` and ``zero_output_for_mask=True`` raise
            NotImplementedError.

    Raises:
        ValueError: ``units`` is not positive, or a dropout is outside [0, 1).
    """
    _cell = "gru"
    _config_keys = _RNN._config_keys + ("reset_after",)

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, use_cudnn: Any = "auto", **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed,
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         reset_after=reset_after, use_cudnn=use_cudnn, **kwargs)


_MERGE_MODES = ("concat", "sum", "mul", "ave")


class Bidirectional(_RNN):
    """``keras.layers.Bidirectional(layer, merge_mode)``: the layer's configuration
    run forward and backward (weights: forward's list, then backward's).

    The wrapped layer's options (units, return_sequences, ...) read through the
    Bidirectional, as through Keras' ``forward_layer``. With return_state the
    outputs are the merged output, then the forward states, then the backward
    states.

    Args:
        layer: The SimpleRNN, LSTM or GRU to run both ways (not itself built;
            with go_backwards=False). Other layers raise NotImplementedError.
        merge_mode: How the two directions' outputs combine: "concat"
            (default), "sum", "mul" or "ave"; None (both outputs apart) raises
            NotImplementedError.
        weights: Initial weights in Keras' order (forward's, then backward's).
        backward_layer: Must be None: both directions share ``layer``'s
            configuration (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).

    Raises:
        ValueError: An unknown merge_mode, or unknown keyword arguments.
    """

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Any = None, **kwargs: Any) -> None:
        if not isinstance(layer, _RNN) or isinstance(layer, Bidirectional):
            raise unsupported("Bidirectional(%s)" % getattr(layer, "class_name",
                                                            type(layer).__name__),
                              "librnn.keras wraps SimpleRNN, LSTM or GRU")
        if backward_layer is not None:
            refuse_arg("Bidirectional", "backward_layer", backward_layer,
                       "both directions share the configuration of `layer`")
        if merge_mode not in _MERGE_MODES:
            if merge_mode is None:
                refuse_arg("Bidirectional", "merge_mode", None,
                           "librnn merges with concat, sum, mul or ave")
            raise ValueError("Invalid merge mode. Received: %r. Merge mode should be one of "
                             "{'sum', 'mul', 'ave', 'concat', None}" % (merge_mode,))
        if layer.go_backwards:
            raise unsupported("Bidirectional of a layer with go_backwards=True")
        unknown = {k: v for k, v in kwargs.items()
                   if k not in ("name", "trainable", "dtype", "input_shape", "batch_size",
                                "input_dim", "batch_input_shape", "autocast")}
        unknown_kwargs("Bidirectional", unknown)
        Layer.__init__(self, **kwargs)
        self.layer, self.merge_mode = layer, merge_mode
        self.forward_layer, self.backward_layer = layer, layer
        self._cell = layer._cell
        if weights is not None:
            self._pending = [np.asarray(w, np.float32) for w in weights]

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration, with the wrapped layer's.

        Returns:
            name, trainable, dtype, merge_mode and ``layer``: ``{"class_name",
            "config"}``.
        """
        cfg = Layer.get_config(self)
        cfg["layer"] = {"class_name": self.layer.class_name, "config": self.layer.get_config()}
        cfg["merge_mode"] = self.merge_mode
        return cfg

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        """A new Bidirectional (and wrapped layer) from ``get_config()``'s dict.

        Args:
            config: The configuration.

        Returns:
            The layer (unbuilt).
        """
        config = dict(config)
        from . import layers
        inner = layers.deserialize(config.pop("layer"))
        return cls(inner, **config)

    def __getattr__(self, name: str) -> Any:
        # the wrapped layer's options (units, return_sequences, ...), as Keras exposes
        # them through forward_layer
        if name.startswith("_") or name in ("layer",):
            raise AttributeError(name)
        return getattr(self.layer, name)

    _directions = 2
    _config_keys: tuple[str, ...] = ()

    def _units(self):
        return self.layer.units

    def _rnn(self):
        return self.layer

    def _out_features(self):
        return self.layer.units * (2 if self.merge_mode == "concat" else 1)

    @property
    def _n_states(self):
        return self.layer._n_states

    def _compute_weight_shapes(self, ins):
        f = _features(ins[0], "Bidirectional")
        one = self.layer._cell_weight_shapes(f)
        return [("forward_" + n, s, t) for n, s, t in one] + \
               [("backward_" + n, s, t) for n, s, t in one]

    def _c_build(self, b, node, refs, state_refs):
        opts = self.layer._c_options()
        return b.m.recurrent(self.layer._cell, self.layer.units, on=refs[0], bidirectional=True,
                             merge_mode=self.merge_mode, **opts)

    def _numpy_init(self, c):
        n = len(self._weight_shapes) // 2
        new = []
        for d in range(2):
            new += self.layer._numpy_weights(self._weight_shapes[d * n:(d + 1) * n])
        if all(w is None for w in new):
            return None
        cur = self._c_weights(c)
        return [c_w if w is None else w for c_w, w in zip(cur, new)]
