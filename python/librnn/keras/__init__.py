# SPDX-License-Identifier: Apache-2.0
"""librnn.keras: a Keras 3 compatible subset over librnn.

A training script that uses only the names covered here runs unchanged when
``import keras`` is replaced by ``from librnn import keras`` (or
``import librnn.keras as keras``)::

    from librnn import keras
    from librnn.keras import layers

    model = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(10000, 64, mask_zero=True),
        layers.Bidirectional(layers.LSTM(64)),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[keras.metrics.BinaryAccuracy()])
    model.summary()
    history = model.fit(x, y, batch_size=32, epochs=3, validation_split=0.2)

Covered: Sequential, Model (functional API, several inputs and outputs, shared
layers), Input, the layers in ``keras.layers``, the optimizers, losses and
metrics librnn computes, callbacks, summary, weights in Keras' layout, save and
load_model (librnn's file format). Anything else raises NotImplementedError
naming it; see python/README.md.
"""
from __future__ import annotations

from .._version import __version__
from . import (activations, backend, callbacks, initializers, layers, losses, metrics, models,
               optimizers, preprocessing, utils)
from ._base import Input, KerasTensor, Layer
from ._base import keras_getattr as _keras_getattr
from .initializers import Initializer
from .losses import Loss
from .metrics import Metric
from .models import Model, Sequential
from .optimizers import Optimizer
from .utils import set_random_seed

__all__ = ["Input", "Initializer", "KerasTensor", "Layer", "Loss", "Metric", "Model",
           "Optimizer", "Sequential", "activations", "backend", "callbacks", "initializers",
           "layers", "losses", "metrics", "models", "optimizers", "preprocessing",
           "set_random_seed", "utils", "version", "__version__"]


def version() -> str:
    """librnn's version (what ``keras.version()`` returns for Keras).

    Returns:
        The version string of the librnn Python package.
    """
    return __version__


__getattr__ = _keras_getattr("", """
    DTypePolicy FloatDTypePolicy Function InputSpec Operation Quantizer Regularizer RematScope
    StatelessScope SymbolicScope Variable applications config constraints datasets device
    distillation distribution dtype_policies export legacy mixed_precision name_scope ops
    quantizers random regularizers remat saving src tree visualization wrappers""")
