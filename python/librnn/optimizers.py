# SPDX-License-Identifier: Apache-2.0
"""Optimizers: Keras-like configurations (SGD, RMSprop, Adam, Nadam, AdamW) and
optimizers bound to a model for custom training loops."""
from __future__ import annotations

import ctypes
import weakref
from typing import TYPE_CHECKING, Any, cast

from . import _lib
from ._lib import OptimizerP, lib, rnn_optimizer_options

if TYPE_CHECKING:
    from .model import Model

_FIELDS = {name for name, _ in rnn_optimizer_options._fields_} - {"struct_size", "type"}


class OptimizerConfig:
    """An optimizer's type and options (``rnn_optimizer_options``).

    What ``Model.compile(optimizer=...)`` takes; use a subclass (:class:`SGD`,
    :class:`RMSprop`, :class:`Adam`, :class:`Nadam`, :class:`AdamW`), whose
    ``name`` is the optimizer type. Every option is accepted by every type and
    used only by the types named at it. Options left out (None) keep the
    library's Keras defaults for the type. ``create(model)`` makes an
    :class:`Optimizer` for custom loops.

    Attributes:
        name: The optimizer type ('sgd', 'rmsprop', 'adam', 'nadam', 'adamw');
            None in this base class.
        options: The options given (not None), by field name.
    """

    name: str | None = None

    def __init__(self, learning_rate: float | None = None, *, momentum: float | None = None,
                 nesterov: bool | None = None, rho: float | None = None,
                 beta_1: float | None = None, beta_2: float | None = None,
                 epsilon: float | None = None, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None) -> None:
        """Records the options; nothing is checked until :meth:`struct` or compile.

        Args:
            learning_rate: Step size (SGD 0.01, the others 0.001). A number only:
                schedules are ``Model.fit``'s ``lr_schedule``.
            momentum: SGD: momentum in [0, 1) (0).
            nesterov: SGD: Nesterov momentum (False).
            rho: RMSprop: decay of the squared-gradient average (0.9).
            beta_1: Adam, Nadam, AdamW: decay of the first moment (0.9).
            beta_2: Adam, Nadam, AdamW: decay of the second moment (0.999).
            epsilon: RMSprop, Adam, Nadam, AdamW: added to the denominator (1e-7).
            weight_decay: AdamW: decoupled weight decay (0.004); 0 elsewhere.
            clipnorm: Rescales each parameter's gradient to at most this norm
                (0: off).
            clipvalue: Clips each gradient element to [-clipvalue, clipvalue]
                (0: off).
            global_clipnorm: Rescales all gradients together to at most this
                global norm (0: off).

        Raises:
            TypeError: An option name that is not one of these.
        """
        options = {"momentum": momentum, "nesterov": nesterov, "rho": rho, "beta_1": beta_1,
                   "beta_2": beta_2, "epsilon": epsilon, "weight_decay": weight_decay,
                   "clipnorm": clipnorm, "clipvalue": clipvalue,
                   "global_clipnorm": global_clipnorm}
        self.options: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if learning_rate is not None:
            self.options["learning_rate"] = learning_rate

    def struct(self) -> rnn_optimizer_options:
        """The filled ``rnn_optimizer_options``: the type's defaults, then the options.

        Returns:
            A new ctypes struct.

        Raises:
            KeyError: :attr:`name` is not an optimizer type (the base class).
            TypeError: An option value is not a number.
        """
        s = _lib.init_struct(rnn_optimizer_options, _lib.OPTIMIZERS[cast(str, self.name)])
        for k, v in self.options.items():
            setattr(s, k, int(v) if k == "nesterov" else float(v))
        return s

    def create(self, model: Model) -> Optimizer:
        """An optimizer of this configuration bound to ``model``, for custom loops.

        Args:
            model: The model whose trainable parameters it updates.

        Returns:
            A new :class:`Optimizer` (``Optimizer(model, self)``).

        Raises:
            ValueError: ``model`` is closed.
            RnnError: The library refused the options (RNN_ERR_INVALID_ARG).
        """
        return Optimizer(model, self)

    def get_config(self) -> dict[str, float | int]:
        """Every option's value as the library will use it, defaults included.

        Returns:
            Field name -> value (``nesterov`` an int, the rest floats).

        Raises:
            KeyError: :attr:`name` is not an optimizer type (the base class).
        """
        s = self.struct()
        return {k: getattr(s, k) for k, _ in rnn_optimizer_options._fields_
                if k not in ("struct_size", "type")}

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in sorted(self.options.items())))


