# SPDX-License-Identifier: Apache-2.0
"""``keras.metrics``: accuracy, the one metric librnn computes during fit and
evaluate (besides the loss), by name ("accuracy", "acc",
"sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy") or
as objects. Keras resolves "accuracy" from the output's shape; librnn's accuracy
follows the loss (sparse and categorical cross-entropy: the argmax; binary
cross-entropy: probability > 0.5). Where they would differ, compile raises
NotImplementedError. The functions also compute per-sample values on numpy arrays.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

from ._base import keras_getattr as _keras_getattr
from ._base import unsupported

__all__ = ["Metric", "SparseCategoricalAccuracy", "CategoricalAccuracy", "BinaryAccuracy",
           "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "get"]


def sparse_categorical_accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
    """Per-sample hits: whether the argmax of y_pred is the class id (numpy).

    Args:
        y_true: Class ids (with or without a last axis of 1).
        y_pred: Class scores over the last axis.

    Returns:
        float32 1.0 / 0.0 per sample (and step).
    """
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim == p.ndim:
        t = t[..., 0]
    return (p.argmax(-1) == t).astype(np.float32)


def categorical_accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> np.ndarray:
    """Per-sample hits: whether y_pred's and y_true's argmax agree (numpy).

    Args:
        y_true: One-hot targets.
        y_pred: Class scores over the last axis.

    Returns:
        float32 1.0 / 0.0 per sample (and step).
    """
    return (np.asarray(y_pred).argmax(-1) == np.asarray(y_true).argmax(-1)).astype(np.float32)


def binary_accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike,
                    threshold: float = 0.5) -> np.ndarray:
    """Per-sample share of predictions above ``threshold`` that match 0/1
    targets, over the last axis (numpy).

    Args:
        y_true: 0/1 targets.
        y_pred: Probabilities (or logits with threshold 0).
        threshold: A prediction above it counts as 1.

    Returns:
        float32 accuracies of y_pred's shape without its last axis.
    """
    p = (np.asarray(y_pred) > threshold).astype(np.float32)
    return (p == np.asarray(y_true, np.float32)).mean(-1).astype(np.float32)


class Metric:
    """Base of the metric objects; subclassing it is outside the subset (it
    raises NotImplementedError). The objects name the accuracy fit and
    evaluate log; they hold no state and have no update_state/result.

    Args:
        name: The name the figure is logged under (default: its kind).
        dtype: Kept (librnn computes in float32).
    """

    kind: str | None = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        if self.kind is None:
            raise unsupported("subclassing keras.metrics.Metric (%s)" % type(self).__name__)
        self.name = name or self.kind
        self.dtype = dtype

    def get_config(self) -> dict[str, Any]:
        """The metric's arguments.

        Returns:
            ``{"name": ...}``.
        """
        return {"name": self.name}


class SparseCategoricalAccuracy(Metric):
    """How often the predicted class (argmax) is the integer target; librnn
    computes it with sparse_categorical_crossentropy.

    Args:
        name: The logged name.
        dtype: Kept.
    """

    kind = "sparse_categorical_accuracy"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class CategoricalAccuracy(Metric):
    """How often the predicted class (argmax) is the one-hot target's; librnn
    computes it with categorical_crossentropy.

    Args:
        name: The logged name.
        dtype: Kept.
    """

    kind = "categorical_accuracy"

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class BinaryAccuracy(Metric):
    """How often predictions above ``threshold`` match 0/1 targets; librnn
    computes it with binary_crossentropy.

    Args:
        name: The logged name.
        dtype: Kept.
        threshold: Must be librnn's: 0.5 on probabilities, 0 with
            ``BinaryCrossentropy(from_logits=True)`` (compile raises
            NotImplementedError otherwise).
    """

    kind = "binary_accuracy"

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(name, dtype)
        self.threshold = float(threshold)

    def get_config(self) -> dict[str, Any]:
        """The metric's arguments.

        Returns:
            name and threshold.
        """
        return {"name": self.name, "threshold": self.threshold}


_FUNCS: dict[Any, str] = {sparse_categorical_accuracy: "sparse_categorical_accuracy",
          categorical_accuracy: "categorical_accuracy", binary_accuracy: "binary_accuracy"}
_CLASSES: dict[Any, Any] = {c.__name__: c for c in (
    SparseCategoricalAccuracy, CategoricalAccuracy, BinaryAccuracy)}


def resolve(metric: Any, loss: Any, output_shape: tuple[Any, ...]) -> tuple[str, Any]:
    """(log name, kind) of ``metric`` for a model compiled with ``loss`` (a
    losses.Loss) whose first output has ``output_shape``; NotImplementedError
    when librnn's accuracy is not the metric Keras would compute.

    Args:
        metric: What compile got: a name, a Metric object or class, or an
            accuracy function.
        loss: The compiled losses.Loss.
        output_shape: The first output's shape (Keras picks "accuracy"'s kind
            from it).

    Returns:
        (the name logged, the accuracy kind).

    Raises:
        NotImplementedError: Not an accuracy, or not the one librnn computes
            for ``loss``, or a BinaryAccuracy threshold other than librnn's.
    """
    threshold = 0.5
    if isinstance(metric, Metric):
        name, kind = metric.name, metric.kind
        threshold = getattr(metric, "threshold", 0.5)
    elif isinstance(metric, type) and issubclass(metric, Metric):
        m = metric()
        name, kind = m.name, m.kind
    elif callable(metric) and metric in _FUNCS:
        name = kind = _FUNCS[metric]
    elif isinstance(metric, str) and metric in ("accuracy", "acc"):
        name = metric
        # Keras' choice for "accuracy": from the shapes of the targets and the output
        if loss.kind == "sparse_categorical_crossentropy":
            kind = "sparse_categorical_accuracy"
        elif output_shape[-1] == 1:
            kind = "binary_accuracy"
        else:
            kind = "categorical_accuracy"
    elif isinstance(metric, str) and metric in ("sparse_categorical_accuracy",
                                                "categorical_accuracy", "binary_accuracy"):
        name = kind = metric
    elif isinstance(metric, str) and metric in _CLASSES:
        m = _CLASSES[metric]()
        name, kind = m.name, m.kind
    else:
        raise unsupported("metric %r" % (getattr(metric, "__name__", None) or
                                         getattr(metric, "name", None) or metric,),
                          "librnn computes the loss and accuracy")
    librnn_kind = {"sparse_categorical_crossentropy": "sparse_categorical_accuracy",
                   "categorical_crossentropy": "categorical_accuracy",
                   "binary_crossentropy": "binary_accuracy"}.get(loss.kind)
    if kind != librnn_kind:
        raise unsupported("metrics=[%r] with loss %s on outputs %s" % (
            metric if isinstance(metric, str) else name, loss.kind, output_shape),
            "Keras computes %s there; librnn's accuracy is %s"
            % (kind, librnn_kind or "undefined for mean_squared_error"))
    if kind == "binary_accuracy":
        want = 0.0 if loss.from_logits else 0.5
        if threshold != want:
            raise unsupported("%s with threshold %g and %s(from_logits=%s)" % (
                name, threshold, type(loss).__name__, loss.from_logits),
                "librnn counts a hit when the probability is above 0.5 (logits above 0): "
                "use keras.metrics.BinaryAccuracy(threshold=%g)" % want)
    return name, kind


def get(identifier: Any) -> Metric:
    """A Metric object from a name or a Metric.

    Args:
        identifier: A Metric, a class name ("BinaryAccuracy") or an accuracy
            name ("binary_accuracy", ...).

    Returns:
        The Metric.

    Raises:
        NotImplementedError: Anything else.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _CLASSES:
        return _CLASSES[identifier]()
    if isinstance(identifier, str) and identifier in ("sparse_categorical_accuracy",
                                                      "categorical_accuracy",
                                                      "binary_accuracy"):
        return {"sparse_categorical_accuracy": SparseCategoricalAccuracy,
                "categorical_accuracy": CategoricalAccuracy,
                "binary_accuracy": BinaryAccuracy}[identifier]()
    raise unsupported("metric %r" % (identifier,))


