# SPDX-License-Identifier: Apache-2.0
"""Low level: loads librnn.so.0, mirrors its types, and declares every function.

Everything the C headers export (include/rnn/*.h, every ``RNN_API`` function)
is declared once, in ``FUNCTIONS`` below: argument and result types, and for
functions returning ``rnn_status`` an errcheck that raises :class:`RnnError`
with ``rnn_last_error()``'s message. ``lib`` is the loaded library with those
declarations applied; the rest of the package only calls through it.

The library is found through ``LIBRNN_PATH`` (a file path) when set, else as
``librnn.so.0`` through the system's loader paths (``LD_LIBRARY_PATH``,
ldconfig), else as whatever ``ctypes.util.find_library('rnn')`` finds.

Importing it raises ImportError when the library cannot be loaded, is of an
incompatible version, or disagrees with these declarations on a struct size.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int,
                    c_int32, c_int64, c_size_t, c_uint, c_uint32, c_uint64, c_void_p)

from typing import Any, Mapping, TypeVar

from ._version import __version__

_S = TypeVar("_S", bound=Structure)

SONAME = "librnn.so.0"

# ------------------------------------------------------------------ errors

STATUS_NAMES = {
    0: "RNN_OK", 1: "RNN_ERR_INVALID_ARG", 2: "RNN_ERR_NOMEM", 3: "RNN_ERR_SHAPE",
    4: "RNN_ERR_DTYPE", 5: "RNN_ERR_OVERFLOW", 6: "RNN_ERR_RANGE", 7: "RNN_ERR_STATE",
    8: "RNN_ERR_BACKEND", 9: "RNN_ERR_IO", 10: "RNN_ERR_FORMAT", 11: "RNN_ERR_NUMERIC",
    12: "RNN_ERR_UNSUPPORTED", 13: "RNN_ERR_INTERNAL", 14: "RNN_ERR_COLLECTIVE",
}


class RnnError(Exception):
    """A librnn call failed.

    ``status`` is the ``rnn_status`` code (an int, e.g. 3 for RNN_ERR_SHAPE),
    ``status_name`` its C name, ``message`` the text of ``rnn_last_error()``
    (it names the function, the argument and the value).
    """

    def __init__(self, status: int, message: str) -> None:
        """Makes the exception.

        Args:
            status: The ``rnn_status`` code the call returned.
            message: The text of ``rnn_last_error()`` ("" if none).
        """
        super().__init__(status, message)
        self.status = int(status)
        self.message = message

    @property
    def status_name(self) -> str:
        """The C name of :attr:`status` ("RNN_ERR_SHAPE", ...), or "unknown status N"."""
        return STATUS_NAMES.get(self.status, "unknown status %d" % self.status)

    def __str__(self) -> str:
        return "%s (%s)" % (self.message or "librnn error", self.status_name)


# ------------------------------------------------------------------ handles
# Opaque handle types: a distinct pointer type per handle, so ctypes refuses a
# model where a tensor is expected.

class rnn_tensor(Structure):
    """The opaque C type ``rnn_tensor`` (include/rnn/tensor.h); only pointers to it are used."""
    _fields_: list[Any] = []


class rnn_model(Structure):
    """The opaque C type ``rnn_model`` (include/rnn/model.h); only pointers to it are used."""
    _fields_: list[Any] = []


class rnn_layer(Structure):
    """The opaque C type ``rnn_layer`` (include/rnn/layers.h); only pointers to it are used."""
    _fields_: list[Any] = []


class rnn_optimizer(Structure):
    """The opaque C type ``rnn_optimizer`` (include/rnn/optim.h); only pointers to it are used."""
    _fields_: list[Any] = []


TensorP = POINTER(rnn_tensor)
ModelP = POINTER(rnn_model)
LayerP = POINTER(rnn_layer)
OptimizerP = POINTER(rnn_optimizer)

# ------------------------------------------------------------------ enums (values fixed forever)

F32, I32 = 1, 2
BACKENDS = {"onednn": 0, "reference": 1}
PRECISIONS = {"float32": 0, "f32": 0, "mixed_bfloat16": 1, "bf16": 1}
CELLS = {"simple_rnn": 1, "simplernn": 1, "rnn": 1, "lstm": 2, "gru": 3}
ACTIVATIONS = {None: 0, "linear": 0, "tanh": 1, "relu": 2, "sigmoid": 3, "softmax": 4,
               "log_softmax": 5}
MERGE_MODES = {"concat": 0, "sum": 1, "mul": 2, "ave": 3}
INITIALIZERS = {"glorot_uniform": 1, "orthogonal": 2, "zeros": 3, "ones": 4}
WEIGHTS_FORMATS = {"keras": 1, "pytorch": 2}
POOLINGS = {"average": 1, "avg": 1, "max": 2}
PADDINGS = {"valid": 0, "same": 1}
ATTENTION_SCORES = {"dot": 0, "luong": 0, "general": 1, "additive": 2, "bahdanau": 2}
LOSSES = {"sparse_categorical_crossentropy": 1, "categorical_crossentropy": 2,
          "binary_crossentropy": 3, "mean_squared_error": 4, "mse": 4}
REDUCTIONS = {"mean": 0, "sum_over_batch_size": 0, "masked_mean": 1}
OPTIMIZERS = {"sgd": 1, "rmsprop": 2, "adam": 3, "nadam": 4, "adamw": 5}
MONITORS = {"val_loss": 0, "val_accuracy": 1, "loss": 2, "accuracy": 3}
LR_SCHEDULES = {None: 0, "constant": 0, "exponential": 1, "step": 2, "plateau": 3}
FIT_STOPS = {0: "completed", 1: "early_stopped", 2: "callback"}
PROGRESS_BATCH, PROGRESS_EPOCH = 0, 1
DECODE_STRATEGIES = {"greedy": 0, "sample": 1, "beam": 2}
BLEU_SMOOTHINGS = {None: 0, "none": 0, "method1": 1}
LOG_LEVELS = {"error": 1, "warn": 2, "warning": 2, "info": 3, "debug": 4}
THREAD_POLICIES = {"adaptive": 0, "fixed": 1}
SAVE_OPTIMIZER = 1
MAX_RANK = 8

# ------------------------------------------------------------------ structs


class rnn_model_options(Structure):
    """The C struct ``rnn_model_options`` (include/rnn/model.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("seed", c_uint64), ("backend", c_int)]


