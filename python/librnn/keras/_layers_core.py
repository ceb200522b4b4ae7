# SPDX-License-Identifier: Apache-2.0
"""Core layers: Embedding, Dense, TimeDistributed, Dropout, SpatialDropout1D,
Activation, Conv1D, MaxPooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D,
Flatten, RepeatVector, Concatenate, LayerNormalization."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import activations as _act
from . import initializers as _init
from ._base import Layer, check_defaults, concatenate_mask, embedding_mask, refuse_arg, unsupported

__all__ = ["Embedding", "Dense", "TimeDistributed", "Dropout", "SpatialDropout1D", "Activation",
           "Conv1D", "MaxPooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D", "Flatten",
           "RepeatVector", "Concatenate", "LayerNormalization"]


def _int1(v, cls, arg):
    """An int from an int or a 1-tuple (Keras' Conv1D/pooling sizes)."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError("%s: %s must be an int or a tuple of 1 int (got %r)" % (cls, arg, v))
        v = v[0]
    return int(v)


def _channels_last(cls, data_format):
    if data_format not in (None, "channels_last"):
        refuse_arg(cls, "data_format", data_format, "librnn's sequences are (batch, steps, "
                                                    "features)")


def _features(t, cls):
    f = t.shape[-1]
    if f is None:
        raise ValueError("%s: the last dimension of the input must be known (got shape %s)"
                         % (cls, t.shape))
    return f


def _float_input(t, cls, ranks):
    if t.dtype != "float32":
        raise unsupported("%s on integer input" % cls, "token ids go to an Embedding first")
    if len(t.shape) not in ranks:
        raise unsupported("%s on inputs of shape %s" % (cls, t.shape),
                          "librnn layers take (batch, features) or (batch, steps, features)")


class _Initialized(Layer):
    """A layer whose weights have Keras initializers (self._inits, aligned with the
    weight list); those the C library cannot draw are drawn with numpy at build."""

    _inits: list[Any]

    def _c_init(self, init):
        return init.c_code if init is not None else None

    def _numpy_init(self, c):
        inits = getattr(self, "_inits", None)
        if not inits or all(i is None or i.c_code for i in inits):
            return None
        w = self._c_weights(c)
        for k, (init, (_, shape, _)) in enumerate(zip(inits, self._weight_shapes)):
            if init is not None and not init.c_code:
                w[k] = init(shape)
        return w


class Embedding(_Initialized):
    """``keras.layers.Embedding``: token ids (batch, steps) to vectors. ``mask_zero``:
    id 0 is right padding (librnn computes per-sample lengths from it).

    Its input must be an int32 ``(batch, steps)`` model input (a ``keras.Input``
    with an integer dtype); other inputs raise NotImplementedError.

    Args:
        input_dim: The vocabulary size (largest id + 1).
        output_dim: The size of each vector.
        embeddings_initializer: Initializer of the ``embeddings`` matrix (name,
            object or config; default "uniform", U(-0.05, 0.05)). A
            ``keras.initializers.Constant(matrix)`` loads pretrained vectors.
        embeddings_regularizer: Must be None (else NotImplementedError).
        embeddings_constraint: Must be None (else NotImplementedError).
        mask_zero: Whether id 0 is padding to be masked. Keras masks every 0;
            librnn masks trailing padding (per-sample lengths), and fit,
            evaluate and predict raise NotImplementedError on data with a 0
            before a later token (pad with ``padding="post"``).
        weights: Initial weights, ``[matrix of shape (input_dim, output_dim)]``
            (Keras 2's way of loading pretrained vectors).
        lora_rank: Must be None (LoRA; else NotImplementedError).
        lora_alpha: Must be None (else NotImplementedError).
        quantization_config: Must be None (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`); ``input_length``
            is ignored as in Keras 3, ``sparse=True`` raises NotImplementedError.

    Raises:
        ValueError: ``weights`` is not one array of shape (input_dim, output_dim).
    """

    _config_keys = ("input_dim", "output_dim", "mask_zero")

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Sequence[Any] | None = None,
                 lora_rank: int | None = None, lora_alpha: float | None = None,
                 quantization_config: Any = None, **kwargs: Any) -> None:
        kwargs.pop("input_length", None)  # Keras 3 ignores it too
        kwargs.pop("sparse", None) if not kwargs.get("sparse") else refuse_arg(
            "Embedding", "sparse", kwargs["sparse"])
        check_defaults("Embedding", dict(embeddings_regularizer=embeddings_regularizer,
                                         embeddings_constraint=embeddings_constraint,
                                         lora_rank=lora_rank, lora_alpha=lora_alpha,
                                         quantization_config=quantization_config),
                       dict(embeddings_regularizer=None, embeddings_constraint=None,
                            lora_rank=None, lora_alpha=None, quantization_config=None))
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.mask_zero = bool(mask_zero)
        init = _init.get(embeddings_initializer, "Embedding(embeddings_initializer)")
        if isinstance(init, _init.RandomUniform) and (init.minval, init.maxval, init.seed) == (
                -0.05, 0.05, None):
            init = None  # the C library's own U(-0.05, 0.05)
        self.embeddings_initializer = init
        self._inits = [init]
        if weights is not None:
            self._pending = [np.asarray(w, np.float32) for w in weights]
            shape = (self.input_dim, self.output_dim)
            if len(self._pending) != 1 or self._pending[0].shape != shape:
                raise ValueError("Embedding(weights=...) must be [array of shape %s] (got %s)"
                                 % (shape, [w.shape for w in self._pending]))

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (Keras' ``get_config()``).

        Returns:
            input_dim, output_dim, mask_zero and embeddings_initializer (None
            for the default, drawn by the C library) besides name, trainable
            and dtype.
        """
        cfg = super().get_config()
        cfg["embeddings_initializer"] = (None if self.embeddings_initializer is None
                                         else _init.serialize(self.embeddings_initializer))
        return cfg

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Embedding:
        """A new Embedding from ``get_config()``'s dict.

        Args:
            config: The configuration.

        Returns:
            The layer (unbuilt).
        """
        config = dict(config)
        if config.get("embeddings_initializer") is None:
            config.pop("embeddings_initializer", None)
        return cls(**config)

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        if t.dtype != "int32" or len(t.shape) != 2:
            raise unsupported("Embedding on input %s (%s)" % (t.shape, t.dtype),
                              "librnn's Embedding reads an int32 (batch, steps) model input")
        return [(t.shape + (self.output_dim,), "float32", self.mask_zero)], True

    def _compute_weight_shapes(self, ins):
        return [("embeddings", (self.input_dim, self.output_dim), True)]

    def _set_output_masks(self, node):
        if self.mask_zero:
            ids = node.inputs[0]
            node.outputs[0]._keras_mask = embedding_mask(ids)
            node.outputs[0]._mask_key = ids.name

    def _c_build(self, b, node, refs, state_refs):
        return b.m.embedding(self.input_dim, self.output_dim, mask_zero=self.mask_zero,
                             trainable=self.trainable, on=refs[0])

    def _c_weights(self, c):
        return [c.get_param("embeddings")]

    def _c_set_weights(self, c, weights):
        c.set_param("embeddings", weights[0])


class Dense(_Initialized):
    """``keras.layers.Dense`` on vectors, or on every step of a sequence:
    ``activation(x @ kernel + bias)`` over the last axis.

    Args:
        units: The output size (a positive int).
        activation: None or "linear", "tanh", "relu", "sigmoid", "softmax",
            "log_softmax" (or those functions); other activations raise
            NotImplementedError.
        use_bias: Whether the layer adds a bias vector.
        kernel_initializer: Initializer of ``kernel`` (default "glorot_uniform").
        bias_initializer: Initializer of ``bias`` (default "zeros").
        kernel_regularizer: Must be None (else NotImplementedError).
        bias_regularizer: Must be None (else NotImplementedError).
        activity_regularizer: Must be None (else NotImplementedError).
        kernel_constraint: Must be None (else NotImplementedError).
        bias_constraint: Must be None (else NotImplementedError).
        lora_rank: Must be None (else NotImplementedError).
        lora_alpha: Must be None (else NotImplementedError).
        quantization_config: Must be None (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).

    Raises:
        ValueError: ``units`` is not positive.
    """

    _config_keys = ("units", "use_bias")
    kernel_initializer: Any
    bias_initializer: Any

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, quantization_config: Any = None,
                 **kwargs: Any) -> None:
        check_defaults("Dense", dict(kernel_regularizer=kernel_regularizer,
                                     bias_regularizer=bias_regularizer,
                                     kernel_constraint=kernel_constraint,
                                     bias_constraint=bias_constraint, lora_rank=lora_rank,
                                     lora_alpha=lora_alpha,
                                     quantization_config=quantization_config),
                       dict.fromkeys(("kernel_regularizer", "bias_regularizer",
                                      "kernel_constraint", "bias_constraint", "lora_rank",
                                      "lora_alpha", "quantization_config")))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             "integer. Received: units=%r" % (units,))
        self.activation = _act.name_of(activation, "Dense(activation)")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _init.get(kernel_initializer, "Dense(kernel_initializer)")
        self.bias_initializer = _init.get(bias_initializer, "Dense(bias_initializer)")
        self._inits = [self.kernel_initializer] + ([self.bias_initializer] if use_bias else [])

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (Keras' ``get_config()``).

        Returns:
            units, use_bias, activation (its name) and the initializers
            (serialized) besides name, trainable and dtype.
        """
        cfg = super().get_config()
        cfg.update(activation=self.activation,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer))
        return cfg

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (2, 3))
        _features(t, self.class_name)
        return [(t.shape[:-1] + (self.units,), "float32", t._masked)], True

    def _compute_weight_shapes(self, ins):
        f = _features(ins[0], self.class_name)
        out = [("kernel", (f, self.units), True)]
        if self.use_bias:
            out.append(("bias", (self.units,), True))
        return out

    def _c_build(self, b, node, refs, state_refs):
        return b.m.dense(self.units, activation=self.activation, use_bias=self.use_bias,
                         kernel_initializer=self._c_init(self.kernel_initializer) or None,
                         bias_initializer=self._c_init(self.bias_initializer) or None,
                         on=refs[0])


