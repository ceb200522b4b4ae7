# SPDX-License-Identifier: Apache-2.0
"""``keras.losses``: the four losses librnn computes (on the model's first
output), by name, as objects or as the functions. The functions also compute
per-sample losses on numpy arrays, as Keras' do."""
import numpy as np

from ._base import keras_getattr as _keras_getattr
from ._base import refuse_arg, unsupported

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mse",
           "get", "serialize", "deserialize"]

_EPS = 1e-7


def _probs(y_pred, from_logits, softmax):
    p = np.asarray(y_pred, np.float64)
    if from_logits:
        if softmax:
            e = np.exp(p - p.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-p))
    return p


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample losses -log p[y_true] (numpy)."""
    if ignore_class is not None or axis != -1:
        raise unsupported("sparse_categorical_crossentropy(ignore_class, axis)")
    p = _probs(y_pred, from_logits, True)
    p = p / p.sum(-1, keepdims=True) if not from_logits else p
    t = np.asarray(y_true).astype(np.int64)
    if t.ndim == p.ndim:
        t = t[..., 0]
    picked = np.take_along_axis(p, t[..., None], -1)[..., 0]
    return (-np.log(np.clip(picked, _EPS, 1 - _EPS))).astype(np.float32)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if label_smoothing or axis != -1:
        raise unsupported("categorical_crossentropy(label_smoothing, axis)")
    p = _probs(y_pred, from_logits, True)
    p = p / p.sum(-1, keepdims=True) if not from_logits else p
    t = np.asarray(y_true, np.float64)
    return (-(t * np.log(np.clip(p, _EPS, 1 - _EPS))).sum(-1)).astype(np.float32)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if label_smoothing or axis != -1:
        raise unsupported("binary_crossentropy(label_smoothing, axis)")
    p = np.clip(_probs(y_pred, from_logits, False), _EPS, 1 - _EPS)
    t = np.asarray(y_true, np.float64)
    return (-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    return (d * d).mean(-1).astype(np.float32)


mse = MSE = mean_squared_error

_KIND_OF_FN = {sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
               categorical_crossentropy: "categorical_crossentropy",
               binary_crossentropy: "binary_crossentropy",
               mean_squared_error: "mean_squared_error"}


class Loss:
    """Base of the loss objects. ``loss(y_true, y_pred)`` gives the mean loss
    (numpy); subclassing Loss to write a loss is outside the subset."""

    kind = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
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

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise unsupported("%s(..., sample_weight=...)" % type(self).__name__)
        return np.float32(np.mean(self.call(y_true, y_pred)))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SparseCategoricalCrossentropy(Loss):
    kind = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        if ignore_class is not None:
            refuse_arg("SparseCategoricalCrossentropy", "ignore_class", ignore_class,
                       "librnn masks padding through Embedding(mask_zero=True)")
        if axis != -1:
            refuse_arg("SparseCategoricalCrossentropy", "axis", axis)
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)


class _SmoothedLoss(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None):
        cls = type(self).__name__
        if label_smoothing:
            refuse_arg(cls, "label_smoothing", label_smoothing)
        if axis != -1:
            refuse_arg(cls, "axis", axis)
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)


class CategoricalCrossentropy(_SmoothedLoss):
    kind = "categorical_crossentropy"

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits)


class BinaryCrossentropy(_SmoothedLoss):
    kind = "binary_crossentropy"

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits)


class MeanSquaredError(Loss):
    kind = "mean_squared_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


_NAMES = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
          "categorical_crossentropy": CategoricalCrossentropy,
          "binary_crossentropy": BinaryCrossentropy, "mean_squared_error": MeanSquaredError,
          "mse": MeanSquaredError}
_CLASSES = {c.__name__: c for c in (SparseCategoricalCrossentropy, CategoricalCrossentropy,
                                    BinaryCrossentropy, MeanSquaredError)}
_OTHERS = ("binary_focal_crossentropy", "categorical_focal_crossentropy",
           "categorical_generalized_cross_entropy", "categorical_hinge", "circle",
           "cosine_similarity", "ctc", "dice", "hinge", "huber", "kl_divergence", "kld",
           "log_cosh", "logcosh", "mean_absolute_error", "mae",
           "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
           "poisson", "squared_hinge", "tversky")


def get(identifier):
    """A Loss object from a name, a loss object, a loss class or a loss function."""
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


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
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
