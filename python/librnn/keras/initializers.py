# SPDX-License-Identifier: Apache-2.0
"""``keras.initializers``: weight initializers, by name or as objects.

GlorotUniform, Orthogonal (gain 1), Zeros and Ones run in the C library (its
seeded generator, Keras' formulas); the others (Constant, RandomUniform,
RandomNormal, TruncatedNormal, GlorotNormal, He*, Lecun*, VarianceScaling,
Orthogonal with another gain) draw with numpy when the model is built and are
loaded into it. Calling an initializer, ``init(shape)``, returns a numpy array.
"""
from __future__ import annotations

import math
import random
from typing import Any, Sequence

import numpy as np

from ._base import unsupported

__all__ = ["Initializer", "Constant", "Zeros", "Ones", "GlorotUniform", "GlorotNormal",
           "Orthogonal", "RandomUniform", "RandomNormal", "TruncatedNormal", "HeNormal",
           "HeUniform", "LecunNormal", "LecunUniform", "VarianceScaling", "get", "serialize",
           "deserialize", "constant", "zeros", "ones", "glorot_uniform", "glorot_normal",
           "orthogonal", "random_uniform", "random_normal", "truncated_normal", "he_normal",
           "he_uniform", "lecun_normal", "lecun_uniform", "variance_scaling"]


def _generator(seed: int | None) -> np.random.Generator:
    if seed is None:
        seed = random.getrandbits(63)
    return np.random.default_rng(seed)


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """fan_in, fan_out of a weight shape, as Keras computes them.

    Args:
        shape: The weight's shape (a kernel's last two axes are input and
            output; leading axes, e.g. Conv1D's window, multiply both).

    Returns:
        (fan_in, fan_out).
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``init(shape, dtype=None)`` gives a float32 numpy array.

    Subclassing it works for layers that draw weights in Python (any
    initializer a layer cannot hand to the C library is called with the
    weight's shape when the model is built), but is not checked further.
    """

    c_code: str | None = None  # the C library's name when it can initialise this itself

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments (Keras' ``get_config()``).

        Returns:
            A dict that ``from_config`` takes.
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """A new initializer from ``get_config()``'s dict.

        Args:
            config: The arguments.

        Returns:
            The initializer.
        """
        return cls(**config)

    def __repr__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self.get_config())