class SGD(OptimizerConfig):
    """Keras SGD: learning_rate 0.01, momentum 0, nesterov False.

    Takes the options of :class:`OptimizerConfig`.
    """
    name = "sgd"


class RMSprop(OptimizerConfig):
    """Keras RMSprop: learning_rate 0.001, rho 0.9, epsilon 1e-7.

    Takes the options of :class:`OptimizerConfig`.
    """
    name = "rmsprop"


class Adam(OptimizerConfig):
    """Keras Adam: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.

    Takes the options of :class:`OptimizerConfig`.
    """
    name = "adam"


class Nadam(OptimizerConfig):
    """Keras Nadam: as Adam, with Nesterov momentum.

    Takes the options of :class:`OptimizerConfig`.
    """
    name = "nadam"


class AdamW(OptimizerConfig):
    """Adam with decoupled weight decay (weight_decay 0.004, as Keras 3).

    Takes the options of :class:`OptimizerConfig`.
    """
    name = "adamw"


_BY_NAME: dict[str, type[OptimizerConfig]] = {
    cast(str, c.name): c for c in (SGD, RMSprop, Adam, Nadam, AdamW)}


def get(optimizer: OptimizerConfig | str) -> OptimizerConfig:
    """An OptimizerConfig from a config or a name.

    Args:
        optimizer: An :class:`OptimizerConfig` (returned as is) or a name:
            'sgd', 'rmsprop', 'adam', 'nadam' or 'adamw' (any case), which gives
            that type with its defaults.

    Returns:
        The configuration.

    Raises:
        ValueError: ``optimizer`` is neither.
    """
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

    def __init__(self, model: Model, config: OptimizerConfig | str = "adam") -> None:
        """Creates an optimizer for ``model`` (``rnn_optimizer_create``).

        Args:
            model: The model whose trainable parameters it updates.
            config: An :class:`OptimizerConfig` or an optimizer name.
                Defaults to "adam".

        Raises:
            ValueError: ``config`` is not an optimizer, or ``model`` is closed.
            RnnError: The library refused the options (RNN_ERR_INVALID_ARG).
        """
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
    def handle(self) -> Any:
        """The C handle (an ``OptimizerP``), for calls through ``librnn.lib``.

        Raises:
            ValueError: The optimizer or its model is closed, or (for
                ``model.optimizer``) the model was compiled again.
        """
        self._model.handle  # raises once the model is closed
        if self._fin is not None and not self._fin.alive:
            raise ValueError("optimizer is closed")
        if self._gen is not None and self._gen != self._model._compile_gen:
            raise ValueError("the model was compiled again: get model.optimizer anew")
        return self._h

    def step(self) -> None:
        """One update of every trainable parameter from its gradient.

        The gradients are not zeroed (see ``Model.zero_grad``).

        Raises:
            ValueError: The optimizer is closed or stale (see :attr:`handle`).
            RnnError: The model gained layers after the optimizer was made
                (RNN_ERR_STATE).
        """
        lib.rnn_optimizer_step(self.handle)

    @property
    def iterations(self) -> int:
        """Updates made so far (Keras' ``optimizer.iterations``).

        Raises:
            ValueError: The optimizer is closed or stale (see :attr:`handle`).
        """
        v = ctypes.c_int64()
        lib.rnn_optimizer_iterations(self.handle, ctypes.byref(v))
        return v.value

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update; settable (a number > 0).

        Raises:
            ValueError: The optimizer is closed or stale (see :attr:`handle`).
            RnnError: Setting a rate that is not > 0 and finite
                (RNN_ERR_INVALID_ARG).
        """
        v = ctypes.c_float()
        lib.rnn_optimizer_learning_rate(self.handle, ctypes.byref(v))
        return v.value

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        lib.rnn_optimizer_set_learning_rate(self.handle, float(value))

    def close(self) -> None:
        """Releases the optimizer now (idempotent); a borrowed one is left alone."""
        if self._fin is not None:
            self._fin()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` released it (always False for a borrowed one)."""
        return self._fin is not None and not self._fin.alive

    def __enter__(self) -> Optimizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