class rnn_compile_options(Structure):
    """The C struct ``rnn_compile_options`` (include/rnn/model.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("loss", c_int), ("from_logits", c_int),
                ("reduction", c_int)]


class rnn_optimizer_options(Structure):
    """The C struct ``rnn_optimizer_options`` (include/rnn/optim.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("type", c_int), ("learning_rate", c_float),
                ("momentum", c_float), ("nesterov", c_int), ("rho", c_float),
                ("beta_1", c_float), ("beta_2", c_float), ("epsilon", c_float),
                ("weight_decay", c_float), ("clipnorm", c_float), ("clipvalue", c_float),
                ("global_clipnorm", c_float)]


class rnn_recurrent_options(Structure):
    """The C struct ``rnn_recurrent_options`` (include/rnn/layers.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("cell", c_int), ("units", c_int64),
                ("activation", c_int), ("use_bias", c_int), ("return_sequences", c_int),
                ("return_state", c_int), ("go_backwards", c_int), ("stateful", c_int),
                ("reset_after", c_int), ("unit_forget_bias", c_int), ("dropout", c_float),
                ("recurrent_dropout", c_float), ("kernel_initializer", c_int),
                ("recurrent_initializer", c_int), ("bias_initializer", c_int),
                ("bidirectional", c_int), ("merge_mode", c_int)]


class rnn_dense_options(Structure):
    """The C struct ``rnn_dense_options`` (include/rnn/layers.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("units", c_int64), ("activation", c_int),
                ("use_bias", c_int), ("kernel_initializer", c_int), ("bias_initializer", c_int)]


class rnn_embedding_options(Structure):
    """The C struct ``rnn_embedding_options`` (include/rnn/layers.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("input_dim", c_int64), ("output_dim", c_int64),
                ("mask_zero", c_int), ("trainable", c_int)]


class rnn_conv1d_options(Structure):
    """The C struct ``rnn_conv1d_options`` (include/rnn/layers.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("filters", c_int64), ("kernel_size", c_int64),
                ("strides", c_int64), ("padding", c_int), ("dilation_rate", c_int64),
                ("activation", c_int), ("use_bias", c_int), ("kernel_initializer", c_int),
                ("bias_initializer", c_int)]


class rnn_layer_normalization_options(Structure):
    """The C struct ``rnn_layer_normalization_options`` (include/rnn/layers.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("epsilon", c_float), ("center", c_int),
                ("scale", c_int)]


class rnn_attention_options(Structure):
    """The C struct ``rnn_attention_options`` (include/rnn/layers.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("score", c_int), ("units", c_int64),
                ("scale", c_int), ("kernel_initializer", c_int)]


# rnn_batch_fn(user, epoch, batch, const rnn_tensor **x, **lengths, **targets)
rnn_batch_fn = CFUNCTYPE(c_int, c_void_p, c_int, c_int64, POINTER(TensorP), POINTER(TensorP),
                         POINTER(TensorP))