class TimeDistributed(Layer):
    """``keras.layers.TimeDistributed(Dense(...))``: the Dense on every step (librnn's
    Dense on a sequence). Other wrapped layers are outside the subset.

    Args:
        layer: The Dense layer to apply to every step; any other layer raises
            NotImplementedError.
        **kwargs: The base layer arguments (see :class:`Layer`).
    """

    _takes_mask = True

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Dense):
            raise unsupported("TimeDistributed(%s)" % getattr(layer, "class_name",
                                                              type(layer).__name__),
                              "librnn.keras wraps Dense only")
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration, with the wrapped layer's.

        Returns:
            name, trainable, dtype and ``layer``: ``{"class_name", "config"}``.
        """
        cfg = super().get_config()
        cfg["layer"] = {"class_name": self.layer.class_name, "config": self.layer.get_config()}
        return cfg

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        """A new TimeDistributed (and wrapped layer) from ``get_config()``'s dict.

        Args:
            config: The configuration.

        Returns:
            The layer (unbuilt).
        """
        config = dict(config)
        from . import layers
        inner = config.pop("layer")
        return cls(layers.deserialize(inner), **config)

    @property
    def trainable(self) -> bool:
        """Whether training updates the wrapped layer's weights (settable)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        Layer.trainable.fset(self, value)  # type: ignore[attr-defined]

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        if len(t.shape) != 3:
            raise ValueError("TimeDistributed needs an input of rank 3 (batch, steps, "
                             "features) (got shape %s)" % (t.shape,))
        return self.layer._output_specs(ins, states, call_args)

    def _compute_weight_shapes(self, ins):
        return self.layer._compute_weight_shapes(ins)

    def _c_build(self, b, node, refs, state_refs):
        return Dense._c_build(self.layer, b, node, refs, state_refs)

    def _numpy_init(self, c):
        self.layer._weight_shapes = self._weight_shapes
        return self.layer._numpy_init(c)


