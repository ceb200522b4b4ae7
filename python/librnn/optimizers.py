# SPDX-License-Identifier: Apache-2.0
"""Optimizers: Keras-like configurations (SGD, RMSprop, Adam, Nadam, AdamW) and
optimizers bound to a model for custom training loops."""
import ctypes
import weakref

from . import _lib
from ._lib import OptimizerP, lib, rnn_optimizer_options

_FIELDS = {name for name, _ in rnn_optimizer_options._fields_} - {"struct_size", "type"}


class OptimizerConfig:
    """An optimizer's type and options (``rnn_optimizer_options``): what
    ``Model.compile(optimizer=...)`` takes. Options left out keep the library's
    Keras defaults. ``create(model)`` makes an :class:`Optimizer` for custom loops."""

    name = None

    def __init__(self, learning_rate=None, **options):
        unknown = set(options) - _FIELDS
        if unknown:
            raise TypeError("%s: unknown options %s" % (type(self).__name__,
                                                        ", ".join(sorted(unknown))))
        self.options = {k: v for k, v in options.items() if v is not None}
        if learning_rate is not None:
            self.options["learning_rate"] = learning_rate

    def struct(self):
        """The filled ``rnn_optimizer_options``."""
        s = _lib.init_struct(rnn_optimizer_options, _lib.OPTIMIZERS[self.name])
        for k, v in self.options.items():
            setattr(s, k, int(v) if k == "nesterov" else float(v))
        return s

    def create(self, model):
        return Optimizer(model, self)

    def get_config(self):
        s = self.struct()
        return {k: getattr(s, k) for k, _ in rnn_optimizer_options._fields_
                if k not in ("struct_size", "type")}

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in sorted(self.options.items())))


class SGD(OptimizerConfig):
    """Keras SGD: learning_rate 0.01, momentum 0, nesterov False."""
    name = "sgd"


class RMSprop(OptimizerConfig):
    """Keras RMSprop: learning_rate 0.001, rho 0.9, epsilon 1e-7."""
    name = "rmsprop"


class Adam(OptimizerConfig):
    """Keras Adam: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""
    name = "adam"


class Nadam(OptimizerConfig):
    """Keras Nadam: as Adam, with Nesterov momentum."""
    name = "nadam"


class AdamW(OptimizerConfig):
    """Adam with decoupled weight decay (weight_decay 0.004)."""
    name = "adamw"


_BY_NAME = {c.name: c for c in (SGD, RMSprop, Adam, Nadam, AdamW)}


def get(optimizer):
    """An OptimizerConfig from a config or a name ('adam', ...)."""
    if isinstance(optimizer, OptimizerConfig):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    raise ValueError("optimizer must be an OptimizerConfig or one of %s (got %r)"
                     % (", ".join(sorted(_BY_NAME)), optimizer))


def _destroy(handle, _model, _fn=lib.rnn_optimizer_destroy):
    _fn(handle)


class Optimizer:
    """An optimizer bound to one model (``rnn_optimizer``): ``step()`` applies one
    update from the model's accumulated gradients.

    ``Optimizer(model, Adam(1e-3))`` owns its handle (released by ``close()``,
    ``with`` or garbage collection, always before its model). ``model.optimizer``
    is the one ``compile`` made, borrowed from the model and valid until the next
    compile.
    """

    def __init__(self, model, config="adam"):
        self._model = model
        h = OptimizerP()
        s = get(config).struct()
        lib.rnn_optimizer_create(model.handle, ctypes.byref(s), ctypes.byref(h))
        self._h = h
        self._gen = None
        self._fin = weakref.finalize(self, _destroy, h, model)
        model._optimizers.add(self)

    @classmethod
    def _borrowed(cls, model, handle, gen):
        self = cls.__new__(cls)
        self._model, self._h, self._gen, self._fin = model, handle, gen, None
        return self

    @property
    def handle(self):
        self._model.handle  # raises once the model is closed
        if self._fin is not None and not self._fin.alive:
            raise ValueError("optimizer is closed")
        if self._gen is not None and self._gen != self._model._compile_gen:
            raise ValueError("the model was compiled again: get model.optimizer anew")
        return self._h

    def step(self):
        """One update of every trainable parameter from its gradient (not zeroed)."""
        lib.rnn_optimizer_step(self.handle)

    @property
    def iterations(self):
        v = ctypes.c_int64()
        lib.rnn_optimizer_iterations(self.handle, ctypes.byref(v))
        return v.value

    @property
    def learning_rate(self):
        v = ctypes.c_float()
        lib.rnn_optimizer_learning_rate(self.handle, ctypes.byref(v))
        return v.value

    @learning_rate.setter
    def learning_rate(self, value):
        lib.rnn_optimizer_set_learning_rate(self.handle, float(value))

    def close(self):
        if self._fin is not None:
            self._fin()

    @property
    def closed(self):
        return self._fin is not None and not self._fin.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