class rnn_data(Structure):
    """The C struct ``rnn_data`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("x", TensorP), ("lengths", TensorP),
                ("targets", TensorP),
                ("next", rnn_batch_fn), ("user", c_void_p)]


class rnn_batch_log(Structure):
    """The C struct ``rnn_batch_log`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("epoch", c_int), ("batch", c_int64),
                ("batches", c_int64), ("samples", c_int64), ("loss", c_float),
                ("accuracy", c_float), ("learning_rate", c_float)]


class rnn_epoch_log(Structure):
    """The C struct ``rnn_epoch_log`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("epoch", c_int), ("loss", c_float),
                ("accuracy", c_float), ("perplexity", c_float), ("val_loss", c_float),
                ("val_accuracy", c_float), ("val_perplexity", c_float),
                ("learning_rate", c_float), ("seconds", c_double), ("improved", c_int),
                ("threads", c_int)]


rnn_batch_callback = CFUNCTYPE(c_int, c_void_p, POINTER(rnn_batch_log))
rnn_epoch_callback = CFUNCTYPE(c_int, c_void_p, POINTER(rnn_epoch_log))


class rnn_progress(Structure):
    """The C struct ``rnn_progress`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("phase", c_int), ("epoch", c_int),
                ("epochs", c_int), ("batch", c_int64), ("batches", c_int64),
                ("samples", c_int64), ("loss", c_float), ("accuracy", c_float),
                ("val_loss", c_float), ("val_accuracy", c_float), ("learning_rate", c_float),
                ("improved", c_int), ("elapsed", c_double), ("eta", c_double),
                ("threads", c_int)]


rnn_progress_callback = CFUNCTYPE(c_int, c_void_p, POINTER(rnn_progress))


class rnn_fit_options(Structure):
    """The C struct ``rnn_fit_options`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("batch_size", c_int64), ("epochs", c_int),
                ("shuffle", c_int), ("seed", c_uint64), ("bucket_batches", c_int),
                ("validation_split", c_float), ("validation_data", POINTER(rnn_data)),
                ("reset_states", c_int), ("monitor", c_int), ("early_stopping", c_int),
                ("patience", c_int), ("min_delta", c_float), ("restore_best_weights", c_int),
                ("checkpoint_path", c_char_p), ("lr_schedule", c_int), ("decay_rate", c_float),
                ("decay_steps", c_int64), ("staircase", c_int), ("plateau_factor", c_float),
                ("plateau_patience", c_int), ("plateau_min_delta", c_float),
                ("plateau_cooldown", c_int), ("min_lr", c_float),
                ("on_batch", rnn_batch_callback), ("on_epoch", rnn_epoch_callback),
                ("user", c_void_p), ("verbose", c_int),
                ("on_progress", rnn_progress_callback)]


class rnn_fit_result(Structure):
    """The C struct ``rnn_fit_result`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("epochs_run", c_int), ("best_epoch", c_int),
                ("best_value", c_float), ("stop", c_int), ("last", rnn_epoch_log)]


class rnn_eval_result(Structure):
    """The C struct ``rnn_eval_result`` (include/rnn/fit.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("loss", c_float), ("accuracy", c_float),
                ("perplexity", c_float), ("samples", c_int64)]


class rnn_decode_options(Structure):
    """The C struct ``rnn_decode_options`` (include/rnn/decode.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("strategy", c_int), ("token_input", c_int),
                ("output", c_int), ("from_logits", c_int), ("start_token", c_int32),
                ("end_token", c_int32), ("max_length", c_int), ("temperature", c_float),
                ("top_k", c_int), ("top_p", c_float), ("beam_width", c_int),
                ("length_penalty", c_float), ("seed", c_uint64)]


class rnn_bleu_options(Structure):
    """The C struct ``rnn_bleu_options`` (include/rnn/metrics.h), field for field."""

    _fields_ = [("struct_size", c_uint32), ("max_order", c_int), ("smoothing", c_int),
                ("epsilon", c_double)]


# The callbacks of rnn_collective (include/rnn/collective.h).
rnn_allreduce_sum_fn = CFUNCTYPE(c_int, c_void_p, POINTER(c_float), c_int64, POINTER(c_void_p))
rnn_wait_fn = CFUNCTYPE(c_int, c_void_p, c_void_p)
rnn_broadcast_fn = CFUNCTYPE(c_int, c_void_p, c_void_p, c_int64, c_int)
rnn_error_message_fn = CFUNCTYPE(c_char_p, c_void_p, c_int)


