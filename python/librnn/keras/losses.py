# SPDX-License-Identifier: Apache-2.0
"""``keras.losses``: the four losses librnn computes (on the model's first
output), by name, as objects or as the functions. The functions also compute
per-sample losses on numpy arrays, as Keras' do."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

from ._base import keras_getattr as _keras_getattr
from ._base import refuse_arg, unsupported

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mse",
           "get", "serialize", "deserialize"]

_EPS = 1e-7


def _probs(y_pred: npt.ArrayLike, from_logits: bool, softmax: bool) -> np.ndarray:
    p = np.asarray(y_pred, np.float64)
    if from_logits:
        if softmax:
            e = np.exp(p - p.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-p))
    return p


def sparse_categorical_crossentropy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike,
                                    from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1) -> np.ndarray:
    """Per-sample losses -log p[y_true] (numpy).

    Args:
        y_true: Integer class ids, of y_pred's shape without its last axis
            (or with a last axis of 1).
        y_pred: Probabilities over the last axis (normalised here), or logits.
        from_logits: Whether ``y_pred`` holds logits (softmax applied here).
        ignore_class: Must be None (else NotImplementedError).
        axis: Must be -1 (else NotImplementedError).

    Returns:
        float32 losses of y_true's shape (probabilities clipped to [1e-7, 1 - 1e-7]).
    """
    if ignore_class is not None or axis != -1:
        raise unsupported("sparse_categorical_crossentropy(ignore_class, axis)")
    p = _probs(y_pred, from_logits, True)
    p = p / p.sum(-1, keepdims=True) if not from_logits else p
    t = np.asarray(y_true).astype(np.int64)
    if t.ndim == p.ndim:
        t = t[..., 0]
    picked = np.take_along_axis(p, t[..., None], -1)[..., 0]
    return (-np.log(np.clip(picked, _EPS, 1 - _EPS))).astype(np.float32)


def categorical_crossentropy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike,
                             from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> np.ndarray:
    """Per-sample losses -sum(y_true * log p) over the last axis (numpy).

    Args:
        y_true: One-hot (or soft) targets of y_pred's shape.
        y_pred: Probabilities over the last axis (normalised here), or logits.
        from_logits: Whether ``y_pred`` holds logits (softmax applied here).
        label_smoothing: Must be 0 (else NotImplementedError).
        axis: Must be -1 (else NotImplementedError).

    Returns:
        float32 losses of y_pred's shape without its last axis.
    """
    if label_smoothing or axis != -1:
        raise unsupported("categorical_crossentropy(label_smoothing, axis)")
    p = _probs(y_pred, from_logits, True)
    p = p / p.sum(-1, keepdims=True) if not from_logits else p
    t = np.asarray(y_true, np.float64)
    return (-(t * np.log(np.clip(p, _EPS, 1 - _EPS))).sum(-1)).astype(np.float32)


def binary_crossentropy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike,
                        from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> np.ndarray:
    """Per-sample binary cross-entropy, averaged over the last axis (numpy).

    Args:
        y_true: Targets in [0, 1] of y_pred's shape.
        y_pred: Probabilities, or logits.
        from_logits: Whether ``y_pred`` holds logits (sigmoid applied here).
        label_smoothing: Must be 0 (else NotImplementedError).
        axis: Must be -1 (else NotImplementedError).

    Returns:
        float32 losses of y_pred's shape without its last axis.
    """
    if label_smoothing or axis != -1:
        raise unsupported("binary_crossentropy(label_smoothing, axis)")
    p = np.clip(_probs(y_pred, from_logits, False), _EPS, 1 - _EPS)
    t = np.asarray(y_true, np.float64)
    return (-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)).astype(np.float32)


def mean_squared_error(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
    """Per-sample mean of (y_pred - y_true)^2 over the last axis (numpy).

    Args:
        y_true: Targets.
        y_pred: Predictions of the same shape.

    Returns:
        float32 losses of y_pred's shape without its last axis.
    """
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    return (d * d).mean(-1).astype(np.float32)


mse = MSE = mean_squared_error

_KIND_OF_FN = {sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
               categorical_crossentropy: "categorical_crossentropy",
               binary_crossentropy: "binary_crossentropy",
               mean_squared_error: "mean_squared_error"}


class Loss:
    """Base of the loss objects. ``loss(y_true, y_pred)`` gives the mean loss
    (numpy); subclassing Loss to write a loss is outside the subset (it raises
    NotImplementedError). During fit the C library computes the loss.

    Args:
        name: The loss's name (default: its kind).
        reduction: "sum_over_batch_size" (the mean; "auto" is taken as it);
            others ("sum", "none", ...) raise NotImplementedError.
        dtype: None or "float32" (else NotImplementedError).
    """

    kind: str | None = None

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        if self.kind is None:
            raise unsupported("subclassing keras.losses.Loss (%s)" % type(self).__name__)
        if reduction not in ("sum_over_batch_size", "auto"):
            refuse_arg(type(self).__name__, "reduction", reduction,
                       "librnn averages over the batch (Keras' 'sum_over_batch_size')")
        if dtype not in (None, "float32"):
            refuse_arg(type(self).__name__, "dtype", dtype)
        self.name = name or self.kind
        self.reduction = "sum_over_batch_size"
        self.from_logits = False

    def call(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
        """The per-sample losses (numpy).

        Args:
            y_true: The targets.
            y_pred: The predictions.

        Returns:
            float32 losses, one per sample (and step).
        """
        raise NotImplementedError

    def __call__(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike,
                 sample_weight: Any = None) -> np.float32:
        if sample_weight is not None:
            raise unsupported("%s(..., sample_weight=...)" % type(self).__name__)
        return np.float32(np.mean(self.call(y_true, y_pred)))

    def get_config(self) -> dict[str, Any]:
        """The loss's arguments (Keras' ``get_config()``).

        Returns:
            name, reduction and from_logits.
        """
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """A new loss from ``get_config()``'s dict.

        Args:
            config: The arguments.

        Returns:
            The loss.
        """
        return cls(**config)


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy between integer class ids and predicted class
    probabilities (Keras' SparseCategoricalCrossentropy).

    Args:
        from_logits: Whether the predictions are logits (softmax applied in the
            loss) rather than probabilities.
        ignore_class: Must be None (librnn masks padding through
            ``Embedding(mask_zero=True)``; else NotImplementedError).
        reduction: "sum_over_batch_size" (see :class:`Loss`).
        axis: Must be -1 (else NotImplementedError).
        name: The loss's name.
        dtype: None or "float32".
    """

    kind = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str = "sum_over_batch_size", axis: int = -1,
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        if ignore_class is not None:
            refuse_arg("SparseCategoricalCrossentropy", "ignore_class", ignore_class,
                       "librnn masks padding through Embedding(mask_zero=True)")
        if axis != -1:
            refuse_arg("SparseCategoricalCrossentropy", "axis", axis)
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)

    def call(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
        """The per-sample losses (numpy; see the function of the same name).

        Args:
            y_true: The targets.
            y_pred: The predictions.

        Returns:
            float32 losses.
        """
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)


