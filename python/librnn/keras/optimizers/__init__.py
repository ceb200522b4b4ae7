# SPDX-License-Identifier: Apache-2.0
"""``keras.optimizers``: SGD, RMSprop, Adam, Nadam and AdamW with Keras 3's
arguments and defaults, ``clipnorm``, ``clipvalue``, ``global_clipnorm`` and
learning-rate schedules; the updates run in the C library (Keras' formulas).

Arguments librnn lacks (amsgrad, RMSprop's momentum and centered, weight decay
outside AdamW, EMA, gradient accumulation, loss scaling) raise NotImplementedError.
Once the model is compiled, ``learning_rate`` and ``iterations`` read (and
``learning_rate`` writes) the C optimizer's values.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

from ... import optimizers as _copt
from .._base import keras_getattr as _keras_getattr
from .._base import refuse_arg, unsupported
from . import schedules

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "Nadam", "AdamW", "get", "serialize",
           "deserialize", "schedules"]


class _Scalar(float):
    """A float that also answers like Keras' scalar variables (``numpy()``,
    ``assign()``, ``value``), for code written against Keras."""

    _setter: Any
    dtype: str

    def __new__(cls, value: Any, setter: Callable[[float], None] | None = None,
                dtype: str = "float32") -> _Scalar:
        self = float.__new__(cls, value)
        self._setter, self.dtype = setter, dtype
        return self

    def numpy(self) -> Any:
        """The value as a numpy scalar.

        Returns:
            A numpy float32 (or int64).
        """
        import numpy as np
        return np.float32(self) if self.dtype == "float32" else np.int64(self)

    @property
    def value(self) -> Any:
        """The value as a numpy scalar (``numpy()``)."""
        return self.numpy()

    def assign(self, value: float) -> None:
        """Sets the optimizer's learning rate (Keras' ``variable.assign``).

        Args:
            value: The new rate.

        Raises:
            TypeError: The value is not assignable (a scheduled rate).
        """
        if self._setter is None:
            raise TypeError("this value cannot be assigned")
        self._setter(float(value))

    def __int__(self) -> int:
        return int(float(self))


class _Count(int):
    """An int that also answers ``numpy()`` (Keras' ``optimizer.iterations``)."""

    def numpy(self) -> Any:
        """The count as a numpy scalar.

        Returns:
            A numpy int64.
        """
        import numpy as np
        return np.int64(self)

    @property
    def value(self) -> Any:
        """The count as a numpy scalar (``numpy()``)."""
        return self.numpy()


_BASE_DEFAULTS = dict(use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                      loss_scale_factor=None, gradient_accumulation_steps=None)


class Optimizer:
    """Base of the optimizers: ``learning_rate`` (a number or a schedule),
    clipping, ``iterations``. Subclassing it to write an optimizer is outside the
    subset (it raises NotImplementedError).

    Args:
        learning_rate: A float, or a ``keras.optimizers.schedules``
            LearningRateSchedule (evaluated before every step); a plain
            function raises NotImplementedError.
        weight_decay: None or 0 (weight decay is AdamW's; else NotImplementedError).
        clipnorm: Clips each weight's gradient to this norm.
        clipvalue: Clips each gradient value to [-clipvalue, clipvalue].
        global_clipnorm: Clips all gradients together to this global norm
            (not with clipnorm).
        use_ema: Must be False (an exponential moving average of the weights;
            else NotImplementedError).
        ema_momentum: Ignored (use_ema is False).
        ema_overwrite_frequency: Must be None (else NotImplementedError).
        loss_scale_factor: Must be None (else NotImplementedError).
        gradient_accumulation_steps: Must be None (else NotImplementedError).
        name: The optimizer's name (default: the class name in lower case).
        **kwargs: Any raises ValueError (``lr``: use ``learning_rate``).

    Raises:
        ValueError: Both clipnorm and global_clipnorm, or unknown arguments.
    """

    _c_class: Any = None
    _slots_per_variable = 0   # Keras' optimizer variables per trainable weight
    _extra_scalars = 0        # and scalar variables besides iterations / learning_rate

    def __init__(self, learning_rate: Any, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        cls = type(self).__name__
        if self._c_class is None:
            raise unsupported("subclassing keras.optimizers.Optimizer (%s)" % cls)
        if kwargs:
            if "lr" in kwargs:
                raise ValueError("Argument `lr` is no longer supported. Use "
                                 "`learning_rate` instead.")
            raise ValueError("Argument(s) not recognized: %r" % kwargs)
        given = dict(use_ema=use_ema, ema_momentum=ema_momentum,
                     ema_overwrite_frequency=ema_overwrite_frequency,
                     loss_scale_factor=loss_scale_factor,
                     gradient_accumulation_steps=gradient_accumulation_steps)
        for k, want in _BASE_DEFAULTS.items():
            if k == "ema_momentum" or given[k] == want:
                continue
            refuse_arg(cls, k, given[k])
        if weight_decay not in (None, 0, 0.0) and not isinstance(self, AdamW):
            refuse_arg(cls, "weight_decay", weight_decay,
                       "librnn applies weight decay in AdamW only")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Only one of `clipnorm` and `global_clipnorm` can be set. "
                             "Received: clipnorm=%r, global_clipnorm=%r"
                             % (clipnorm, global_clipnorm))
        self._schedule: Any
        self._lr: Any
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            self._schedule, self._lr = learning_rate, None
        elif callable(learning_rate):
            raise unsupported("%s(learning_rate=<function>)" % cls,
                              "use a keras.optimizers.schedules.LearningRateSchedule")
        else:
            self._schedule, self._lr = None, float(learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema = False
        self.name = name or cls.lower()
        self._model: Any = None    # weakref to the Keras model this optimizer was compiled into
        self._built = False   # Keras builds its variables at the first training step

    # -------------------------------------------------------------- the C optimizer
    def _c_optimizer(self):
        m = self._model() if self._model is not None else None
        if m is None or m._c is None or not m._c_compiled:
            return None
        return m._c.optimizer

    def _initial_lr(self):
        return self._schedule(0) if self._schedule is not None else self._lr

    def _c_options(self):
        return {}

    def _c_config(self):
        """The librnn.optimizers configuration for the C library."""
        o = dict(self._c_options())
        o["learning_rate"] = self._initial_lr()
        for k in ("clipnorm", "clipvalue", "global_clipnorm"):
            v = getattr(self, k)
            if v is not None:
                o[k] = float(v)
        return self._c_class(**o)

    def _scheduled_lr(self):
        """Sets the C optimizer's rate from the schedule for its next step."""
        if self._schedule is None:
            return
        c = self._c_optimizer()
        if c is not None:
            c.learning_rate = float(self._schedule(c.iterations))

    # -------------------------------------------------------------- Keras attributes
    @property
    def iterations(self) -> Any:
        """The number of training steps taken (an int with ``numpy()``), 0
        before the model is compiled and built."""
        c = self._c_optimizer()
        return _Count(c.iterations if c is not None else 0)

    @property
    def learning_rate(self) -> Any:
        """The current learning rate (a float with ``numpy()`` and ``assign()``):
        the C optimizer's once compiled, the schedule's value at ``iterations``
        with a schedule. Settable with a number (not with a schedule: TypeError)."""
        if self._schedule is not None:
            return _Scalar(self._schedule(int(self.iterations)))
        c = self._c_optimizer()
        value = c.learning_rate if c is not None else self._lr
        return _Scalar(value, self._set_lr)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._set_lr(value)

    lr = learning_rate

    def _set_lr(self, value):
        if self._schedule is not None:
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as "
                            "its `learning_rate` constructor argument, hence its learning rate "
                            "is not settable. If you need the learning rate to be settable, you "
                            "should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        if isinstance(value, schedules.LearningRateSchedule):
            raise unsupported("replacing the learning rate by a schedule after construction")
        self._lr = float(value)
        c = self._c_optimizer()
        if c is not None:
            c.learning_rate = self._lr

    @property
    def built(self) -> bool:
        """Whether training has begun (Keras builds its variables then)."""
        return self._built

    def _variable_count(self, n_trainable):
        """(count, bytes) of Keras' optimizer variables for ``n_trainable`` weights."""
        scalars = 1 if self._schedule is not None else 2   # iterations (int64), learning_rate
        count = scalars + self._extra_scalars + self._slots_per_variable * n_trainable
        return count, 8 + 4 * (count - 1)

    @property
    def variables(self) -> list[Any]:
        """Keras' optimizer variables: raises NotImplementedError (librnn keeps
        the optimizer's state in C; it is saved with ``model.save()``)."""
        raise unsupported("optimizer.variables", "librnn keeps optimizer state in C")

    # -------------------------------------------------------------- configuration
    def get_config(self) -> dict[str, Any]:
        """The optimizer's arguments (Keras' ``get_config()``).

        Returns:
            name, learning_rate (a float, or the serialized schedule),
            weight_decay, the clipping arguments and the optimizer's own.
        """
        lr = schedules.serialize(self._schedule) if self._schedule is not None \
            else float(self.learning_rate)
        cfg = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
               "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
               "global_clipnorm": self.global_clipnorm}
        cfg.update(self._own_config())
        return cfg

    def _own_config(self):
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """A new optimizer from ``get_config()``'s dict.

        Args:
            config: The arguments.

        Returns:
            The optimizer.
        """
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.deserialize(lr)
        return cls(**config)

    def _attach(self, model: Any) -> None:
        self._model = weakref.ref(model)


class SGD(Optimizer):
    """Gradient descent with momentum (Keras' SGD).

    Args:
        learning_rate: A float, or a ``keras.optimizers.schedules``
            LearningRateSchedule (evaluated before every step); a plain
            function raises NotImplementedError.
        momentum: In [0, 1]: accelerates steps along consistent directions.
        nesterov: Whether to use Nesterov momentum.
        weight_decay: None or 0 (else NotImplementedError).
        clipnorm: Clips each weight's gradient to this norm.
        clipvalue: Clips each gradient value to [-clipvalue, clipvalue].
        global_clipnorm: Clips all gradients together to this global norm
            (not with clipnorm).
        use_ema: Must be False (an exponential moving average of the weights;
            else NotImplementedError).
        ema_momentum: Ignored (use_ema is False).
        ema_overwrite_frequency: Must be None (else NotImplementedError).
        loss_scale_factor: Must be None (else NotImplementedError).
        gradient_accumulation_steps: Must be None (else NotImplementedError).
        name: The optimizer's name (default: the class name in lower case).
        **kwargs: Any raises ValueError (``lr``: use ``learning_rate``).

    Raises:
        ValueError: momentum outside [0, 1].
    """

    _c_class = _copt.SGD

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self._slots_per_variable = 1 if self.momentum != 0 else 0

    def _c_options(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _own_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (Keras'): steps scaled by a moving average of squared gradients.

    Args:
        learning_rate: A float, or a ``keras.optimizers.schedules``
            LearningRateSchedule (evaluated before every step); a plain
            function raises NotImplementedError.
        rho: The discount of the moving average.
        momentum: Must be 0 (else NotImplementedError).
        epsilon: Added for numerical stability.
        centered: Must be False (else NotImplementedError).
        weight_decay: None or 0 (else NotImplementedError).
        clipnorm: Clips each weight's gradient to this norm.
        clipvalue: Clips each gradient value to [-clipvalue, clipvalue].
        global_clipnorm: Clips all gradients together to this global norm
            (not with clipnorm).
        use_ema: Must be False (an exponential moving average of the weights;
            else NotImplementedError).
        ema_momentum: Ignored (use_ema is False).
        ema_overwrite_frequency: Must be None (else NotImplementedError).
        loss_scale_factor: Must be None (else NotImplementedError).
        gradient_accumulation_steps: Must be None (else NotImplementedError).
        name: The optimizer's name (default: the class name in lower case).
        **kwargs: Any raises ValueError (``lr``: use ``learning_rate``).
    """

    _c_class = _copt.RMSprop
    _slots_per_variable = 1

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-07, centered: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if momentum:
            refuse_arg("RMSprop", "momentum", momentum)
        if centered:
            refuse_arg("RMSprop", "centered", centered)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.rho, self.epsilon, self.momentum, self.centered = float(rho), float(epsilon), 0.0, \
            False

    def _c_options(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def _own_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam (Keras'): adaptive moment estimation.

    Args:
        learning_rate: A float, or a ``keras.optimizers.schedules``
            LearningRateSchedule (evaluated before every step); a plain
            function raises NotImplementedError.
        beta_1: The decay of the first-moment (mean) estimate.
        beta_2: The decay of the second-moment (variance) estimate.
        epsilon: Added for numerical stability.
        amsgrad: Must be False (else NotImplementedError).
        weight_decay: None or 0 (use AdamW; else NotImplementedError).
        clipnorm: Clips each weight's gradient to this norm.
        clipvalue: Clips each gradient value to [-clipvalue, clipvalue].
        global_clipnorm: Clips all gradients together to this global norm
            (not with clipnorm).
        use_ema: Must be False (an exponential moving average of the weights;
            else NotImplementedError).
        ema_momentum: Ignored (use_ema is False).
        ema_overwrite_frequency: Must be None (else NotImplementedError).
        loss_scale_factor: Must be None (else NotImplementedError).
        gradient_accumulation_steps: Must be None (else NotImplementedError).
        name: The optimizer's name (default: the class name in lower case).
        **kwargs: Any raises ValueError (``lr``: use ``learning_rate``).
    """

    _c_class = _copt.Adam
    _slots_per_variable = 2

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07, amsgrad: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if amsgrad:
            refuse_arg(type(self).__name__, "amsgrad", amsgrad)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = False

    def _c_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam (Keras'): Adam with Nesterov momentum.

    Args:
        learning_rate: A float, or a ``keras.optimizers.schedules``
            LearningRateSchedule (evaluated before every step); a plain
            function raises NotImplementedError.
        beta_1: The decay of the first-moment (mean) estimate.
        beta_2: The decay of the second-moment (variance) estimate.
        epsilon: Added for numerical stability.
        weight_decay: None or 0 (else NotImplementedError).
        clipnorm: Clips each weight's gradient to this norm.
        clipvalue: Clips each gradient value to [-clipvalue, clipvalue].
        global_clipnorm: Clips all gradients together to this global norm
            (not with clipnorm).
        use_ema: Must be False (an exponential moving average of the weights;
            else NotImplementedError).
        ema_momentum: Ignored (use_ema is False).
        ema_overwrite_frequency: Must be None (else NotImplementedError).
        loss_scale_factor: Must be None (else NotImplementedError).
        gradient_accumulation_steps: Must be None (else NotImplementedError).
        name: The optimizer's name (default: the class name in lower case).
        **kwargs: Any raises ValueError (``lr``: use ``learning_rate``).
    """

    _c_class = _copt.Nadam
    _slots_per_variable = 2
    _extra_scalars = 1   # Keras' u_product

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    _c_options = Adam._c_options
    _own_config = Adam._own_config


class AdamW(Optimizer):
    """AdamW (Keras'): Adam with decoupled weight decay.

    Args:
        learning_rate: A float, or a ``keras.optimizers.schedules``
            LearningRateSchedule (evaluated before every step); a plain
            function raises NotImplementedError.
        weight_decay: The decay rate (a float, required; None raises ValueError).
        beta_1: The decay of the first-moment (mean) estimate.
        beta_2: The decay of the second-moment (variance) estimate.
        epsilon: Added for numerical stability.
        amsgrad: Must be False (else NotImplementedError).
        clipnorm: Clips each weight's gradient to this norm.
        clipvalue: Clips each gradient value to [-clipvalue, clipvalue].
        global_clipnorm: Clips all gradients together to this global norm
            (not with clipnorm).
        use_ema: Must be False (an exponential moving average of the weights;
            else NotImplementedError).
        ema_momentum: Ignored (use_ema is False).
        ema_overwrite_frequency: Must be None (else NotImplementedError).
        loss_scale_factor: Must be None (else NotImplementedError).
        gradient_accumulation_steps: Must be None (else NotImplementedError).
        name: The optimizer's name (default: the class name in lower case).
        **kwargs: Any raises ValueError (``lr``: use ``learning_rate``).
    """

    _c_class = _copt.AdamW
    _slots_per_variable = 2

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-07,
                 amsgrad: bool = False, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if amsgrad:
            refuse_arg("AdamW", "amsgrad", amsgrad)
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = False

    def _c_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": float(self.weight_decay)}

    _own_config = Adam._own_config


_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "nadam": Nadam, "adamw": AdamW}
_CLASSES: dict[Any, Any] = {c.__name__: c for c in _BY_NAME.values()}
_OTHERS = ("adadelta", "adafactor", "adagrad", "adamax", "ftrl", "lamb", "lion", "muon")


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name ("adam"), a config dict or an optimizer.

    Args:
        identifier: An Optimizer, a name ("sgd", "rmsprop", "adam", "nadam",
            "adamw"; made with Keras' defaults) or a ``{"class_name", "config"}``
            dict.

    Returns:
        The optimizer.

    Raises:
        NotImplementedError: A Keras optimizer librnn lacks ("adagrad", ...).
        ValueError: An unknown identifier.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if key in _OTHERS:
            raise unsupported("optimizer %r" % identifier)
    raise ValueError("Could not interpret optimizer identifier: %r" % (identifier,))


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """An optimizer as Keras serializes it.

    Args:
        optimizer: The optimizer.

    Returns:
        ``{"class_name": ..., "config": ...}``.
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """An optimizer from ``serialize``'s dict.

    Args:
        config: ``{"class_name": ..., "config": ...}``.

    Returns:
        The optimizer.

    Raises:
        NotImplementedError: A class outside the subset.
    """
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise unsupported("optimizer %r" % config.get("class_name"))
    return cls.from_config(config.get("config", {}))


__getattr__ = _keras_getattr("optimizers", """
    Adadelta Adafactor Adagrad Adamax Ftrl Lamb Lion LossScaleOptimizer MultiOptimizer Muon
    OptimizerMap ScheduleFreeAdamW legacy""")