class rnn_collective(Structure):
    """The C struct ``rnn_collective`` (include/rnn/collective.h), field for field:
    the engine of data-parallel training (librnn.mpi fills it through librnn-mpi)."""

    _fields_ = [("struct_size", c_uint32), ("user", c_void_p), ("rank", c_int), ("size", c_int),
                ("flags", c_uint), ("allreduce_sum", rnn_allreduce_sum_fn),
                ("wait", rnn_wait_fn), ("broadcast", rnn_broadcast_fn),
                ("error_message", rnn_error_message_fn)]


rnn_alloc_fn = CFUNCTYPE(c_void_p, c_void_p, c_size_t)
rnn_free_fn = CFUNCTYPE(None, c_void_p, c_void_p)
rnn_log_fn = CFUNCTYPE(None, c_void_p, c_int, c_char_p)

# ------------------------------------------------------------------ the table

STATUS = "rnn_status"  # marker: returns rnn_status, checked by errcheck
P = POINTER
i64p = P(c_int64)
intp = P(c_int)

#: Every RNN_API function: name -> (result type, [argument types]).
#: tests/test_lib.py checks this table against lib/librnn.map, `nm -D` and
#: the prototypes in include/rnn/*.h (count and type of every argument).
FUNCTIONS = {
    # rnn/common.h
    "rnn_status_string": (c_char_p, [c_int]),
    "rnn_last_error": (c_char_p, []),
    "rnn_version_number": (c_uint, []),
    "rnn_version_string": (c_char_p, []),
    "rnn_set_allocator": (STATUS, [rnn_alloc_fn, rnn_free_fn, c_void_p]),
    "rnn_memory_used": (c_size_t, []),
    "rnn_set_workspace_limit": (STATUS, [c_size_t]),
    "rnn_get_workspace_limit": (c_size_t, []),
    "rnn_set_last_error": (STATUS, [c_int, c_char_p, c_char_p]),
    "rnn_set_log_callback": (STATUS, [rnn_log_fn, c_void_p, c_int]),
    "rnn_set_num_threads": (STATUS, [c_int]),
    "rnn_get_num_threads": (c_int, []),
    "rnn_set_thread_policy": (STATUS, [c_int]),
    "rnn_get_thread_policy": (c_int, []),
    "rnn_get_active_threads": (c_int, []),
    # rnn/tensor.h
    "rnn_dtype_size": (c_size_t, [c_int]),
    "rnn_tensor_create": (STATUS, [c_int, c_int, i64p, P(TensorP)]),
    "rnn_tensor_wrap": (STATUS, [c_int, c_int, i64p, c_void_p, c_size_t, P(TensorP)]),
    "rnn_tensor_clone": (STATUS, [TensorP, P(TensorP)]),
    "rnn_tensor_destroy": (None, [TensorP]),
    "rnn_tensor_dtype": (STATUS, [TensorP, intp]),
    "rnn_tensor_rank": (STATUS, [TensorP, intp]),
    "rnn_tensor_dim": (STATUS, [TensorP, c_int, i64p]),
    "rnn_tensor_shape": (STATUS, [TensorP, i64p, c_int, intp]),
    "rnn_tensor_numel": (STATUS, [TensorP, i64p]),
    "rnn_tensor_nbytes": (STATUS, [TensorP, P(c_size_t)]),
    "rnn_tensor_data": (STATUS, [TensorP, P(c_void_p)]),
    "rnn_tensor_data_const": (STATUS, [TensorP, P(c_void_p)]),
    "rnn_tensor_reshape": (STATUS, [TensorP, c_int, i64p]),
    "rnn_tensor_get_f32": (STATUS, [TensorP, c_int, i64p, P(c_float)]),
    "rnn_tensor_set_f32": (STATUS, [TensorP, c_int, i64p, c_float]),
    "rnn_tensor_get_i32": (STATUS, [TensorP, c_int, i64p, P(c_int32)]),
    "rnn_tensor_set_i32": (STATUS, [TensorP, c_int, i64p, c_int32]),
    "rnn_tensor_copy": (STATUS, [TensorP, TensorP]),
    "rnn_tensor_fill_f32": (STATUS, [TensorP, c_float]),
    "rnn_tensor_fill_i32": (STATUS, [TensorP, c_int32]),
    # rnn/model.h
    "rnn_model_options_init": (None, [P(rnn_model_options)]),
    "rnn_model_create": (STATUS, [P(rnn_model_options), P(ModelP)]),
    "rnn_model_destroy": (None, [ModelP]),
    "rnn_model_set_precision": (STATUS, [ModelP, c_int]),
    "rnn_model_get_precision": (STATUS, [ModelP, intp]),
    "rnn_model_add_input": (STATUS, [ModelP, c_int, c_int, i64p, P(LayerP)]),
    "rnn_model_num_inputs": (STATUS, [ModelP, intp]),
    "rnn_model_connect_next": (STATUS, [ModelP, LayerP, c_int]),
    "rnn_model_add_shared": (STATUS, [ModelP, LayerP, P(LayerP)]),
    "rnn_model_set_outputs": (STATUS, [ModelP, c_int, P(LayerP), intp]),
    "rnn_model_num_layers": (STATUS, [ModelP, intp]),
    "rnn_model_layer": (STATUS, [ModelP, c_int, P(LayerP)]),
    "rnn_model_count_params": (STATUS, [ModelP, i64p]),
    "rnn_model_forward": (STATUS, [ModelP, c_int, P(TensorP), P(TensorP), c_int]),
    "rnn_model_num_outputs": (STATUS, [ModelP, intp]),
    "rnn_model_output": (STATUS, [ModelP, c_int, P(TensorP)]),
    "rnn_model_output_source": (STATUS, [ModelP, c_int, P(LayerP), intp]),
    "rnn_model_backward": (STATUS, [ModelP, c_int, P(TensorP)]),
    "rnn_model_input_grad": (STATUS, [ModelP, c_int, P(TensorP)]),
    "rnn_model_zero_grad": (STATUS, [ModelP]),
    "rnn_model_reset_states": (STATUS, [ModelP]),
    "rnn_compile_options_init": (None, [P(rnn_compile_options), c_int]),
    "rnn_model_compile": (STATUS, [ModelP, P(rnn_compile_options), P(rnn_optimizer_options)]),
    "rnn_model_train_step": (STATUS, [ModelP, c_int, P(TensorP), P(TensorP), TensorP,
                                      P(c_float), P(c_float)]),
    "rnn_model_test_step": (STATUS, [ModelP, c_int, P(TensorP), P(TensorP), TensorP,
                                     P(c_float), P(c_float)]),
    # rnn/layers.h
    "rnn_recurrent_options_init": (None, [P(rnn_recurrent_options), c_int]),
    "rnn_model_add_recurrent": (STATUS, [ModelP, P(rnn_recurrent_options), P(LayerP)]),
    "rnn_layer_name": (STATUS, [LayerP, P(c_char_p)]),
    "rnn_layer_type": (STATUS, [LayerP, P(c_char_p)]),
    "rnn_layer_config": (STATUS, [LayerP, c_char_p, c_size_t, P(c_size_t)]),
    "rnn_model_add_layer": (STATUS, [ModelP, c_char_p, c_char_p, c_int, P(LayerP), intp,
                                     P(LayerP)]),
    "rnn_layer_normalization_options_init": (None, [P(rnn_layer_normalization_options)]),
    "rnn_model_add_layer_normalization": (STATUS, [ModelP, P(rnn_layer_normalization_options),
                                                   P(LayerP)]),
    "rnn_layer_count_params": (STATUS, [LayerP, i64p]),
    "rnn_layer_num_params": (STATUS, [LayerP, intp]),
    "rnn_layer_param": (STATUS, [LayerP, c_int, P(c_char_p), P(TensorP), P(TensorP)]),
    "rnn_layer_find_param": (STATUS, [LayerP, c_char_p, intp]),
    "rnn_layer_set_param": (STATUS, [LayerP, c_int, TensorP]),
    "rnn_layer_params_changed": (STATUS, [LayerP]),
    "rnn_layer_weights_count": (STATUS, [LayerP, c_int, intp]),
    "rnn_layer_weights_shape": (STATUS, [LayerP, c_int, c_int, i64p, intp, P(c_char_p)]),
    "rnn_layer_get_weights": (STATUS, [LayerP, c_int, c_int, P(TensorP)]),
    "rnn_layer_set_weights": (STATUS, [LayerP, c_int, c_int, P(TensorP)]),
    "rnn_layer_num_outputs": (STATUS, [LayerP, intp]),
    "rnn_layer_output": (STATUS, [LayerP, c_int, P(TensorP)]),
    "rnn_layer_num_inputs": (STATUS, [LayerP, intp]),
    "rnn_layer_input": (STATUS, [LayerP, c_int, P(LayerP), intp]),
    "rnn_layer_num_states": (STATUS, [LayerP, intp]),
    "rnn_layer_set_initial_state": (STATUS, [LayerP, c_int, P(TensorP)]),
    "rnn_layer_connect_initial_state": (STATUS, [LayerP, c_int, P(LayerP), intp]),
    "rnn_layer_initial_state_grad": (STATUS, [LayerP, c_int, P(TensorP)]),
    "rnn_layer_reset_states": (STATUS, [LayerP]),
    "rnn_dense_options_init": (None, [P(rnn_dense_options)]),
    "rnn_model_add_dense": (STATUS, [ModelP, P(rnn_dense_options), P(LayerP)]),
    "rnn_embedding_options_init": (None, [P(rnn_embedding_options)]),
    "rnn_model_add_embedding": (STATUS, [ModelP, P(rnn_embedding_options), P(LayerP)]),
    "rnn_model_add_dropout": (STATUS, [ModelP, c_float, P(LayerP)]),
    "rnn_model_add_activation": (STATUS, [ModelP, c_int, P(LayerP)]),
    "rnn_model_add_global_pooling": (STATUS, [ModelP, c_int, P(LayerP)]),
    "rnn_model_add_spatial_dropout1d": (STATUS, [ModelP, c_float, P(LayerP)]),
    "rnn_model_add_flatten": (STATUS, [ModelP, P(LayerP)]),
    "rnn_model_add_repeat_vector": (STATUS, [ModelP, c_int64, P(LayerP)]),
    "rnn_conv1d_options_init": (None, [P(rnn_conv1d_options)]),
    "rnn_model_add_conv1d": (STATUS, [ModelP, P(rnn_conv1d_options), P(LayerP)]),
    "rnn_model_add_max_pooling1d": (STATUS, [ModelP, c_int64, c_int64, c_int, P(LayerP)]),
    "rnn_model_add_concatenate": (STATUS, [ModelP, c_int, P(LayerP), intp, P(LayerP)]),
    "rnn_attention_options_init": (None, [P(rnn_attention_options)]),
    "rnn_model_add_attention": (STATUS, [ModelP, P(rnn_attention_options), LayerP, c_int,
                                         LayerP, c_int, P(LayerP)]),
    "rnn_model_summary": (STATUS, [ModelP, c_char_p, c_size_t, P(c_size_t)]),
    "rnn_layer_set_trainable": (STATUS, [LayerP, c_int]),
    "rnn_layer_trainable": (STATUS, [LayerP, intp]),
    # rnn/optim.h
    "rnn_optimizer_options_init": (None, [P(rnn_optimizer_options), c_int]),
    "rnn_optimizer_create": (STATUS, [ModelP, P(rnn_optimizer_options), P(OptimizerP)]),
    "rnn_optimizer_destroy": (None, [OptimizerP]),
    "rnn_optimizer_step": (STATUS, [OptimizerP]),
    "rnn_optimizer_iterations": (STATUS, [OptimizerP, i64p]),
    "rnn_optimizer_set_learning_rate": (STATUS, [OptimizerP, c_float]),
    "rnn_optimizer_learning_rate": (STATUS, [OptimizerP, P(c_float)]),
    "rnn_model_optimizer": (STATUS, [ModelP, P(OptimizerP)]),
    # rnn/io.h
    "rnn_model_save": (STATUS, [ModelP, c_char_p]),
    "rnn_model_save_ex": (STATUS, [ModelP, c_char_p, c_uint]),
    "rnn_model_load": (STATUS, [c_char_p, P(rnn_model_options), P(ModelP)]),
    "rnn_model_set_metadata": (STATUS, [ModelP, c_char_p, c_char_p]),
    "rnn_model_get_metadata": (STATUS, [ModelP, c_char_p, P(c_char_p)]),
    "rnn_model_metadata_count": (STATUS, [ModelP, intp]),
    "rnn_model_metadata_key": (STATUS, [ModelP, c_int, P(c_char_p)]),
    # rnn/fit.h
    "rnn_data_init": (None, [P(rnn_data)]),
    "rnn_fit_options_init": (None, [P(rnn_fit_options)]),
    "rnn_model_fit": (STATUS, [ModelP, P(rnn_data), P(rnn_fit_options), P(rnn_fit_result)]),
    "rnn_model_evaluate": (STATUS, [ModelP, P(rnn_data), c_int64, P(rnn_eval_result)]),
    "rnn_model_predict": (STATUS, [ModelP, P(rnn_data), c_int64, P(TensorP)]),
    # rnn/collective.h
    "rnn_model_set_collective": (STATUS, [ModelP, P(rnn_collective)]),
    "rnn_model_sync_weights": (STATUS, [ModelP]),
    "rnn_model_collective_rank": (STATUS, [ModelP, intp, intp]),
    # rnn/decode.h
    "rnn_model_step_begin": (STATUS, [ModelP, c_int, c_int, P(TensorP), P(TensorP)]),
    "rnn_model_step": (STATUS, [ModelP, TensorP]),
    "rnn_model_step_select": (STATUS, [ModelP, P(c_int32), c_int64]),
    "rnn_model_step_end": (STATUS, [ModelP]),
    "rnn_decode_options_init": (None, [P(rnn_decode_options)]),
    "rnn_model_decode": (STATUS, [ModelP, P(rnn_decode_options), c_int, P(TensorP), P(TensorP),
                                  TensorP, TensorP, TensorP]),
    "rnn_model_scheduled_sampling": (STATUS, [ModelP, c_int, c_int, c_float, c_uint64, c_int,
                                              P(TensorP), P(TensorP), TensorP]),
    # rnn/metrics.h
    "rnn_bleu_options_init": (None, [P(rnn_bleu_options)]),
    "rnn_corpus_bleu": (STATUS, [P(rnn_bleu_options), c_int64, P(P(c_int32)), i64p, c_int,
                                 P(P(c_int32)), i64p, P(c_double)]),
    "rnn_sentence_bleu": (STATUS, [P(rnn_bleu_options), P(c_int32), c_int64, c_int,
                                   P(P(c_int32)), i64p, P(c_double)]),
}