class Constant(Initializer):
    """Every entry ``value`` (a scalar), or ``value`` itself (an array of the
    weight's shape, e.g. pretrained embeddings).

    Args:
        value: A scalar, or an array broadcastable to the weight's shape.
    """

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        v = np.asarray(self.value, np.float32)
        return np.broadcast_to(v, tuple(shape)).astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            ``{"value": ...}`` (an array as nested lists).
        """
        v = self.value
        return {"value": v.tolist() if isinstance(v, np.ndarray) else v}


class Zeros(Initializer):
    """All zeros (drawn by the C library)."""

    c_code = "zeros"

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        return np.zeros(shape, np.float32)


class Ones(Initializer):
    """All ones (drawn by the C library)."""

    c_code = "ones"

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        return np.ones(shape, np.float32)


class RandomUniform(Initializer):
    """Values drawn uniformly in [minval, maxval) (with numpy).

    Args:
        minval: The lower bound.
        maxval: The upper bound.
        seed: Seeds the numpy generator the values are drawn from (None: a new
            seed from Python's generator each call). The numbers differ from
            Keras' for the same seed.
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05,
                 seed: int | None = None) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        return _generator(self.seed).uniform(self.minval, self.maxval, shape).astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    """Values drawn from a normal distribution (with numpy).

    Args:
        mean: The mean.
        stddev: The standard deviation.
        seed: Seeds the numpy generator the values are drawn from (None: a new
            seed from Python's generator each call). The numbers differ from
            Keras' for the same seed.
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        return _generator(self.seed).normal(self.mean, self.stddev, shape).astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated(g: np.random.Generator, shape: Any, stddev: float) -> np.ndarray:
    """Normal(0, stddev) redrawn outside two standard deviations."""
    out = g.normal(0.0, stddev, shape)
    bad = np.abs(out) > 2 * stddev
    while bad.any():
        out[bad] = g.normal(0.0, stddev, int(bad.sum()))
        bad = np.abs(out) > 2 * stddev
    return out


class TruncatedNormal(Initializer):
    """Values drawn from a normal distribution, redrawn beyond two standard
    deviations from the mean (with numpy).

    Args:
        mean: The mean.
        stddev: The standard deviation before truncation.
        seed: Seeds the numpy generator the values are drawn from (None: a new
            seed from Python's generator each call). The numbers differ from
            Keras' for the same seed.
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        g = _generator(self.seed)
        return (self.mean + _truncated(g, shape, self.stddev)).astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Values whose variance is ``scale / n``, n the fan-in, fan-out or their
    mean (Keras' VarianceScaling; drawn with numpy).

    Args:
        scale: The scaling factor (positive).
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal", "untruncated_normal" ("normal") or
            "uniform" (in [-limit, limit], limit = sqrt(3 * scale / n)).
        seed: Seeds the numpy generator the values are drawn from (None: a new
            seed from Python's generator each call). The numbers differ from
            Keras' for the same seed.

    Raises:
        ValueError: An unknown mode or distribution.
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError("Invalid `mode` argument: %r" % (mode,))
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError("Invalid `distribution` argument: %r" % (distribution,))
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        g = _generator(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            out = g.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            out = _truncated(g, shape, math.sqrt(scale) / 0.87962566103423978)
        else:
            out = g.normal(0.0, math.sqrt(scale), shape)
        return out.astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).
    Unseeded, the C library draws it (its seeded generator); seeded, numpy.

    Args:
        seed: None, or a seed for the numpy generator (the numbers differ from
            Keras' for the same seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed)
        # a seeded initializer draws with numpy, so that the seed means something
        self.c_code = "glorot_uniform" if seed is None else None

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: truncated normal, stddev sqrt(2 / (fan_in + fan_out)).

    Args:
        seed: None, or a seed for the numpy generator (the numbers differ from
            Keras' for the same seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    """He normal: truncated normal, stddev sqrt(2 / fan_in).

    Args:
        seed: None, or a seed for the numpy generator (the numbers differ from
            Keras' for the same seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    """He uniform: U(-limit, limit), limit = sqrt(6 / fan_in).

    Args:
        seed: None, or a seed for the numpy generator (the numbers differ from
            Keras' for the same seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    """LeCun normal: truncated normal, stddev sqrt(1 / fan_in).

    Args:
        seed: None, or a seed for the numpy generator (the numbers differ from
            Keras' for the same seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    """LeCun uniform: U(-limit, limit), limit = sqrt(3 / fan_in).

    Args:
        seed: None, or a seed for the numpy generator (the numbers differ from
            Keras' for the same seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"seed": self.seed}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, of shape (rows, cols) with the
    leading axes flattened into rows (Keras' Orthogonal, the recurrent kernels'
    default). With gain 1 and no seed the C library draws it; otherwise numpy.

    Args:
        gain: The multiplier.
        seed: None, or a seed for the numpy generator.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, seed
        self.c_code = "orthogonal" if gain == 1.0 and seed is None else None

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError("Orthogonal needs a shape of rank >= 2 (got %s)" % (shape,))
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        g = _generator(self.seed)
        a = g.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        """The initializer's arguments.

        Returns:
            A dict that ``from_config`` takes.
        """
        return {"gain": self.gain, "seed": self.seed}


_NAMES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "orthogonal": Orthogonal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "random_normal": RandomNormal, "normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "variance_scaling": VarianceScaling,
}
_CLASSES: dict[Any, Any] = {c.__name__: c for c in set(_NAMES.values())}

# Keras' lower-case aliases are the classes themselves
constant, zeros, ones = Constant, Zeros, Ones
glorot_uniform, glorot_normal, orthogonal = GlorotUniform, GlorotNormal, Orthogonal
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
variance_scaling = VarianceScaling

_KERAS_ONLY = {"Identity", "identity", "IdentityInitializer", "STFT", "STFTInitializer",
               "OrthogonalInitializer", "stft"}


def get(identifier: Any, what: str = "initializer") -> Initializer | None:
    """An Initializer from a name, a config dict, an Initializer or a class.

    Args:
        identifier: None, a name ("glorot_uniform", "zeros", "GlorotUniform",
            ...), a ``{"class_name", "config"}`` dict, an Initializer or an
            Initializer class.
        what: The argument being resolved, for the error message.

    Returns:
        The Initializer (None for None).

    Raises:
        NotImplementedError: A name or object outside the subset.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier.lower() if identifier.lower() in _NAMES else identifier
        if key in _NAMES:
            return _NAMES[key]()
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
    raise unsupported("%s=%r" % (what, identifier))


def serialize(init: Initializer) -> dict[str, Any]:
    """An initializer as Keras serializes it.

    Args:
        init: The initializer.

    Returns:
        ``{"class_name": ..., "config": ...}``.
    """
    return {"class_name": type(init).__name__, "config": init.get_config()}


def deserialize(config: dict[str, Any]) -> Initializer:
    """An initializer from ``serialize``'s dict.

    Args:
        config: ``{"class_name": ..., "config": ...}``.

    Returns:
        The initializer.

    Raises:
        NotImplementedError: A class outside the subset.
    """
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise unsupported("initializer %r" % config.get("class_name"))
    return cls.from_config(config.get("config", {}))


def __getattr__(name: str) -> Any:
    if name in _KERAS_ONLY:
        raise unsupported("keras.initializers.%s" % name)
    raise AttributeError("module 'librnn.keras.initializers' has no attribute %r" % name)