class Dropout(Layer):
    """``keras.layers.Dropout(rate)``: zeroes a fraction ``rate`` of the inputs
    during fit (scaling the rest by 1 / (1 - rate)); identity in predict/evaluate.

    Args:
        rate: The fraction of inputs to drop, in [0, 1].
        noise_shape: Must be None (else NotImplementedError; SpatialDropout1D
            drops whole features).
        seed: Kept in the configuration; the masks come from the model's C
            generator (seeded from Python's, see ``keras.utils.set_random_seed``),
            so the masks differ from Keras' for the same seed.
        **kwargs: The base layer arguments (see :class:`Layer`).

    Raises:
        ValueError: ``rate`` is outside [0, 1].
    """

    _config_keys = ("rate", "seed")

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        if noise_shape is not None:
            refuse_arg("Dropout", "noise_shape", noise_shape,
                       "use SpatialDropout1D for one mask per feature")
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             "value between 0 and 1. Received: rate=%r" % (rate,))
        self.rate, self.seed, self.noise_shape = float(rate), seed, None

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (2, 3))
        return [(t.shape, t.dtype, t._masked)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.dropout(self.rate, on=refs[0])


class SpatialDropout1D(Dropout):
    """``keras.layers.SpatialDropout1D(rate)``: whole features dropped per sample
    (the same features at every step), on (batch, steps, features) sequences.

    Args:
        rate: The fraction of features to drop, in [0, 1].
        seed: Kept in the configuration (see :class:`Dropout`).
        name: The layer's name.
        dtype: Only float32 (else NotImplementedError).
        **kwargs: The other base layer arguments (see :class:`Layer`).
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (3,))
        return [(t.shape, t.dtype, t._masked)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.spatial_dropout1d(self.rate, on=refs[0])


class Activation(Layer):
    """``keras.layers.Activation``: linear, tanh, relu, sigmoid, softmax or log_softmax.

    Args:
        activation: The activation's name or function; others raise
            NotImplementedError.
        **kwargs: The base layer arguments (see :class:`Layer`).
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = _act.name_of(activation, "Activation(activation)")

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (Keras' ``get_config()``).

        Returns:
            activation (its name) besides name, trainable and dtype.
        """
        cfg = super().get_config()
        cfg["activation"] = self.activation
        return cfg

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (2, 3))
        return [(t.shape, t.dtype, t._masked)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.activation(self.activation, on=refs[0])


def _conv_steps(T, span, strides, padding):
    if T is None:
        return None
    if padding == "same":
        return -(-T // strides)
    out = (T - span) // strides + 1
    if out < 1:
        raise ValueError("the input has %d steps, fewer than the window (%d) with "
                         "padding='valid'" % (T, span))
    return out


class Conv1D(_Initialized):
    """``keras.layers.Conv1D`` over time, padding "valid" or "same", on
    (batch, steps, features) sequences.

    A mask reaching Conv1D is dropped by Keras (it convolves the padding too);
    librnn keeps each sample's length, and warns that results at padded steps
    differ from Keras'.

    Args:
        filters: The number of output features.
        kernel_size: The window length (an int or a 1-tuple).
        strides: The step between windows (an int or a 1-tuple).
        padding: "valid" (no padding) or "same" (output steps = ceil(steps /
            strides)); "causal" raises NotImplementedError.
        data_format: None or "channels_last" (else NotImplementedError).
        dilation_rate: The spacing of the window's taps (an int or a 1-tuple);
            cannot be combined with strides > 1.
        groups: Must be 1 (else NotImplementedError).
        activation: None or "linear", "tanh", "relu", "sigmoid", "softmax",
            "log_softmax".
        use_bias: Whether the layer adds a bias vector.
        kernel_initializer: Initializer of ``kernel`` (kernel_size, features,
            filters) (default "glorot_uniform").
        bias_initializer: Initializer of ``bias`` (default "zeros").
        kernel_regularizer: Must be None (else NotImplementedError).
        bias_regularizer: Must be None (else NotImplementedError).
        activity_regularizer: Must be None (else NotImplementedError).
        kernel_constraint: Must be None (else NotImplementedError).
        bias_constraint: Must be None (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).

    Raises:
        ValueError: An unknown padding, or strides > 1 with dilation_rate > 1.
    """

    _supports_masking = False

    _config_keys = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "use_bias")
    kernel_initializer: Any
    bias_initializer: Any
    _drops_mask = True

    def __init__(self, filters: int, kernel_size: int | Sequence[int],
                 strides: int | Sequence[int] = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 groups: int = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        _channels_last("Conv1D", data_format)
        check_defaults("Conv1D", dict(groups=groups, kernel_regularizer=kernel_regularizer,
                                      bias_regularizer=bias_regularizer,
                                      kernel_constraint=kernel_constraint,
                                      bias_constraint=bias_constraint),
                       dict(groups=1, kernel_regularizer=None, bias_regularizer=None,
                            kernel_constraint=None, bias_constraint=None))
        padding = padding.lower()
        if padding == "causal":
            refuse_arg("Conv1D", "padding", padding, "librnn has 'valid' and 'same'")
        if padding not in ("valid", "same"):
            raise ValueError("Invalid padding %r" % (padding,))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        self.kernel_size = _int1(kernel_size, "Conv1D", "kernel_size")
        self.strides = _int1(strides, "Conv1D", "strides")
        self.dilation_rate = _int1(dilation_rate, "Conv1D", "dilation_rate")
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError("`strides > 1` not supported in conjunction with "
                             "`dilation_rate > 1`")
        self.padding = padding
        self.activation = _act.name_of(activation, "Conv1D(activation)")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _init.get(kernel_initializer, "Conv1D(kernel_initializer)")
        self.bias_initializer = _init.get(bias_initializer, "Conv1D(bias_initializer)")
        self._inits = [self.kernel_initializer] + ([self.bias_initializer] if use_bias else [])

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (Keras' ``get_config()``).

        Returns:
            filters, kernel_size, strides, padding, dilation_rate, use_bias,
            activation and the initializers besides name, trainable and dtype.
        """
        cfg = super().get_config()
        cfg.update(activation=self.activation,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer))
        return cfg

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (3,))
        span = self.dilation_rate * (self.kernel_size - 1) + 1
        steps = _conv_steps(t.shape[1], span, self.strides, self.padding)
        return [((t.shape[0], steps, self.filters), "float32", False)], True

    def _compute_weight_shapes(self, ins):
        f = _features(ins[0], self.class_name)
        out = [("kernel", (self.kernel_size, f, self.filters), True)]
        if self.use_bias:
            out.append(("bias", (self.filters,), True))
        return out

    def _c_build(self, b, node, refs, state_refs):
        return b.m.conv1d(self.filters, self.kernel_size, strides=self.strides,
                          padding=self.padding, dilation_rate=self.dilation_rate,
                          activation=self.activation, use_bias=self.use_bias,
                          kernel_initializer=self._c_init(self.kernel_initializer) or None,
                          bias_initializer=self._c_init(self.bias_initializer) or None,
                          on=refs[0])


