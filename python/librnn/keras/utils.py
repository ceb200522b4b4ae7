# SPDX-License-Identifier: Apache-2.0
"""``keras.utils``: set_random_seed, to_categorical, pad_sequences, Progbar,
PyDataset (and its alias Sequence), clear_session. (Note: librnn's Embedding(mask_zero=True) masks right padding:
use ``pad_sequences(..., padding="post")`` with it.)"""
from __future__ import annotations

import random
import typing
from typing import Any

import numpy as np

from ._base import clear_session
from ._base import keras_getattr as _keras_getattr
from ._datasets import PyDataset
from ._progbar import Progbar

__all__ = ["set_random_seed", "to_categorical", "pad_sequences", "Progbar", "PyDataset",
           "Sequence", "clear_session", "get_source_inputs", "is_keras_tensor"]

#: Keras 3's old name of PyDataset.
Sequence = PyDataset


def set_random_seed(seed: int) -> None:
    """Seeds Python's and numpy's generators, from which librnn.keras seeds each
    model's C generator (weights, dropout) and each epoch's shuffle: the same
    seed, script and thread count give the same results (not Keras' numbers).

    Args:
        seed: An int.

    Raises:
        ValueError: ``seed`` is not an int.
    """
    if not isinstance(seed, int):
        raise ValueError("Expected `seed` argument to be an integer. Received: seed=%r"
                         % (seed,))
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot float32 vectors of integer class ids (a new last axis).

    Args:
        x: Class ids (a trailing axis of 1 is dropped first, as Keras).
        num_classes: The number of classes (default: the largest id + 1).

    Returns:
        A float32 array of x's shape plus (num_classes,).
    """
    x = np.array(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(np.max(x)) + 1
    out = np.zeros((x.shape[0], num_classes), np.float32)
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(shape + (num_classes,))


def pad_sequences(sequences: typing.Sequence[Any], maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pads sequences to one length, as Keras' pad_sequences (padding and truncating
    "pre" or "post").

    Args:
        sequences: A list of sequences (lists or arrays of ids or vectors).
        maxlen: The length (default: the longest sequence's).
        dtype: The output's dtype.
        padding: "pre" or "post": where the padding goes. librnn's
            ``Embedding(mask_zero=True)`` needs "post".
        truncating: "pre" or "post": which end of a longer sequence is cut.
        value: The padding value.

    Returns:
        An array of shape (len(sequences), maxlen) plus the samples' shape.

    Raises:
        ValueError: Non-iterable samples, samples of different shapes, an
            unknown padding or truncating, or a string value with a numeric dtype.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    sample_shape: tuple[Any, ...]
    lengths, sample_shape, flag = [], (), True
    for x in sequences:
        try:
            lengths.append(len(x))
            if flag and len(x):
                sample_shape = np.asarray(x).shape[1:]
                flag = False
        except TypeError as e:
            raise ValueError("`sequences` must be a list of iterables. Found non-iterable: %r"
                             % (x,)) from e
    if maxlen is None:
        maxlen = np.max(lengths) if lengths else 0
    is_str = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and dtype is not object and not is_str:
        raise ValueError("`dtype` %s is not compatible with `value`'s type: %s"
                         % (dtype, type(value)))
    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        if truncating == "pre":
            trunc = s[-maxlen:]
        elif truncating == "post":
            trunc = s[:maxlen]
        else:
            raise ValueError('Truncating type "%s" not understood' % truncating)
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError("Shape of sample %s of sequence at position %s is different from "
                             "expected shape %s" % (trunc.shape[1:], i, sample_shape))
        if padding == "post":
            x[i, :len(trunc)] = trunc
        elif padding == "pre":
            x[i, -len(trunc):] = trunc
        else:
            raise ValueError('Padding type "%s" not understood' % padding)
    return x


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic KerasTensor (from ``keras.Input`` or a layer call).

    Args:
        x: Any object.

    Returns:
        True for a KerasTensor.
    """
    from ._base import KerasTensor
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> list[Any]:
    """The keras.Input() tensors ``tensor`` depends on.

    Args:
        tensor: A KerasTensor.

    Returns:
        The input KerasTensors, in the order first reached.
    """
    out, stack, seen = [], [tensor], set()
    while stack:
        t = stack.pop()
        op, ni, _ = t._keras_history
        node = op._inbound_nodes[ni]
        if node.is_input:
            if id(t) not in seen:
                seen.add(id(t))
                out.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return out


__getattr__ = _keras_getattr("utils", """
    Config CustomObjectScope FeatureSpace array_to_img
    audio_dataset_from_directory bounding_boxes custom_object_scope deserialize_keras_object
    disable_interactive_logging enable_interactive_logging get_custom_objects get_file
    get_registered_name get_registered_object image_dataset_from_directory img_to_array
    is_interactive_logging_enabled legacy load_img model_to_dot normalize
    pack_x_y_sample_weight plot_model register_keras_serializable save_img
    serialize_keras_object split_dataset standardize_dtype text_dataset_from_directory
    timeseries_dataset_from_array unpack_x_y_sample_weight""")
