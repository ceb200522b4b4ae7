# SPDX-License-Identifier: Apache-2.0
"""``keras.backend``: what scripts commonly call (clear_session, backend(),
floatx(), epsilon())."""
from __future__ import annotations

from ._base import clear_session
from ._base import keras_getattr as _keras_getattr

__all__ = ["backend", "clear_session", "floatx", "epsilon", "image_data_format"]


def backend() -> str:
    """The name of the backend (Keras': "tensorflow", "jax", "torch", ...).

    Returns:
        "librnn".
    """
    return "librnn"


def floatx() -> str:
    """The default float type.

    Returns:
        "float32" (librnn computes in float32; ``set_floatx`` raises
        NotImplementedError).
    """
    return "float32"


def epsilon() -> float:
    """The fuzz factor Keras adds in numeric expressions.

    Returns:
        1e-7 (the clipping of probabilities in librnn's cross-entropies).
    """
    return 1e-7


def image_data_format() -> str:
    """The layout of data with channels.

    Returns:
        "channels_last" (librnn's sequences are (batch, steps, features)).
    """
    return "channels_last"


__getattr__ = _keras_getattr("backend", """
    get_uid is_float_dtype is_int_dtype is_keras_tensor result_type set_epsilon set_floatx
    set_image_data_format standardize_dtype""")