class _SmoothedLoss(Loss):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = "sum_over_batch_size", name: str | None = None,
                 dtype: Any = None) -> None:
        cls = type(self).__name__
        if label_smoothing:
            refuse_arg(cls, "label_smoothing", label_smoothing)
        if axis != -1:
            refuse_arg(cls, "axis", axis)
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)


class CategoricalCrossentropy(_SmoothedLoss):
    """Cross-entropy between one-hot targets and predicted class probabilities
    (Keras' CategoricalCrossentropy).

    Args:
        from_logits: Whether the predictions are logits (softmax applied in the
            loss) rather than probabilities.
        label_smoothing: Must be 0 (else NotImplementedError).
        axis: Must be -1 (else NotImplementedError).
        reduction: "sum_over_batch_size" (see :class:`Loss`).
        name: The loss's name (default "categorical_crossentropy").
        dtype: None or "float32".
    """

    kind = "categorical_crossentropy"

    def call(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
        """The per-sample losses (numpy; see the function of the same name).

        Args:
            y_true: The targets.
            y_pred: The predictions.

        Returns:
            float32 losses.
        """
        return categorical_crossentropy(y_true, y_pred, self.from_logits)


class BinaryCrossentropy(_SmoothedLoss):
    """Binary cross-entropy of 0/1 targets and predicted probabilities
    (Keras' BinaryCrossentropy).

    Args:
        from_logits: Whether the predictions are logits (sigmoid applied in the
            loss) rather than probabilities.
        label_smoothing: Must be 0 (else NotImplementedError).
        axis: Must be -1 (else NotImplementedError).
        reduction: "sum_over_batch_size" (see :class:`Loss`).
        name: The loss's name (default "binary_crossentropy").
        dtype: None or "float32".
    """

    kind = "binary_crossentropy"

    def call(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
        """The per-sample losses (numpy; see the function of the same name).

        Args:
            y_true: The targets.
            y_pred: The predictions.

        Returns:
            float32 losses.
        """
        return binary_crossentropy(y_true, y_pred, self.from_logits)


class MeanSquaredError(Loss):
    """The mean of squared differences (Keras' MeanSquaredError). It defines no
    accuracy: compiling it with an accuracy metric raises NotImplementedError.

    Args:
        reduction: "sum_over_batch_size" (see :class:`Loss`).
        name: The loss's name.
        dtype: None or "float32".
    """

    kind = "mean_squared_error"

    def __init__(self, reduction: str = "sum_over_batch_size", name: str = "mean_squared_error",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)

    def call(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
        """The per-sample losses (numpy; see the function of the same name).

        Args:
            y_true: The targets.
            y_pred: The predictions.

        Returns:
            float32 losses.
        """
        return mean_squared_error(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        """The loss's arguments.

        Returns:
            name and reduction.
        """
        return {"name": self.name, "reduction": self.reduction}


_NAMES = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
          "categorical_crossentropy": CategoricalCrossentropy,
          "binary_crossentropy": BinaryCrossentropy, "mean_squared_error": MeanSquaredError,
          "mse": MeanSquaredError}
_CLASSES: dict[Any, Any] = {c.__name__: c for c in (
    SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError)}
_OTHERS = ("binary_focal_crossentropy", "categorical_focal_crossentropy",
           "categorical_generalized_cross_entropy", "categorical_hinge", "circle",
           "cosine_similarity", "ctc", "dice", "hinge", "huber", "kl_divergence", "kld",
           "log_cosh", "logcosh", "mean_absolute_error", "mae",
           "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
           "poisson", "squared_hinge", "tversky")


def get(identifier: Any) -> Loss:
    """A Loss object from a name, a loss object, a loss class or a loss function.

    Args:
        identifier: A name ("sparse_categorical_crossentropy", "mse",
            "BinaryCrossentropy", ...), a Loss object or class, one of this
            module's functions, or a ``{"class_name", "config"}`` dict.

    Returns:
        The Loss.

    Raises:
        NotImplementedError: A Keras loss librnn lacks, or a custom function.
        ValueError: An unknown identifier.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier if identifier in _CLASSES else identifier.lower()
        if key in _NAMES:
            return _NAMES[key]()
        if key in _CLASSES:
            return _CLASSES[key]()
        if key in _OTHERS:
            raise unsupported("loss %r" % identifier,
                              "librnn has sparse_categorical_crossentropy, "
                              "categorical_crossentropy, binary_crossentropy and "
                              "mean_squared_error")
    if callable(identifier) and identifier in _KIND_OF_FN:
        return _NAMES[_KIND_OF_FN[identifier]]()
    if callable(identifier):
        raise unsupported("a custom loss function (%s)" % getattr(identifier, "__name__",
                                                                  identifier))
    raise ValueError("Could not interpret loss identifier: %r" % (identifier,))


def serialize(loss: Loss) -> dict[str, Any]:
    """A loss as Keras serializes it.

    Args:
        loss: The Loss object.

    Returns:
        ``{"class_name": ..., "config": ...}``.
    """
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """A loss from ``serialize``'s dict.

    Args:
        config: ``{"class_name": ..., "config": ...}``.

    Returns:
        The Loss.

    Raises:
        NotImplementedError: A class outside the subset.
    """
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise unsupported("loss %r" % config.get("class_name"))
    return cls.from_config(config.get("config", {}))


__getattr__ = _keras_getattr("losses", """
    BinaryFocalCrossentropy CTC CategoricalFocalCrossentropy CategoricalGeneralizedCrossEntropy
    CategoricalHinge Circle CosineSimilarity Dice Hinge Huber KLDivergence LogCosh
    MeanAbsoluteError MeanAbsolutePercentageError MeanSquaredLogarithmicError Poisson
    SquaredHinge Tversky binary_focal_crossentropy categorical_focal_crossentropy
    categorical_generalized_cross_entropy categorical_hinge circle cosine_similarity ctc dice
    hinge huber kl_divergence log_cosh mean_absolute_error mean_absolute_percentage_error
    mean_squared_logarithmic_error poisson squared_hinge tversky""")