class MaxPooling1D(Layer):
    """``keras.layers.MaxPooling1D(pool_size, strides, padding)``: the maximum over
    windows of steps, on (batch, steps, features) sequences.

    Args:
        pool_size: The window length (an int or a 1-tuple).
        strides: The step between windows (default: ``pool_size``).
        padding: "valid" or "same".
        data_format: None or "channels_last" (else NotImplementedError).
        name: The layer's name.
        **kwargs: The other base layer arguments (see :class:`Layer`).

    Raises:
        ValueError: An unknown padding.
    """

    _supports_masking = False

    _config_keys = ("pool_size", "strides", "padding")
    _drops_mask = True

    def __init__(self, pool_size: int | Sequence[int] = 2,
                 strides: int | Sequence[int] | None = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        _channels_last("MaxPooling1D", data_format)
        super().__init__(name=name, **kwargs)
        self.pool_size = _int1(pool_size, "MaxPooling1D", "pool_size")
        self.strides = self.pool_size if strides is None else _int1(strides, "MaxPooling1D",
                                                                   "strides")
        self.padding = padding.lower()
        if self.padding not in ("valid", "same"):
            raise ValueError("Invalid padding %r" % (padding,))

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (3,))
        steps = _conv_steps(t.shape[1], self.pool_size, self.strides, self.padding)
        return [((t.shape[0], steps, t.shape[2]), "float32", False)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.max_pooling1d(self.pool_size, strides=self.strides, padding=self.padding,
                                 on=refs[0])


class _GlobalPooling1D(Layer):
    _pooling: str | None = None

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        _channels_last(self.class_name, data_format)
        if keepdims:
            refuse_arg(self.class_name, "keepdims", keepdims)
        super().__init__(**kwargs)
        self.data_format, self.keepdims = "channels_last", False

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (3,))
        return [((t.shape[0], t.shape[2]), "float32", False)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.global_pooling(self._pooling, on=refs[0])


class GlobalMaxPooling1D(_GlobalPooling1D):
    """``keras.layers.GlobalMaxPooling1D``: the maximum over each sample's steps,
    (batch, steps, features) to (batch, features).

    Keras drops a mask here (its maximum includes padded steps); librnn takes
    each sample's real steps only, and warns that results then differ.

    Args:
        data_format: None or "channels_last" (else NotImplementedError).
        keepdims: Must be False (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).
    """
    _pooling = "max"
    _drops_mask = True
    _supports_masking = False


class GlobalAveragePooling1D(_GlobalPooling1D):
    """``keras.layers.GlobalAveragePooling1D``: the mean over each sample's real
    steps (those a mask keeps), (batch, steps, features) to (batch, features).

    Args:
        data_format: None or "channels_last" (else NotImplementedError).
        keepdims: Must be False (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).
    """
    _pooling = "average"
    _takes_mask = True
    _supports_masking = False


class Flatten(Layer):
    """``keras.layers.Flatten`` of a sequence with a fixed number of steps:
    (batch, steps, features) to (batch, steps * features). A sequence of any
    number of steps raises NotImplementedError.

    Args:
        data_format: None or "channels_last" (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).
    """

    _supports_masking = False

    _drops_mask = True

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        _channels_last("Flatten", data_format)
        super().__init__(**kwargs)

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (3,))
        if t.shape[1] is None:
            raise unsupported("Flatten of a sequence with any number of steps %s" % (t.shape,),
                              "declare the steps in keras.Input(shape=(steps, ...))")
        return [((t.shape[0], t.shape[1] * t.shape[2]), "float32", False)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.flatten(on=refs[0])


class RepeatVector(Layer):
    """``keras.layers.RepeatVector(n)``: (batch, features) to (batch, n, features).

    Args:
        n: The number of repetitions (steps of the output).
        **kwargs: The base layer arguments (see :class:`Layer`).
    """

    _supports_masking = False

    _config_keys = ("n",)

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = int(n)

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (2,))
        return [((t.shape[0], self.n, t.shape[1]), "float32", False)], True

    def _c_build(self, b, node, refs, state_refs):
        return b.m.repeat_vector(self.n, on=refs[0])


