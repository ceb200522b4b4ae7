# SPDX-License-Identifier: Apache-2.0
"""BLEU over token ids, as NLTK 3.8's corpus_bleu / sentence_bleu (argument
order as NLTK's), and a helper to cut decoded rows to their lengths."""
import ctypes

import numpy as np

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


def corpus_bleu(list_of_references, hypotheses, max_order=4, smoothing=None, epsilon=0.1):
    """Corpus BLEU of ``hypotheses`` (token sequences) against
    ``list_of_references`` (for each hypothesis, a list of reference sequences;
    every hypothesis needs the same number of references)."""
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


def sentence_bleu(references, hypothesis, max_order=4, smoothing=None, epsilon=0.1):
    """Sentence BLEU of one hypothesis against its references (a list of sequences)."""
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


def sequences(tokens, lengths):
    """Decoded rows cut to their lengths: a list of lists of ints."""
    tokens = np.asarray(tokens)
    return [tokens[i, :int(n)].tolist() for i, n in enumerate(np.asarray(lengths))]