#: Options structs filled by an ``*_init`` function: (struct, init, extra init args).
#: Their struct_size must equal ctypes.sizeof (checked at load and by the tests).
INIT_STRUCTS = [
    (rnn_model_options, "rnn_model_options_init", ()),
    (rnn_compile_options, "rnn_compile_options_init", (1,)),
    (rnn_optimizer_options, "rnn_optimizer_options_init", (3,)),
    (rnn_recurrent_options, "rnn_recurrent_options_init", (2,)),
    (rnn_dense_options, "rnn_dense_options_init", ()),
    (rnn_embedding_options, "rnn_embedding_options_init", ()),
    (rnn_conv1d_options, "rnn_conv1d_options_init", ()),
    (rnn_attention_options, "rnn_attention_options_init", ()),
    (rnn_layer_normalization_options, "rnn_layer_normalization_options_init", ()),
    (rnn_fit_options, "rnn_fit_options_init", ()),
    (rnn_data, "rnn_data_init", ()),
    (rnn_decode_options, "rnn_decode_options_init", ()),
    (rnn_bleu_options, "rnn_bleu_options_init", ()),
]


# ------------------------------------------------------------------ loading

def _errcheck(result, func, args):
    if result != 0:
        msg = lib.rnn_last_error()
        raise RnnError(result, msg.decode("utf-8", "replace") if msg else "")
    return result


