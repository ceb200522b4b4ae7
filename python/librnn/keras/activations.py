# SPDX-License-Identifier: Apache-2.0
"""``keras.activations``: the activations librnn's layers compute (linear, tanh,
relu, sigmoid, softmax and log_softmax over the last axis). Layers take them by name or as these
functions; the functions also work on numpy arrays. Other Keras activations
(gelu, elu, selu, swish, ...) raise NotImplementedError."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

from ._base import unsupported

__all__ = ["linear", "tanh", "relu", "sigmoid", "softmax", "log_softmax", "get", "serialize",
           "deserialize"]


def linear(x: npt.ArrayLike) -> np.ndarray:
    """The identity (no activation).

    Args:
        x: An array.

    Returns:
        ``x`` as a numpy array.
    """
    return np.asarray(x)


def tanh(x: npt.ArrayLike) -> np.ndarray:
    """The hyperbolic tangent.

    Args:
        x: An array.

    Returns:
        tanh(x), elementwise.
    """
    return np.tanh(x)


def relu(x: npt.ArrayLike, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> np.ndarray:
    """The rectified linear unit, max(x, 0).

    Args:
        x: An array.
        negative_slope: Must be 0 (leaky ReLU; else NotImplementedError).
        max_value: Must be None (a cap; else NotImplementedError).
        threshold: Must be 0 (else NotImplementedError).

    Returns:
        max(x, 0), elementwise.
    """
    if negative_slope or max_value is not None or threshold:
        raise unsupported("relu(negative_slope, max_value, threshold)")
    return np.maximum(x, 0)


def sigmoid(x: npt.ArrayLike) -> np.ndarray:
    """The logistic sigmoid, 1 / (1 + exp(-x)).

    Args:
        x: An array.

    Returns:
        sigmoid(x), elementwise.
    """
    x = np.asarray(x)
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: npt.ArrayLike, axis: int = -1) -> np.ndarray:
    """The softmax, exp(x) / sum(exp(x)) along ``axis``. Layers compute it over
    the last axis only.

    Args:
        x: An array.
        axis: The axis to normalise over.

    Returns:
        The probabilities, of x's shape.
    """
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: npt.ArrayLike, axis: int = -1) -> np.ndarray:
    """The log-softmax, x - log(sum(exp(x))) along ``axis``, computed as
    x - max - log(sum(exp(x - max))). Layers compute it over the last axis only.

    Args:
        x: An array.
        axis: The axis to normalise over.

    Returns:
        The log-probabilities, of x's shape.
    """
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


_BY_NAME: dict[str, Callable[..., np.ndarray]] = {
    "linear": linear, "tanh": tanh, "relu": relu, "sigmoid": sigmoid, "softmax": softmax,
    "log_softmax": log_softmax}

# Keras 3's other activation names: refused by name, and as attributes
KERAS_OTHERS = ("celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid",
                "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid",
                "mish", "relu6", "selu", "silu", "soft_shrink", "softplus",
                "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
                "swish", "tanh_shrink", "threshold")


def name_of(activation: Any, what: str) -> str:
    """The name librnn knows for ``activation`` (None, a name or a function).

    Args:
        activation: None (linear), a name, one of this module's functions, or
            the function of the same name from keras, tensorflow or numpy.
        what: The argument being resolved (e.g. "Dense(activation)"), for the
            error message.

    Returns:
        "linear", "tanh", "relu", "sigmoid", "softmax" or "log_softmax".

    Raises:
        NotImplementedError: Any other activation.
    """
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        key = activation.lower()
        if key in _BY_NAME:
            return key
    elif callable(activation):
        name = getattr(activation, "__name__", "")
        if _BY_NAME.get(name) is activation:
            return name
        # the same activation from another module (keras, tf.nn, torch, numpy...)
        mod = getattr(activation, "__module__", "") or ""
        if name in _BY_NAME and mod.split(".")[0] in ("keras", "tensorflow", "numpy"):
            return name
    shown = getattr(activation, "__name__", activation)
    if what.endswith(")"):   # "Dense(activation)" -> "Dense(activation='gelu')"
        what = "%s=%r)" % (what[:-1], shown)
    else:
        what = "%s=%r" % (what, shown)
    raise unsupported(what, "librnn has linear, tanh, relu, sigmoid, softmax and log_softmax")


def get(identifier: Any) -> Callable[..., np.ndarray]:
    """The activation function for a name or function (Keras' ``activations.get``).

    Args:
        identifier: None (linear), a name or a function.

    Returns:
        This module's function.

    Raises:
        NotImplementedError: An activation librnn lacks.
    """
    if identifier is None:
        return linear
    return _BY_NAME[name_of(identifier, "activation")]


def serialize(activation: Any) -> str:
    """An activation's name.

    Args:
        activation: A name or function.

    Returns:
        Its name.

    Raises:
        NotImplementedError: An activation librnn lacks.
    """
    return name_of(activation, "activation")


def deserialize(config: Any) -> Callable[..., np.ndarray]:
    """The activation function for a serialized activation (its name).

    Args:
        config: The name.

    Returns:
        This module's function.
    """
    return get(config)


def __getattr__(name: str) -> Any:
    if name in KERAS_OTHERS:
        raise unsupported("keras.activations.%s" % name)
    raise AttributeError("module 'librnn.keras.activations' has no attribute %r" % name)
