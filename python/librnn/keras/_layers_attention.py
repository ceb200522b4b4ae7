# SPDX-License-Identifier: Apache-2.0
"""Attention layers: Attention (Luong's dot score) and AdditiveAttention
(Bahdanau's score), called on ``[query, value]``.

Keras' AdditiveAttention scores ``sum(scale * tanh(q + v))``; librnn's additive
attention scores ``a . tanh(q Wq + v Wv + b)``. librnn.keras runs it with Wq and
Wv the identity and b zero, kept so after every optimizer step, and ``a`` Keras'
``scale`` (all ones, also kept, when use_scale=False): the same function, the
same gradients and the same weights as Keras'."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import initializers as _init
from ._base import Layer, refuse_arg, unsupported

__all__ = ["Attention", "AdditiveAttention"]


class _BaseAttention(Layer):
    _drops_mask = False
    _c_kind_shared = False

    def _mask_args(self, ins, states):
        return []   # Keras reads the masks of [query, value] without making them inputs

    def _set_output_masks(self, node):
        q = node.inputs[0]
        if q._keras_mask is not None:
            node.outputs[0]._keras_mask = q._keras_mask
            node.outputs[0]._mask_key = q._mask_key

    def _parse_call(self, inputs, return_attention_scores=False, use_causal_mask=False,
                    **kwargs):
        if kwargs:
            raise TypeError("%s() got unexpected arguments %s" % (self.class_name,
                                                                sorted(kwargs)))
        if use_causal_mask:
            raise unsupported("%s(..., use_causal_mask=True)" % self.class_name)
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError("%s layer must be called on a list of inputs, namely "
                             "[query, value] or [query, value, key]" % self.class_name)
        if len(inputs) == 3 and inputs[2] is not inputs[1]:
            raise unsupported("%s on [query, value, key] with a key other than the value"
                              % self.class_name)
        return list(inputs[:2]), [], {"return_attention_scores": bool(return_attention_scores)}

    def _output_specs(self, ins, states, call_args):
        q, v = ins
        for t in ins:
            if t.dtype != "float32" or len(t.shape) != 3:
                raise unsupported("%s on inputs of shape %s" % (self.class_name, t.shape),
                                  "query and value are (batch, steps, features) sequences")
        if q.shape[-1] is not None and v.shape[-1] is not None and q.shape[-1] != v.shape[-1]:
            raise ValueError("%s: query and value must have the same last dimension "
                             "(got %s and %s)" % (self.class_name, q.shape, v.shape))
        out = [((q.shape[0], q.shape[1], v.shape[2]), "float32", q._masked)]
        if call_args.get("return_attention_scores"):
            out.append(((q.shape[0], q.shape[1], v.shape[1]), "float32", False))
            return out, False
        return out, True

    def _check_dropout(self, dropout):
        if dropout:
            refuse_arg(self.class_name, "dropout", dropout)
        self.dropout = 0.0


class Attention(_BaseAttention):
    """``keras.layers.Attention()`` (Luong's dot-product score, no learned scale).

    Called on ``[query, value]`` (or ``[query, value, value]``), (batch, steps,
    features) sequences of the same feature size: the output is, for every query
    step, the softmax(query . value)-weighted sum of the value steps, and with
    ``return_attention_scores=True`` also those weights. With masked sequences
    (``Embedding(mask_zero=True)``) padded value steps get no weight, and the
    rows of padded query steps are zeros (Keras computes them).
    ``use_causal_mask=True``, a key other than the value, and calling the
    layer a second time (a shared attention layer) raise NotImplementedError.

    Args:
        use_scale: Must be False: Keras learns a scalar scale there, which
            librnn lacks (else NotImplementedError).
        score_mode: "dot"; "concat" raises NotImplementedError (use
            AdditiveAttention).
        dropout: Must be 0 (dropout on the attention weights; else
            NotImplementedError).
        seed: Kept (Keras seeds the dropout with it).
        **kwargs: The base layer arguments (see :class:`Layer`).

    Raises:
        ValueError: An unknown score_mode.
    """

    _config_keys = ("use_scale", "score_mode", "dropout")

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        if use_scale:
            refuse_arg("Attention", "use_scale", use_scale,
                       "Keras learns a scalar there; librnn has no such weight")
        if score_mode != "dot":
            if score_mode == "concat":
                refuse_arg("Attention", "score_mode", score_mode,
                           "use AdditiveAttention (Bahdanau's score)")
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             "{'dot', 'concat'}. Received: score_mode=%r" % (score_mode,))
        super().__init__(**kwargs)
        self._check_dropout(dropout)
        self.use_scale, self.score_mode, self.seed = False, "dot", seed

    def _c_build(self, b, node, refs, state_refs):
        return b.m.attention(refs[0], refs[1], score="dot")


class AdditiveAttention(_BaseAttention):
    """``keras.layers.AdditiveAttention(use_scale=True)`` (Bahdanau's score:
    ``sum(scale * tanh(query + value))`` per query and value step).

    Called as :class:`Attention`. ``compile(optimizer=...)`` with
    ``global_clipnorm`` raises NotImplementedError for a model holding it (the
    fixed projections librnn adds would count in the norm).

    Args:
        use_scale: Whether ``scale`` (a vector of the feature size) is a learned
            weight; with False it is all ones.
        dropout: Must be 0 (else NotImplementedError).
        **kwargs: The base layer arguments (see :class:`Layer`).
    """

    _config_keys = ("use_scale", "dropout")

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check_dropout(dropout)
        self.use_scale = bool(use_scale)

    def _compute_weight_shapes(self, ins):
        d = ins[1].shape[-1]
        if d is None:
            raise ValueError("AdditiveAttention: the value's last dimension must be known")
        return [("scale", (d,), True)] if self.use_scale else []

    def _c_build(self, b, node, refs, state_refs):
        return b.m.attention(refs[0], refs[1], score="additive")

    def _c_fixed(self, c):
        d = c.get_param("bias").shape[0]
        eye = np.eye(d, dtype=np.float32)
        fixed = [("query_kernel", eye), ("value_kernel", eye),
                 ("bias", np.zeros(d, np.float32))]
        if not self.use_scale:
            fixed.append(("score_kernel", np.ones(d, np.float32)))
        return fixed

    def _c_weights(self, c):
        return [c.get_param("score_kernel")] if self.use_scale else []

    def _c_set_weights(self, c, weights):
        if self.use_scale:
            c.set_param("score_kernel", weights[0])

    def _numpy_init(self, c):
        # Keras draws `scale` with glorot_uniform on shape (dim,)
        if not self.use_scale:
            return None
        return [_init.GlorotUniform()(self._weight_shapes[0][1])]