def _open():
    path = os.environ.get("LIBRNN_PATH")
    if path:
        return ctypes.CDLL(path), path
    try:
        return ctypes.CDLL(SONAME), SONAME
    except OSError as first:
        found = ctypes.util.find_library("rnn")
        if found:
            return ctypes.CDLL(found), found
        raise ImportError("librnn: cannot load %s (%s); install librnn or set LIBRNN_PATH to "
                          "the library file" % (SONAME, first)) from first


def _declare(handle, functions=None):
    for name, (res, args) in (FUNCTIONS if functions is None else functions).items():
        fn = getattr(handle, name)  # AttributeError: the library lacks a symbol
        fn.argtypes = args
        if res is STATUS:
            fn.restype = c_int
            fn.errcheck = _errcheck
        else:
            fn.restype = res


def _version_tuple(s):
    return tuple(int(p) for p in s.split(".")[:3])


def _check_version(handle):
    have = handle.rnn_version_string().decode()
    want = _version_tuple(__version__)
    got = _version_tuple(have)
    # Same major; 0.x: same minor too (0.x minors may change the ABI); not older.
    if got[0] != want[0] or (want[0] == 0 and got[1] != want[1]) or got < want:
        raise ImportError("librnn: the binding %s needs library version %d.%d.x >= %s, "
                          "found %s at %s" % (__version__, want[0], want[1], __version__, have,
                                              loaded_from))


