# SPDX-License-Identifier: Apache-2.0
"""``keras.layers``: the layers librnn implements, with Keras 3's names, arguments
and defaults. Every argument librnn lacks, or a value it cannot do, raises
NotImplementedError naming the layer and the argument; the other Keras 3 layers
raise NotImplementedError when used."""
from __future__ import annotations

from typing import Any, Sequence

from ._base import Input, InputLayer, Layer, unsupported
from ._base import keras_getattr as _keras_getattr
from ._layers_attention import AdditiveAttention, Attention
from ._layers_core import (Activation, Concatenate, Conv1D, Dense, Dropout, Embedding, Flatten,
                           GlobalAveragePooling1D, GlobalMaxPooling1D, LayerNormalization,
                           MaxPooling1D, RepeatVector, SpatialDropout1D, TimeDistributed)
from ._layers_rnn import GRU, LSTM, Bidirectional, SimpleRNN

__all__ = ["Activation", "AdditiveAttention", "Attention", "Bidirectional", "Concatenate",
           "Conv1D", "Convolution1D", "Dense", "Dropout", "Embedding", "Flatten", "GRU",
           "GlobalAveragePooling1D", "GlobalAvgPool1D", "GlobalMaxPool1D", "GlobalMaxPooling1D",
           "Input", "InputLayer", "LSTM", "Layer", "LayerNormalization", "MaxPool1D",
           "MaxPooling1D", "RepeatVector", "SimpleRNN", "SpatialDropout1D", "TimeDistributed",
           "concatenate", "deserialize", "serialize"]

# Keras' aliases
Convolution1D = Conv1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
MaxPool1D = MaxPooling1D


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``keras.layers.concatenate([a, b])``: Concatenate(axis)(inputs).

    Args:
        inputs: The KerasTensors to concatenate (2 to 9).
        axis: The last axis only (see :class:`Concatenate`).
        **kwargs: The base layer arguments (name, ...).

    Returns:
        The concatenated KerasTensor.
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


_CLASSES: dict[Any, Any] = {c.__name__: c for c in (
    Activation, AdditiveAttention, Attention, Bidirectional, Concatenate, Conv1D, Dense, Dropout,
    Embedding, Flatten, GRU, GlobalAveragePooling1D, GlobalMaxPooling1D, InputLayer, LSTM,
    LayerNormalization, MaxPooling1D, RepeatVector, SimpleRNN, SpatialDropout1D,
    TimeDistributed)}


def serialize(layer: Layer) -> dict[str, Any]:
    """A layer's class name and configuration.

    Args:
        layer: The layer.

    Returns:
        ``{"class_name": ..., "config": layer.get_config()}``.
    """
    return {"class_name": layer.class_name, "config": layer.get_config()}


def deserialize(config: dict[str, Any]) -> Layer:
    """A layer from ``{"class_name": ..., "config": {...}}`` (serialize's output).

    Args:
        config: The class name and configuration.

    Returns:
        A new layer (unbuilt).

    Raises:
        NotImplementedError: A class outside librnn.keras' layers.
    """
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise unsupported("layer class %r" % config.get("class_name"))
    return cls.from_config(dict(config.get("config", {})))


__getattr__ = _keras_getattr("layers", """
    ActivityRegularization AdaptiveAveragePooling1D AdaptiveAveragePooling2D
    AdaptiveAveragePooling3D AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D Add
    AlphaDropout AugMix AutoContrast Average AveragePooling1D AveragePooling2D AveragePooling3D
    AvgPool1D AvgPool2D AvgPool3D BatchNormalization CategoryEncoding CenterCrop
    ContrastLimitedAdaptiveHistogramEqualization Conv1DTranspose Conv2D Conv2DTranspose Conv3D
    Conv3DTranspose ConvLSTM1D ConvLSTM2D ConvLSTM3D Convolution1DTranspose Convolution2D
    Convolution2DTranspose Convolution3D Convolution3DTranspose Cropping1D Cropping2D Cropping3D
    CutMix DepthwiseConv1D DepthwiseConv2D Discretization Dot ELU EinsumDense Equalization
    FlaxLayer GRUCell GaussianDropout GaussianNoise GlobalAveragePooling2D GlobalAveragePooling3D
    GlobalAvgPool2D GlobalAvgPool3D GlobalMaxPool2D GlobalMaxPool3D GlobalMaxPooling2D
    GlobalMaxPooling3D GroupNormalization GroupQueryAttention HashedCrossing Hashing Identity
    InputSpec IntegerLookup JaxLayer LSTMCell Lambda LeakyReLU Masking MaxNumBoundingBoxes
    MaxPool2D MaxPool3D MaxPooling2D MaxPooling3D Maximum MelSpectrogram Minimum MixUp
    MultiHeadAttention Multiply Normalization PReLU Permute Pipeline RMSNormalization RNN
    RandAugment RandomBrightness RandomColorDegeneration RandomColorJitter RandomContrast
    RandomCrop RandomElasticTransform RandomErasing RandomFlip RandomGaussianBlur RandomGrayscale
    RandomHue RandomInvert RandomPerspective RandomPosterization RandomRotation RandomSaturation
    RandomSharpness RandomShear RandomTranslation RandomZoom ReLU Rescaling Reshape Resizing
    ReversibleEmbedding STFTSpectrogram SeparableConv1D SeparableConv2D SeparableConvolution1D
    SeparableConvolution2D SimpleRNNCell Softmax Solarization SpatialDropout2D SpatialDropout3D
    SpectralNormalization StackedRNNCells StringLookup Subtract TFSMLayer TextVectorization
    TorchModuleWrapper UnitNormalization UpSampling1D UpSampling2D UpSampling3D Wrapper
    ZeroPadding1D ZeroPadding2D ZeroPadding3D add average dot maximum minimum multiply subtract
""")