class Concatenate(Layer):
    """``keras.layers.Concatenate()`` along the last axis, of 2 to 9 inputs of
    the same shape but for that axis. Inputs with different masks raise
    NotImplementedError (Keras keeps a step any input keeps, librnn one all keep).

    Args:
        axis: The axis: -1 or the last one's index (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).
    """

    _config_keys = ("axis",)

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def _parse_call(self, inputs, **kwargs):
        if kwargs:
            raise TypeError("Concatenate() got unexpected arguments %s" % sorted(kwargs))
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError("A `Concatenate` layer should be called on a list of at least 1 "
                             "input. Received: input_shape=%r" % (inputs,))
        if len(inputs) > 9:
            raise unsupported("Concatenate of %d inputs" % len(inputs), "at most 9")
        return list(inputs), [], {}

    def _output_specs(self, ins, states, call_args):
        rank = len(ins[0].shape)
        if self.axis not in (-1, rank - 1):
            refuse_arg("Concatenate", "axis", self.axis, "librnn concatenates features "
                                                         "(the last axis)")
        for t in ins:
            _float_input(t, self.class_name, (2, 3))
            if len(t.shape) != rank or t.shape[1:-1] != ins[0].shape[1:-1]:
                raise ValueError("A `Concatenate` layer requires inputs with matching shapes "
                                 "except for the concatenation axis. Received: input_shape=%s"
                                 % [x.shape for x in ins])
        keys = {t._mask_key if t._keras_mask is not None else None for t in ins}
        lengths = {t._masked for t in ins}
        if len(keys) > 1 or len(lengths) > 1:
            raise unsupported("Concatenate of inputs with different masks",
                              "Keras 3 keeps a step when any input keeps it, librnn when all "
                              "of them do")
        feats = [t.shape[-1] for t in ins]
        f = None if None in feats else sum(feats)
        return [(ins[0].shape[:-1] + (f,), "float32", any(t._masked for t in ins))], True

    def _set_output_masks(self, node):
        mask = concatenate_mask(node.inputs)
        if mask is not None:
            node.outputs[0]._keras_mask = mask
            node.outputs[0]._mask_key = node.inputs[0]._mask_key

    def _c_build(self, b, node, refs, state_refs):
        return b.m.concatenate(*refs)