__getattr__ = _keras_getattr("metrics", """
    AUC Accuracy BinaryCrossentropy BinaryIoU CategoricalCrossentropy CategoricalHinge
    ConcordanceCorrelation CosineSimilarity F1Score FBetaScore FalseNegatives FalsePositives
    Hinge IoU KLDivergence LogCoshError Mean MeanAbsoluteError MeanAbsolutePercentageError
    MeanIoU MeanMetricWrapper MeanSquaredError MeanSquaredLogarithmicError OneHotIoU
    OneHotMeanIoU PearsonCorrelation Poisson Precision PrecisionAtRecall R2Score Recall
    RecallAtPrecision RootMeanSquaredError SensitivityAtSpecificity SparseCategoricalCrossentropy
    SparseTopKCategoricalAccuracy SpecificityAtSensitivity SquaredHinge Sum
    TopKCategoricalAccuracy TrueNegatives TruePositives binary_crossentropy
    binary_focal_crossentropy categorical_crossentropy categorical_focal_crossentropy
    categorical_hinge concordance_correlation hinge huber kl_divergence log_cosh
    mean_absolute_error mean_absolute_percentage_error mean_squared_error
    mean_squared_logarithmic_error pearson_correlation poisson sparse_categorical_crossentropy
    sparse_top_k_categorical_accuracy squared_hinge top_k_categorical_accuracy""")
