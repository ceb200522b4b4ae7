# SPDX-License-Identifier: Apache-2.0
"""Keras 3 model files through librnn-keras (``include/rnn/keras.h``).

:func:`load_keras` builds a :class:`~librnn.Model` from a real Keras 3
``.keras`` file (``model.save("x.keras")``); :func:`load_keras_weights` puts a
Keras weights file (``model.save_weights("x.weights.h5")``) into a model of
the same architecture. Both call the C library ``librnn-keras.so.0``, a
separate library that a distribution may package apart from librnn; it is
found through ``LIBRNN_KERAS_PATH`` (a file path) when set, else next to
the loaded librnn (also in its ``keras/`` build folder), else by its soname.
Layers, arguments and values librnn does not compute exactly as Keras are
refused (:class:`~librnn.RnnError`, status RNN_ERR_UNSUPPORTED) with a message
naming the layer and the argument.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any

from . import _lib
from ._lib import ModelP
from .model import Model

SONAME = "librnn-keras.so.0"
_keras_lib: Any = None


def _keras() -> Any:
    global _keras_lib
    if _keras_lib is not None:
        return _keras_lib
    S, P = _lib.STATUS, ctypes.POINTER
    h, errors = _lib.load_optional(SONAME, "LIBRNN_KERAS_PATH", "keras", "rnn-keras", {
        "rnn_model_load_keras": (S, [ctypes.c_char_p, ctypes.c_void_p, P(ModelP)]),
        "rnn_model_load_keras_weights": (S, [ModelP, ctypes.c_char_p])})
    if h is None:
        # recorded as the C library's last error, and raised as
        # RnnError(RNN_ERR_UNSUPPORTED, "librnn.load_keras: ...") like any other
        raise _lib.unsupported("librnn.load_keras", "librnn-keras is not installed (built with "
                               "meson -Dkeras, Debian package librnn-keras0); tried: "
                               + "; ".join(errors[:3]))
    _keras_lib = h
    return h


def load_keras(path: str | os.PathLike[str], seed: int = 0,
               backend: str | int = "onednn") -> Model:
    """Builds a model from a Keras 3 ``.keras`` file (``rnn_model_load_keras``).

    Args:
        path: The ``.keras`` file (``model.save("x.keras")`` in Keras 3).
        seed: Seed of the dropout masks of further training. Defaults to 0.
        backend: 'onednn' or 'reference'. Defaults to "onednn".

    Returns:
        The model with Keras' architecture and weights, not compiled: it
        predicts, and trains after :meth:`~librnn.Model.compile`.

    Raises:
        ValueError: ``backend`` is unknown.
        RnnError: RNN_ERR_UNSUPPORTED for a layer, argument or value librnn
            does not have (or librnn-keras missing), RNN_ERR_FORMAT for a
            damaged or non-Keras file, RNN_ERR_IO when it cannot be read.
    """
    k = _keras()
    o = _lib.init_struct(_lib.rnn_model_options)
    o.seed = int(seed)
    o.backend = _lib.enum(_lib.BACKENDS, backend, "backend")
    h = ModelP()
    k.rnn_model_load_keras(os.fsencode(path), ctypes.byref(o), ctypes.byref(h))
    return Model(_handle=h)


def load_keras_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Replaces a model's weights with a Keras weights file's (``rnn_model_load_keras_weights``).

    Args:
        model: A model of the Keras model's architecture (same layer classes
            in the same order).
        path: The file (``model.save_weights("x.weights.h5")`` in Keras 3).

    Raises:
        RnnError: RNN_ERR_FORMAT when an array is missing or of another shape
            (the model is then unchanged), RNN_ERR_IO when it cannot be read.
    """
    _keras().rnn_model_load_keras_weights(model.handle, os.fsencode(path))
