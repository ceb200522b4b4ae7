# SPDX-License-Identifier: Apache-2.0
"""``keras.optimizers.schedules``: learning rates as functions of the optimizer's
step count (``optimizer.iterations``, across fit calls, as in Keras). librnn.keras
sets the rate before every training step; a LearningRateSchedule subclass whose
``__call__(step)`` returns a number works too."""
from __future__ import annotations

import math
from typing import Any, Sequence

from .._base import keras_getattr as _keras_getattr

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "InverseTimeDecay", "PolynomialDecay", "CosineDecay", "CosineDecayRestarts",
           "serialize", "deserialize"]


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate``.

    Subclass it with ``__call__(step)`` (a plain-number step) and
    ``get_config()`` for a schedule of your own; librnn.keras evaluates it in
    Python before every training step.
    """

    def __call__(self, step: float) -> float:
        raise NotImplementedError("Learning rate schedule '%s' must override `__call__(self, "
                                  "step)`." % type(self).__name__)

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (subclasses override it).

        Returns:
            A dict that ``from_config`` takes.

        Raises:
            NotImplementedError: Not overridden.
        """
        raise NotImplementedError("Learning rate schedule '%s' must override `get_config()`"
                                  % type(self).__name__)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """A new schedule from ``get_config()``'s dict.

        Args:
            config: The arguments.

        Returns:
            The schedule.
        """
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr0 * decay_rate ^ (step / decay_steps), the exponent floored if staircase.

    Args:
        initial_learning_rate: lr0, the rate at step 0.
        decay_steps: The steps over which the rate is multiplied by
            ``decay_rate`` (> 0).
        decay_rate: The decay factor.
        staircase: Whether to decay in whole steps of ``decay_steps``.
        name: The schedule's name.

    Raises:
        ValueError: decay_steps <= 0.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        if decay_steps <= 0:
            raise ValueError("Argument `decay_steps` must be > 0. Received: decay_steps=%r"
                             % (decay_steps,))
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step: float) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] up to boundaries[0], values[1] up to boundaries[1], ...

    Args:
        boundaries: Increasing step numbers.
        values: The rates: one more than ``boundaries``.
        name: The schedule's name.

    Raises:
        ValueError: ``values`` is not one longer than ``boundaries``.
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float],
                 name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of "
                             "values. Received: boundaries=%r of length %d, and values=%r of "
                             "length %d." % (boundaries, len(boundaries), values, len(values)))
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step: float) -> float:
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """lr0 / (1 + decay_rate * step / decay_steps), the ratio floored if staircase.

    Args:
        initial_learning_rate: lr0, the rate at step 0.
        decay_steps: The steps per unit of decay.
        decay_rate: The decay factor.
        staircase: Whether to decay in whole steps of ``decay_steps``.
        name: The schedule's name.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay") -> None:
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step: float) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(lr0 - end) * (1 - step / decay_steps) ^ power + end (cycling if cycle).

    Args:
        initial_learning_rate: lr0, the rate at step 0.
        decay_steps: The steps to reach ``end_learning_rate``.
        end_learning_rate: The final rate.
        power: The polynomial's power (1: linear).
        cycle: Whether to start again after ``decay_steps`` (over multiples of
            it) rather than stay at the end rate.
        name: The schedule's name.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay") -> None:
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle
        self.name = name

    def __call__(self, step: float) -> float:
        steps = self.decay_steps
        if self.cycle:
            steps = steps * (1.0 if step == 0 else math.ceil(step / self.decay_steps))
        else:
            step = min(step, steps)
        p = step / steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + \
            self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from lr0 (or, after a linear warmup, from warmup_target) to
    alpha * that rate over decay_steps.

    Args:
        initial_learning_rate: lr0, the rate at step 0.
        decay_steps: The steps of the cosine decay (> 0), after the warmup.
        alpha: The final rate as a fraction of the decayed-from rate.
        name: The schedule's name.
        warmup_target: None (no warmup), or the rate the linear warmup from
            lr0 reaches, from which the decay starts.
        warmup_steps: The warmup's length in steps.

    Raises:
        ValueError: decay_steps <= 0.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: float = 0) -> None:
        if decay_steps <= 0:
            raise ValueError("Argument `decay_steps` must be > 0. Received: decay_steps=%r"
                             % (decay_steps,))
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                   decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: float) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            return (self.warmup_target - self.initial_learning_rate) * step / \
                self.warmup_steps + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    Args:
        initial_learning_rate: lr0, the rate at step 0.
        first_decay_steps: The steps of the first decay period.
        t_mul: How much longer each period is than the previous.
        m_mul: How much lower each period's starting rate is than the previous.
        alpha: The final rate of a period as a fraction of its starting rate.
        name: The schedule's name.
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: float,
                 t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                 name: str = "SGDRDecay") -> None:
        self.initial_learning_rate, self.first_decay_steps = (initial_learning_rate,
                                                              first_decay_steps)
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step: float) -> float:
        frac = step / self.first_decay_steps
        t = self._t_mul
        if t == 1.0:
            i = math.floor(frac)
            frac -= i
        else:
            i = math.floor(math.log(1.0 - frac * (1.0 - t)) / math.log(t))
            frac = (frac - (1.0 - t ** i) / (1.0 - t)) / t ** i
        cosine = 0.5 * self._m_mul ** i * (1.0 + math.cos(math.pi * frac))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        """The schedule's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_CLASSES: dict[Any, Any] = {c.__name__: c for c in (
    ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, PolynomialDecay, CosineDecay,
    CosineDecayRestarts)}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """A schedule as Keras serializes it.

    Args:
        schedule: The schedule.

    Returns:
        ``{"class_name": ..., "config": ...}``.
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """A schedule from ``serialize``'s dict (one of this module's classes).

    Args:
        config: ``{"class_name": ..., "config": ...}``.

    Returns:
        The schedule.

    Raises:
        NotImplementedError: Another class (e.g. a user's subclass).
    """
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        from .._base import unsupported
        raise unsupported("learning-rate schedule %r" % config.get("class_name"))
    return cls.from_config(config.get("config", {}))


__getattr__ = _keras_getattr("optimizers.schedules", "")