def struct_size_written(struct: type[Structure], init: str, extra: tuple[Any, ...] = ()) -> int:
    """What ``init`` writes into struct_size (the library's sizeof).

    The buffer is padded so that a library whose struct grew cannot write past it.

    Args:
        struct: One of the options structs above (a ctypes Structure subclass).
        init: Name of its ``*_init`` function, e.g. "rnn_fit_options_init".
        extra: Further arguments of that function (such as the cell type).
            Defaults to ().

    Returns:
        The struct_size the library wrote, in bytes.
    """
    buf = ctypes.create_string_buffer(ctypes.sizeof(struct) + 256)
    getattr(lib, init)(ctypes.cast(buf, P(struct)), *extra)
    return struct.from_buffer(buf).struct_size


def _check_structs():
    for struct, init, extra in INIT_STRUCTS:
        got = struct_size_written(struct, init, extra)
        if got != ctypes.sizeof(struct):
            raise ImportError("librnn: %s is %d bytes in the library, %d in the binding"
                              % (struct.__name__, got, ctypes.sizeof(struct)))


lib, loaded_from = _open()
_declare(lib)
_check_version(lib)
_check_structs()


def load_optional(soname: str, env_var: str, subdir: str, link_name: str,
                  functions: Mapping[str, tuple[Any, list[Any]]],
                  mode: int = ctypes.DEFAULT_MODE) -> tuple[Any, list[str]]:
    """Loads one of librnn's optional libraries (librnn-onnx, librnn-keras,
    librnn-mpi) and declares its functions.

    The candidates, in order: the file named by the environment variable
    ``env_var`` when set; ``soname`` in librnn's own folder and in its
    ``subdir`` there (a build tree), when librnn was loaded from a path with
    a folder (``LIBRNN_PATH``); ``soname`` through the system loader; what
    ``ctypes.util.find_library(link_name)`` finds.

    Args:
        soname: The library's soname, such as "librnn-onnx.so.0".
        env_var: The environment variable naming its file, such as
            "LIBRNN_ONNX_PATH".
        subdir: Its folder in a build tree, next to librnn's.
        link_name: Its name for the linker ("rnn-onnx").
        functions: name -> (result type or ``STATUS``, [argument types]), as
            ``FUNCTIONS``: ``STATUS`` functions raise :class:`RnnError` on
            failure.
        mode: ``ctypes.CDLL``'s mode (``ctypes.RTLD_GLOBAL`` for librnn-mpi,
            whose MPI loads plug-ins that need libmpi's symbols).

    Returns:
        (the library, []) when one candidate loaded, else (None, the
        loader's error for each candidate tried).

    Raises:
        AttributeError: The library loaded lacks one of ``functions``.
    """
    candidates = []
    if os.environ.get(env_var):
        candidates.append(os.environ[env_var])
    if loaded_from and os.sep in str(loaded_from):
        d = os.path.dirname(os.path.abspath(str(loaded_from)))
        candidates += [os.path.join(d, soname), os.path.join(d, subdir, soname)]
    candidates.append(soname)
    found = ctypes.util.find_library(link_name)
    if found:
        candidates.append(found)
    errors = []
    for c in candidates:
        try:
            handle = ctypes.CDLL(c, mode=mode)
        except OSError as e:
            errors.append(str(e))
            continue
        _declare(handle, functions)
        return handle, []
    return None, errors


