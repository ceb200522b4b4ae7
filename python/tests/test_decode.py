# SPDX-License-Identifier: Apache-2.0
"""Decoding (greedy, sampling, beam), the step API, scheduled sampling, and BLEU
against a direct Python implementation of NLTK's formulas."""
import math
import sys
import unittest
from collections import Counter

import numpy as np

import librnn

V = 7


def char_lm(seed=3, train=True):
    m = librnn.Model(seed=seed)
    m.input(shape=(None,), dtype="int32")
    m.embedding(V, 8)
    m.lstm(16, return_sequences=True)
    m.dense(V, activation="softmax")
    if train:
        # Next token = token % 6 + 1, with some noise: a peaked but not trivial model.
        r = np.random.default_rng(0)
        x = r.integers(1, V, size=(64, 6)).astype(np.int32)
        y = (x % 6 + 1).astype(np.int32)
        y[r.random(y.shape) < 0.2] = 3
        m.compile(loss="sparse_categorical_crossentropy", optimizer=librnn.Adam(0.05))
        for _ in range(15):
            m.train_step(x, y)
    return m


def naive_greedy(m, prefix, steps):
    """Greedy decoding through the step API, argmax and log-probabilities in numpy."""
    probs = m.step_begin(prefix)
    tokens, score = [], np.zeros(len(prefix))
    for _ in range(steps):
        p = probs[:, -1]
        t = p.argmax(-1)
        score += np.log(p[np.arange(len(t)), t])
        tokens.append(t)
        probs = m.step(t)
    m.step_end()
    return np.stack(tokens, 1), score


class TestDecode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = char_lm()

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def test_greedy_equals_step_api(self):
        m = self.m
        tokens, lengths, scores = m.decode(batch_size=3, start_token=1, end_token=None,
                                           max_length=6)
        self.assertEqual(tokens.shape, (3, 6))
        self.assertEqual(tokens.dtype, np.int32)
        self.assertEqual(lengths.tolist(), [6, 6, 6])
        ref, ref_scores = naive_greedy(m, np.ones((3, 1), np.int32), 6)
        np.testing.assert_array_equal(tokens, ref)
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-4, atol=1e-5)

    def test_prompt(self):
        m = self.m
        prompt = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
        tokens, _, scores = m.decode(prompt, end_token=None, max_length=4)
        ref, ref_scores = naive_greedy(m, prompt, 4)
        np.testing.assert_array_equal(tokens, ref)
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-4, atol=1e-5)
        same, _, _ = m.decode([prompt.astype(np.int64)], end_token=None, max_length=4)
        np.testing.assert_array_equal(same, tokens)

    def test_beam_and_sampling(self):
        m = self.m
        g = m.decode(batch_size=2, end_token=None, max_length=5)
        b1 = m.decode(batch_size=2, end_token=None, max_length=5, strategy="beam", beam_width=1)
        np.testing.assert_array_equal(b1[0], g[0])
        np.testing.assert_allclose(b1[2], g[2], rtol=1e-5)
        b4 = m.decode(batch_size=2, end_token=None, max_length=5, strategy="beam", beam_width=4,
                      length_penalty=0.6)
        self.assertTrue((b4[2] <= 0).all())
        k1 = m.decode(batch_size=2, end_token=None, max_length=5, strategy="sample", top_k=1,
                      seed=9)
        np.testing.assert_array_equal(k1[0], g[0])
        s1 = m.decode(batch_size=4, end_token=None, max_length=8, strategy="sample",
                      temperature=2.0, seed=1)
        s2 = m.decode(batch_size=4, end_token=None, max_length=8, strategy="sample",
                      temperature=2.0, seed=1)
        np.testing.assert_array_equal(s1[0], s2[0])
        with self.assertRaises(librnn.RnnError) as cm:
            m.decode(batch_size=1, strategy="sample", temperature=0.0)
        self.assertIn("temperature", cm.exception.message)
        with self.assertRaises(ValueError):
            m.decode(batch_size=1, strategy="nucleus")

    def test_end_token(self):
        m = self.m
        tokens, lengths, _ = m.decode(batch_size=3, start_token=1, end_token=3, max_length=10)
        for row, n in zip(tokens, lengths):
            self.assertTrue(0 <= n <= 10)
            self.assertNotIn(3, row[:n].tolist())
            self.assertTrue((row[n:] == 3).all())
        self.assertEqual(librnn.sequences(tokens, lengths),
                         [row[:n].tolist() for row, n in zip(tokens, lengths)])

    def test_step_select_and_context_manager(self):
        m = self.m
        with m.stepping(np.array([[1], [5]], np.int32)) as probs:
            self.assertEqual(probs.shape, (2, 1, V))
            a = m.step(np.array([2, 4]))
            m.step_select([1, 1])
            b = m.step(np.array([[6], [6]]))
            np.testing.assert_allclose(b[0], b[1], rtol=1e-6)
            self.assertFalse(np.allclose(a[0], a[1]))
        with self.assertRaises(librnn.RnnError) as cm:
            m.step(np.array([1, 1]))          # after step_end
        self.assertEqual(cm.exception.status_name, "RNN_ERR_STATE")

    def test_scheduled_sampling(self):
        m = self.m
        x = np.random.default_rng(1).integers(1, V, size=(4, 6)).astype(np.int32)
        np.testing.assert_array_equal(m.scheduled_sampling(x, 0.0, seed=1), x)
        mixed = m.scheduled_sampling(x, 1.0, seed=1)
        pred = m.forward(x).argmax(-1)
        np.testing.assert_array_equal(mixed[:, 0], x[:, 0])
        np.testing.assert_array_equal(mixed[:, 1:], pred[:, :-1])

    def test_unsupported_decoder(self):
        with librnn.Model() as m:
            m.input(shape=(None,), dtype="int32")
            m.embedding(V, 4)
            m.gru(4, return_sequences=True, bidirectional=True)
            m.dense(V, activation="softmax")
            with self.assertRaises(librnn.RnnError) as cm:
                m.decode(batch_size=1)
            self.assertEqual(cm.exception.status_name, "RNN_ERR_UNSUPPORTED")

    def test_seq2seq_two_inputs(self):
        with librnn.Model(seed=2) as m:
            m.input(shape=(None,), dtype="int32")
            e = m.embedding(V, 4, mask_zero=True)
            enc = m.lstm(6, return_sequences=True, return_state=True)
            m.input(shape=(None,), dtype="int32")
            m.shared(e)
            dec = m.lstm(6, return_sequences=True)
            dec.connect_initial_state([(enc, 1), (enc, 2)])
            att = m.attention(dec, enc, score="additive", units=5)
            m.concatenate(att, dec)
            m.dense(V, activation="softmax")
            src = np.array([[3, 4, 5, 6], [2, 2, 0, 0]], np.int32)
            tokens, lengths, scores = m.decode([src, None], strategy="beam", beam_width=3,
                                               start_token=1, end_token=2, max_length=7)
            self.assertEqual(tokens.shape, (2, 7))
            self.assertTrue(((lengths >= 0) & (lengths <= 7)).all())
            self.assertTrue((tokens != 0).all())   # id 0 is padding (mask_zero)
            with self.assertRaises(ValueError):
                m.decode(src)                 # two inputs: give a list


