# SPDX-License-Identifier: Apache-2.0
"""BLEU over token ids, as NLTK 3.8's corpus_bleu / sentence_bleu (argument
order as NLTK's), and a helper to cut decoded rows to their lengths."""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

from . import _lib
from ._lib import lib

_I32P = ctypes.POINTER(ctypes.c_int32)


def _options(max_order, smoothing, epsilon):
    o = _lib.init_struct(_lib.rnn_bleu_options)
    o.max_order = int(max_order)
    o.smoothing = _lib.enum(_lib.BLEU_SMOOTHINGS, smoothing, "smoothing")
    o.epsilon = float(epsilon)
    return o


class _Seqs:
    """int32 arrays for a list of token sequences, and C arrays pointing at them."""

    def __init__(self, seqs):
        self.arrays = [np.ascontiguousarray(np.asarray(s, dtype=np.int64).astype(np.int32)
                                            .reshape(-1)) for s in seqs]
        n = max(1, len(self.arrays))
        self.ptrs = (_I32P * n)(*[a.ctypes.data_as(_I32P) if a.size else _I32P()
                                  for a in self.arrays])
        self.lens = (ctypes.c_int64 * n)(*[a.size for a in self.arrays])


def _is_sequence_of_tokens(refs):
    return len(refs) > 0 and all(np.ndim(r) == 0 for r in refs)


def corpus_bleu(list_of_references: Sequence[Any], hypotheses: Sequence[Any], max_order: int = 4,
                smoothing: str | None = None, epsilon: float = 0.1) -> float:
    """Corpus BLEU of token sequences, as NLTK's ``corpus_bleu`` (``rnn_corpus_bleu``).

    Args:
        list_of_references: For each hypothesis, a list of reference token
            sequences (or a single reference given as a plain sequence); every
            hypothesis needs the same number of references.
        hypotheses: The token sequences to score (lists or arrays of ints).
        max_order: Longest n-gram counted, 1..16. Defaults to 4.
        smoothing: None or 'none' (NLTK's default), or 'method1' (adds
            ``epsilon`` to zero n-gram counts). Defaults to None.
        epsilon: The count 'method1' uses. Defaults to 0.1.

    Returns:
        The BLEU score in [0, 1].

    Raises:
        ValueError: The numbers of hypotheses and reference lists differ, the
            hypotheses have different numbers of references, or ``smoothing``
            is unknown.
        RnnError: ``max_order`` is outside 1..16 or ``epsilon`` outside (0, 1]
            (RNN_ERR_INVALID_ARG).
    """
    if len(list_of_references) != len(hypotheses):
        raise ValueError("%d hypotheses but %d reference lists"
                         % (len(hypotheses), len(list_of_references)))
    refs = []
    per = None
    for r in list_of_references:
        r = list(r)
        if _is_sequence_of_tokens(r):
            r = [r]  # one reference given as a plain sequence
        if per is None:
            per = len(r)
        elif len(r) != per:
            raise ValueError("librnn's BLEU needs the same number of references for every "
                             "hypothesis (%d and %d)" % (per, len(r)))
        refs.extend(r)
    per = per or 1
    h, rs = _Seqs(hypotheses), _Seqs(refs)
    out = ctypes.c_double()
    opts = _options(max_order, smoothing, epsilon)
    lib.rnn_corpus_bleu(ctypes.byref(opts), len(h.arrays), h.ptrs, h.lens, per, rs.ptrs, rs.lens,
                        ctypes.byref(out))
    return out.value


def sentence_bleu(references: Sequence[Any], hypothesis: Sequence[int] | npt.ArrayLike,
                  max_order: int = 4, smoothing: str | None = None,
                  epsilon: float = 0.1) -> float:
    """Sentence BLEU of one hypothesis, as NLTK's ``sentence_bleu`` (``rnn_sentence_bleu``).

    Args:
        references: The reference token sequences (or one reference given as a
            plain sequence of tokens).
        hypothesis: The token sequence to score.
        max_order: Longest n-gram counted, 1..16. Defaults to 4.
        smoothing: None or 'none', or 'method1'. Defaults to None.
        epsilon: The count 'method1' uses. Defaults to 0.1.

    Returns:
        The BLEU score in [0, 1].

    Raises:
        ValueError: ``references`` is empty, or ``smoothing`` is unknown.
        RnnError: ``max_order`` is outside 1..16 or ``epsilon`` outside (0, 1]
            (RNN_ERR_INVALID_ARG).
    """
    refs = list(references)
    if _is_sequence_of_tokens(refs):
        refs = [refs]
    if not refs:
        raise ValueError("sentence_bleu needs at least one reference")
    h, rs = _Seqs([hypothesis]), _Seqs(refs)
    out = ctypes.c_double()
    opts = _options(max_order, smoothing, epsilon)
    lib.rnn_sentence_bleu(ctypes.byref(opts), h.ptrs[0], h.lens[0], len(refs), rs.ptrs, rs.lens,
                          ctypes.byref(out))
    return out.value


def sequences(tokens: npt.ArrayLike, lengths: npt.ArrayLike) -> list[list[int]]:
    """Decoded rows cut to their lengths.

    Args:
        tokens: (N, T) token ids, such as the first result of
            :meth:`librnn.Model.decode`.
        lengths: (N) lengths of the rows, such as its second result.

    Returns:
        A list of N lists of ints.
    """
    tokens = np.asarray(tokens)
    return [tokens[i, :int(n)].tolist() for i, n in enumerate(np.asarray(lengths))]
