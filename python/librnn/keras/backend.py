# SPDX-License-Identifier: Apache-2.0
"""``keras.backend``: what scripts commonly call (clear_session, backend(),
floatx(), epsilon())."""
from ._base import clear_session
from ._base import keras_getattr as _keras_getattr

__all__ = ["backend", "clear_session", "floatx", "epsilon", "image_data_format"]


def backend():
    """The name of the backend: "librnn"."""
    return "librnn"


def floatx():
    return "float32"


def epsilon():
    return 1e-7


def image_data_format():
    return "channels_last"


__getattr__ = _keras_getattr("backend", """
    get_uid is_float_dtype is_int_dtype is_keras_tensor result_type set_epsilon set_floatx
    set_image_data_format standardize_dtype""")
