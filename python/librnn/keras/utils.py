# SPDX-License-Identifier: Apache-2.0
"""``keras.utils``: set_random_seed, to_categorical, pad_sequences, Progbar,
clear_session. (Note: librnn's Embedding(mask_zero=True) masks right padding:
use ``pad_sequences(..., padding="post")`` with it.)"""
import random

import numpy as np

from ._base import clear_session
from ._base import keras_getattr as _keras_getattr
from ._progbar import Progbar

__all__ = ["set_random_seed", "to_categorical", "pad_sequences", "Progbar", "clear_session",
           "get_source_inputs", "is_keras_tensor"]


def set_random_seed(seed):
    """Seeds Python's and numpy's generators, from which librnn.keras seeds each
    model's C generator (weights, dropout) and each epoch's shuffle: the same
    seed, script and thread count give the same results."""
    if not isinstance(seed, int):
        raise ValueError("Expected `seed` argument to be an integer. Received: seed=%r"
                         % (seed,))
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)


def to_categorical(x, num_classes=None):
    """One-hot float32 vectors of integer class ids (a new last axis)."""
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


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads sequences to one length, as Keras' pad_sequences (padding and truncating
    "pre" or "post")."""
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
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


def is_keras_tensor(x):
    from ._base import KerasTensor
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor):
    """The keras.Input() tensors ``tensor`` depends on."""
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
    Config CustomObjectScope FeatureSpace PyDataset Sequence array_to_img
    audio_dataset_from_directory bounding_boxes custom_object_scope deserialize_keras_object
    disable_interactive_logging enable_interactive_logging get_custom_objects get_file
    get_registered_name get_registered_object image_dataset_from_directory img_to_array
    is_interactive_logging_enabled legacy load_img model_to_dot normalize
    pack_x_y_sample_weight plot_model register_keras_serializable save_img
    serialize_keras_object split_dataset standardize_dtype text_dataset_from_directory
    timeseries_dataset_from_array unpack_x_y_sample_weight""")