def _ngrams(seq, n):
    return [tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)]


def ref_corpus_bleu(list_of_refs, hyps, max_order=4, method1=False, eps=0.1):
    """NLTK 3.8 corpus_bleu, written out."""
    num, den = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for refs, h in zip(list_of_refs, hyps):
        for n in range(1, max_order + 1):
            counts = Counter(_ngrams(h, n))
            best = Counter()
            for r in refs:
                best |= Counter(_ngrams(r, n))
            num[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            den[n - 1] += max(1, len(h) - n + 1)
        hyp_len += len(h)
        ref_len += min((abs(len(r) - len(h)), len(r)) for r in refs)[1]
    if num[0] == 0:
        return 0.0
    logs = []
    for a, b in zip(num, den):
        p = a / b if a else (eps / b if method1 else sys.float_info.min)
        logs.append(math.log(p))
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return bp * math.exp(sum(logs) / max_order)


class TestBleu(unittest.TestCase):
    def test_against_direct_formula(self):
        r = np.random.default_rng(5)
        hyps, refs = [], []
        for i in range(30):
            h = r.integers(0, 6, size=r.integers(0, 12)).tolist()
            rs = [r.integers(0, 6, size=r.integers(1, 14)).tolist() for _ in range(3)]
            hyps.append(h)
            refs.append(rs)
        for order in (1, 2, 4):
            for sm in (None, "method1"):
                got = librnn.corpus_bleu(refs, hyps, max_order=order, smoothing=sm, epsilon=0.2)
                want = ref_corpus_bleu(refs, hyps, order, sm == "method1", 0.2)
                self.assertAlmostEqual(got, want, delta=1e-12 * max(1.0, want))
        for h, rs in zip(hyps[:10], refs[:10]):
            got = librnn.sentence_bleu(rs, h, smoothing="method1")
            self.assertAlmostEqual(got, ref_corpus_bleu([rs], [h], 4, True), delta=1e-12)

    def test_simple_cases(self):
        self.assertEqual(librnn.sentence_bleu([[1, 2, 3, 4, 5]], [1, 2, 3, 4, 5]), 1.0)
        self.assertEqual(librnn.sentence_bleu([1, 2, 3, 4], [1, 2, 3, 4]), 1.0)  # one plain ref
        self.assertEqual(librnn.corpus_bleu([[[5, 6]]], [[1, 2]]), 0.0)
        self.assertEqual(librnn.corpus_bleu([], []), 0.0)
        self.assertEqual(librnn.corpus_bleu([np.array([1, 2, 3, 4])], [np.array([1, 2, 3, 4])]),
                         1.0)
        with self.assertRaises(ValueError):
            librnn.corpus_bleu([[[1]], [[1], [2]]], [[1], [1]])   # 1 and 2 references
        with self.assertRaises(ValueError):
            librnn.corpus_bleu([[[1]]], [[1], [2]])
        with self.assertRaises(librnn.RnnError):
            librnn.sentence_bleu([[1, 2]], [1, 2], max_order=0)


if __name__ == "__main__":
    unittest.main()
