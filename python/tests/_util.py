# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the binding's tests."""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PYDIR)
INCLUDE = os.path.join(ROOT, "include")
MAP = os.path.join(ROOT, "lib", "librnn.map")


def rng(seed=0):
    return np.random.default_rng(seed)


def rel_err(a, b):
    """Largest |a - b| / (|b| + 1e-2 * max|b|): relative, floored at 1% of the
    array's scale so that entries near zero do not dominate (as tests/golden)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.abs(b).max() if b.size else 0.0
    return float((np.abs(a - b) / (np.abs(b) + 1e-2 * scale + 1e-30)).max()) if b.size else 0.0


def abs_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max()) if b.size else 0.0


def tiny_tagger(seed=1, vocab=20, tags=4, units=8, compile=True):
    """Embedding(mask_zero) + LSTM(return_sequences) + Dense(softmax): a tagger."""
    import librnn
    m = librnn.Model(seed=seed)
    m.input(shape=(None,), dtype="int32")
    m.embedding(vocab, 8, mask_zero=True)
    m.lstm(units, return_sequences=True)
    m.dense(tags, activation="softmax")
    if compile:
        m.compile(loss="sparse_categorical_crossentropy", optimizer=librnn.Adam(0.02))
    return m


def tagging_data(n=96, T=8, vocab=20, tags=4, seed=0):
    """Right-padded token ids (0 = padding), tags = id % tags, lengths."""
    r = rng(seed)
    lengths = r.integers(2, T + 1, size=n).astype(np.int32)
    x = np.zeros((n, T), np.int32)
    for i, L in enumerate(lengths):
        x[i, :L] = r.integers(1, vocab, size=L)
    y = (x % tags).astype(np.int32)
    return x, y, lengths