def unsupported(where: str, why: str) -> RnnError:
    """Records ``why`` as the library's last error (RNN_ERR_UNSUPPORTED, under
    ``where``), so that ``librnn.last_error()`` says it too.

    Args:
        where: The function it is attributed to, such as "librnn.onnx".
        why: What is missing.

    Returns:
        The RnnError of that status and message, for the caller to raise.
    """
    try:
        lib.rnn_set_last_error(12, where.encode(), why.encode())  # RNN_ERR_UNSUPPORTED
    except RnnError as e:
        return e
    return RnnError(12, "%s: %s" % (where, why))


def init_struct(struct: type[_S], *extra: Any) -> _S:
    """A struct filled with the library's defaults by its ``*_init`` function.

    Args:
        struct: One of the structs listed in ``INIT_STRUCTS``.
        *extra: Further arguments of its ``*_init`` function (such as the loss
            type of ``rnn_compile_options_init``).

    Returns:
        A new instance of ``struct``.

    Raises:
        KeyError: ``struct`` has no ``*_init`` function.
    """
    for s, init, _ in INIT_STRUCTS:
        if s is struct:
            obj = struct()
            getattr(lib, init)(ctypes.byref(obj), *extra)
            return obj
    raise KeyError(struct.__name__)


def enum(table: Mapping[Any, int], value: Any, what: str) -> int:
    """Maps a Python name (case-insensitive) or int to an enum value.

    Args:
        table: One of the enum tables above (name or None -> value).
        value: A name in ``table`` (any case), a key such as None, or one of
            its int values.
        what: What the value is for, named in the error message.

    Returns:
        The C enum value.

    Raises:
        ValueError: ``value`` is not in ``table``.
    """
    if isinstance(value, str):
        key = value.lower()
        if key in table:
            return table[key]
    elif value in table:
        return table[value]
    elif isinstance(value, int) and not isinstance(value, bool) and value in table.values():
        return value
    names = sorted(k for k in table if isinstance(k, str))
    raise ValueError("%s must be one of %s (got %r)" % (what, ", ".join(names), value))


def address(ptr: Any) -> int:
    """The address held by a ctypes pointer.

    Args:
        ptr: A ctypes pointer (such as a ``LayerP``).

    Returns:
        The address as an int, 0 for NULL.
    """
    return ctypes.cast(ptr, c_void_p).value or 0