class LayerNormalization(_Initialized):
    """``keras.layers.LayerNormalization`` over the last axis:
    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta`` per sample and step.

    Args:
        axis: -1 or the last axis' index (else NotImplementedError).
        epsilon: Added to the variance.
        center: Whether to add the learned offset ``beta``.
        scale: Whether to multiply by the learned ``gamma``.
        beta_initializer: Initializer of ``beta`` (default "zeros").
        gamma_initializer: Initializer of ``gamma`` (default "ones").
        beta_regularizer: Must be None (else NotImplementedError).
        gamma_regularizer: Must be None (else NotImplementedError).
        beta_constraint: Must be None (else NotImplementedError).
        gamma_constraint: Must be None (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`);
            ``rms_scaling=True`` raises NotImplementedError.
    """

    _config_keys = ("axis", "epsilon", "center", "scale")

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        if kwargs.get("rms_scaling"):
            refuse_arg("LayerNormalization", "rms_scaling", kwargs["rms_scaling"])
        kwargs.pop("rms_scaling", None)
        check_defaults("LayerNormalization",
                       dict(beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                            beta_constraint=beta_constraint, gamma_constraint=gamma_constraint),
                       dict.fromkeys(("beta_regularizer", "gamma_regularizer", "beta_constraint",
                                      "gamma_constraint")))
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = _init.get(beta_initializer, "LayerNormalization(beta_initializer)")
        self.gamma_initializer = _init.get(gamma_initializer,
                                           "LayerNormalization(gamma_initializer)")
        # the C library starts gamma at one and beta at zero
        self._inits = ([None if isinstance(self.gamma_initializer, _init.Ones)
                        else self.gamma_initializer] if scale else []) + \
                      ([None if isinstance(self.beta_initializer, _init.Zeros)
                        else self.beta_initializer] if center else [])
        self._inits = [i if i is None or not i.c_code else _ForceNumpy(i) for i in self._inits]

    def _output_specs(self, ins, states, call_args):
        t = ins[0]
        _float_input(t, self.class_name, (2, 3))
        if self.axis not in (-1, len(t.shape) - 1) and self.axis != [-1]:
            refuse_arg("LayerNormalization", "axis", self.axis, "librnn normalizes the last "
                                                                "axis")
        return [(t.shape, "float32", t._masked)], True

    def _compute_weight_shapes(self, ins):
        f = _features(ins[0], self.class_name)
        out = []
        if self.scale:
            out.append(("gamma", (f,), True))
        if self.center:
            out.append(("beta", (f,), True))
        return out

    def _c_build(self, b, node, refs, state_refs):
        return b.m.layer_normalization(epsilon=self.epsilon, center=self.center,
                                       scale=self.scale, on=refs[0])


class _ForceNumpy:
    """An initializer the C library could draw, but not for this parameter."""

    c_code = None

    def __init__(self, init: Any) -> None:
        self.init = init

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        return self.init(shape)
