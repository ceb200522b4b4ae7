# SPDX-License-Identifier: Apache-2.0
"""``keras.activations``: the activations librnn's layers compute (linear, tanh,
relu, sigmoid, softmax over the last axis). Layers take them by name or as these
functions; the functions also work on numpy arrays. Other Keras activations
(gelu, elu, selu, swish, ...) raise NotImplementedError."""
import numpy as np

from ._base import unsupported

__all__ = ["linear", "tanh", "relu", "sigmoid", "softmax", "get", "serialize", "deserialize"]


def linear(x):
    return np.asarray(x)


def tanh(x):
    return np.tanh(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope or max_value is not None or threshold:
        raise unsupported("relu(negative_slope, max_value, threshold)")
    return np.maximum(x, 0)


def sigmoid(x):
    x = np.asarray(x)
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_BY_NAME = {"linear": linear, "tanh": tanh, "relu": relu, "sigmoid": sigmoid, "softmax": softmax}

# Keras 3's other activation names: refused by name, and as attributes
KERAS_OTHERS = ("celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid",
                "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid",
                "log_softmax", "mish", "relu6", "selu", "silu", "soft_shrink", "softplus",
                "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
                "swish", "tanh_shrink", "threshold")


def name_of(activation, what):
    """The name librnn knows for ``activation`` (None, a name or a function)."""
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
    raise unsupported(what, "librnn has linear, tanh, relu, sigmoid and softmax")


def get(identifier):
    if identifier is None:
        return linear
    return _BY_NAME[name_of(identifier, "activation")]


def serialize(activation):
    return name_of(activation, "activation")


def deserialize(config):
    return get(config)


def __getattr__(name):
    if name in KERAS_OTHERS:
        raise unsupported("keras.activations.%s" % name)
    raise AttributeError("module 'librnn.keras.activations' has no attribute %r" % name)
