# SPDX-License-Identifier: Apache-2.0
"""ONNX import and export through librnn-onnx (``librnn-onnx.so.0``), the
optional part built with ``-Donnx`` (docs/guide/interchange.md).

The library is found through ``LIBRNN_ONNX_PATH`` (a file path) when set,
else next to librnn itself (``LIBRNN_PATH``'s folder), else through the
system loader. It is loaded on first use: ``import librnn`` works without it,
and :func:`load_onnx` / :meth:`Model.save_onnx` raise ``ImportError`` when it
is missing.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any

from . import _lib
from ._lib import ModelP
from .model import Model

SONAME = "librnn-onnx.so.0"
_handle: Any = None


def _library() -> Any:
    """The loaded librnn-onnx with its three functions declared.

    Raises:
        ImportError: librnn-onnx cannot be found or loaded.
    """
    global _handle
    if _handle is not None:
        return _handle
    P = ctypes.POINTER
    S = _lib.STATUS
    h, errors = _lib.load_optional(SONAME, "LIBRNN_ONNX_PATH", "onnx", "rnn-onnx", {
        "rnn_model_load_onnx": (S, [ctypes.c_char_p, ctypes.c_void_p, P(ModelP)]),
        "rnn_model_load_onnx_memory": (S, [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                           P(ModelP)]),
        "rnn_model_save_onnx": (S, [ModelP, ctypes.c_char_p])})
    if h is None:
        why = ("cannot load %s (%s); install the Debian package librnn-onnx0, build librnn "
               "with -Donnx or set LIBRNN_ONNX_PATH"
               % (SONAME, "; ".join(errors)))
        _lib.unsupported("librnn.onnx", why)  # librnn.last_error() says it too
        raise ImportError("librnn-onnx: " + why)
    _handle = h
    return h


def load_onnx(source: str | os.PathLike[str] | bytes, seed: int = 0,
              backend: str | int = "onednn") -> Model:
    """Builds a librnn model from an ONNX model (``rnn_model_load_onnx``).

    The model is batch-major whatever the graph's layout: token ids (N, T)
    int32, sequences (N, T, F). The graph's input and output names and its
    metadata_props are in the model's metadata (``onnx.input.0``, ...). A
    graph input that the recurrent operators read as ``sequence_lens`` is
    not a model input: give its values as ``lengths`` (forward, predict,
    fit, evaluate); ``onnx.input.K.sequence_lens`` names it for input K.

    Args:
        source: The .onnx file, or its bytes.
        seed: Seed of the dropout masks of further training. Defaults to 0.
        backend: 'onednn' or 'reference'. Defaults to "onednn".

    Returns:
        The model (not compiled).

    Raises:
        ImportError: librnn-onnx is not installed.
        RnnError: The file cannot be read (RNN_ERR_IO), is not ONNX
            (RNN_ERR_FORMAT), or uses an operator, attribute or pattern librnn
            has no exact equivalent for (RNN_ERR_UNSUPPORTED; the message
            names the node).
    """
    h = _library()
    o = _lib.init_struct(_lib.rnn_model_options)
    o.seed = int(seed)
    o.backend = _lib.enum(_lib.BACKENDS, backend, "backend")
    out = ModelP()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        buf = ctypes.create_string_buffer(data, len(data))
        h.rnn_model_load_onnx_memory(buf, len(data), ctypes.byref(o), ctypes.byref(out))
    else:
        h.rnn_model_load_onnx(os.fsencode(source), ctypes.byref(o), ctypes.byref(out))
    return Model(_handle=out)


def save_onnx(model: Model, path: str | os.PathLike[str]) -> None:
    """Writes ``model`` as ONNX, opset 14 (``rnn_model_save_onnx``); see
    :meth:`Model.save_onnx`.

    Args:
        model: The model.
        path: The .onnx file, written atomically.

    Raises:
        ImportError: librnn-onnx is not installed.
        RnnError: A layer or option ONNX cannot express (RNN_ERR_UNSUPPORTED),
            or the file cannot be written (RNN_ERR_IO).
    """
    _library().rnn_model_save_onnx(model.handle, os.fsencode(path))


__all__ = ["load_onnx", "save_onnx"]
