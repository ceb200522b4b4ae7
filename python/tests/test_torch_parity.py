# SPDX-License-Identifier: Apache-2.0
"""Parity with PyTorch through the binding: the same LSTM / GRU (unidirectional,
bidirectional, stacked) built in torch and in librnn, PyTorch's weights copied
over with set_weights(format="pytorch"), a random right-padded batch with
variable lengths (pack_padded_sequence on the torch side, lengths on ours).
Outputs and final states must agree to 1e-5, the input and weight gradients to
1e-4 (relative, floored at 1% of each array's scale, as tests/golden).

PyTorch runs in float64 on float32-representable weights and inputs, so its
results are the exact answers our float32 results are compared with. Weight
gradients are converted from librnn's Keras layout to PyTorch's HERE, not by
the library. Skipped when torch is not installed (Debian: python3-torch).
"""
import re
import unittest

import numpy as np

import librnn

from _util import abs_err, rel_err

try:
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

OUT_TOL, GRAD_TOL = 1e-5, 1e-4
N, T, I, H = 6, 7, 5, 8
LENGTHS = [7, 3, 5, 1, 6, 2]  # unsorted on purpose

CASES = [  # cell, layers, bidirectional
    ("lstm", 1, False),
    ("gru", 1, False),
    ("lstm", 1, True),
    ("gru", 1, True),
    ("lstm", 2, True),
    ("gru", 2, False),
]

# Gate blocks: Keras order -> PyTorch order. LSTM i,f,c,o == i,f,g,o; GRU z,r,h -> r,z,n.
PERM = {"lstm": [0, 1, 2, 3], "gru": [1, 0, 2]}

FIGURES = {}


def f32(t):
    return t.float().double()


def keras_to_torch_rows(a, cell):
    """(in, G*H) Keras kernel -> (G*H, in) PyTorch weight, gate blocks reordered."""
    blocks = np.split(np.asarray(a), len(PERM[cell]), axis=-1)
    return np.concatenate([blocks[g] for g in PERM[cell]], axis=-1).T


def keras_bias_to_torch(b, cell):
    """Keras bias gradient -> (d bias_ih, d bias_hh) in PyTorch's layout."""
    if cell == "gru":  # (2, 3H): [input bias; recurrent bias]
        return (keras_to_torch_rows(b[0][None], cell)[:, 0],
                keras_to_torch_rows(b[1][None], cell)[:, 0])
    g = keras_to_torch_rows(b[None], cell)[:, 0]
    return g, g  # one Keras bias = b_ih + b_hh: the same gradient reaches both


@unittest.skipIf(torch is None, "PyTorch is not installed (python3-torch)")
class TestTorchParity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)

    @classmethod
    def tearDownClass(cls):
        if FIGURES:
            print("\nPyTorch parity (max abs error / max relative error):")
            for name, figs in sorted(FIGURES.items()):
                print("  %-14s %s" % (name, "  ".join("%s %.1e/%.1e" % (k, a, r)
                                                       for k, (a, r) in figs.items())))

    def check(self, figs, what, got, want, tol):
        a, r = abs_err(got, want), rel_err(got, want)
        key = re.sub(r"(\[\d\]|_l\d.*)$", "", what)  # one figure per kind of array
        old = figs.get(key, (0.0, 0.0))
        figs[key] = (max(old[0], a), max(old[1], r))
        self.assertLessEqual(r, tol, "%s: max abs err %.3g, rel err %.3g" % (what, a, r))

    def run_case(self, cell, L, bi, seed):
        name = "%s_%s_L%d" % (cell, "bi" if bi else "uni", L)
        figs = FIGURES.setdefault(name, {})
        D, ns = (2 if bi else 1), (2 if cell == "lstm" else 1)
        torch.manual_seed(seed)
        mod_cls = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        mod = mod_cls(I, H, num_layers=L, bidirectional=bi, batch_first=True).double()
        with torch.no_grad():
            for p in mod.parameters():
                p.copy_(f32(torch.empty_like(p).uniform_(-0.6, 0.6)))
        x = f32(torch.empty(N, T, I).uniform_(-1, 1))
        for n, Ln in enumerate(LENGTHS):
            x[n, Ln:] = 100.0  # padding: must never matter
        x.requires_grad_(True)
        Ry = f32(torch.empty(N, T, D * H).uniform_(-1, 1))
        Rh = f32(torch.empty(D, N, H).uniform_(-1, 1))
        Rc = f32(torch.empty(D, N, H).uniform_(-1, 1))

        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(LENGTHS),
                                                         batch_first=True, enforce_sorted=False)
        out, st = mod(packed)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
        hn, cn = st if cell == "lstm" else (st, None)
        last = slice((L - 1) * D, L * D)  # librnn exposes the last layer's final states
        loss = (y * Ry).sum() + (hn[last] * Rh).sum()
        if cn is not None:
            loss = loss + (cn[last] * Rc).sum()
        loss.backward()
        sd = {k: v.detach().numpy() for k, v in mod.state_dict().items()}
        tgrads = {k: p.grad.numpy() for k, p in mod.named_parameters()}

        m = librnn.Model(seed=seed)
        m.input(shape=(None, I))
        layers = [m.recurrent(cell, H, return_sequences=True, return_state=True,
                              bidirectional=bi) for _ in range(L)]
        for k, layer in enumerate(layers):
            names = [n for n, _ in layer.weights_info("pytorch")]
            layer.set_weights({n: sd[n.replace("_l0", "_l%d" % k)] for n in names}, "pytorch")
            back = layer.get_weights("pytorch")
            for n, w in zip(names, back):
                if n.startswith("weight"):
                    np.testing.assert_array_equal(w, sd[n.replace("_l0", "_l%d" % k)])

        xs = x.detach().numpy().astype(np.float32)
        outs = m.forward(xs, lengths=np.array(LENGTHS, np.int32), training=True)
        self.assertEqual(len(outs), 1 + D * ns)
        self.check(figs, "y", outs[0], y.detach().numpy(), OUT_TOL)
        grads = [Ry.numpy().astype(np.float32)]
        for d in range(D):
            self.check(figs, "h[%d]" % d, outs[1 + d * ns], hn[(L - 1) * D + d].detach().numpy(),
                       OUT_TOL)
            grads.append(Rh[d].numpy().astype(np.float32))
            if cn is not None:
                self.check(figs, "c[%d]" % d, outs[2 + d * ns],
                           cn[(L - 1) * D + d].detach().numpy(), OUT_TOL)
                grads.append(Rc[d].numpy().astype(np.float32))
        m.zero_grad()
        m.backward(grads)
        dx = m.input_grad(0)
        self.check(figs, "dx", dx, x.grad.numpy(), GRAD_TOL)
        for n, Ln in enumerate(LENGTHS):
            self.assertEqual(float(np.abs(dx[n, Ln:]).sum()), 0.0)

        for k, layer in enumerate(layers):
            for d in range(D):
                pre = ("forward/" if d == 0 else "backward/") if bi else ""
                suf = "_l%d%s" % (k, "_reverse" if d else "")
                self.check(figs, "dW_ih" + suf, keras_to_torch_rows(layer.grad(pre + "kernel"),
                                                                     cell),
                           tgrads["weight_ih" + suf], GRAD_TOL)
                self.check(figs, "dW_hh" + suf,
                           keras_to_torch_rows(layer.grad(pre + "recurrent_kernel"), cell),
                           tgrads["weight_hh" + suf], GRAD_TOL)
                b_ih, b_hh = keras_bias_to_torch(layer.grad(pre + "bias"), cell)
                self.check(figs, "db_ih" + suf, b_ih, tgrads["bias_ih" + suf], GRAD_TOL)
                self.check(figs, "db_hh" + suf, b_hh, tgrads["bias_hh" + suf], GRAD_TOL)
        m.close()

    def test_lstm(self):
        self.run_case("lstm", 1, False, 1)

    def test_gru(self):
        self.run_case("gru", 1, False, 2)

    def test_bidirectional_lstm(self):
        self.run_case("lstm", 1, True, 3)

    def test_bidirectional_gru(self):
        self.run_case("gru", 1, True, 4)

    def test_stacked_bidirectional_lstm(self):
        self.run_case("lstm", 2, True, 5)

    def test_stacked_gru(self):
        self.run_case("gru", 2, False, 6)

    def test_training_step_matches_torch(self):
        # One SGD step on Embedding -> LSTM -> Dense(softmax) with a masked mean
        # loss, same weights both sides: the updated weights must agree.
        V, E, U, C = 11, 4, 6, 3
        torch.manual_seed(7)
        emb = torch.nn.Embedding(V, E).double()
        lstm = torch.nn.LSTM(E, U, batch_first=True).double()
        lin = torch.nn.Linear(U, C).double()
        with torch.no_grad():
            for p in list(emb.parameters()) + list(lstm.parameters()) + list(lin.parameters()):
                p.copy_(f32(torch.empty_like(p).uniform_(-0.5, 0.5)))
        r = np.random.default_rng(8)
        lengths = np.array([5, 2, 4, 3], np.int32)
        ids = np.zeros((4, 5), np.int32)
        for n, Ln in enumerate(lengths):
            ids[n, :Ln] = r.integers(1, V, size=Ln)
        tags = r.integers(0, C, size=(4, 5)).astype(np.int32)

        m = librnn.Model(seed=1)
        m.input(shape=(None,), dtype="int32")
        le = m.embedding(V, E, mask_zero=True)
        ll = m.lstm(U, return_sequences=True)
        ld = m.dense(C, activation="softmax")
        le.set_param("embeddings", emb.weight.detach().numpy())
        sd = {k: v.detach().numpy() for k, v in lstm.state_dict().items()}
        ll.set_weights([sd["weight_ih_l0"], sd["weight_hh_l0"], sd["bias_ih_l0"],
                        sd["bias_hh_l0"]], "pytorch")
        ld.set_weights([lin.weight.detach().numpy().T, lin.bias.detach().numpy()])
        lr = 0.5
        m.compile(loss="sparse_categorical_crossentropy", optimizer=librnn.SGD(lr),
                  reduction="masked_mean")
        loss, _ = m.train_step(ids, tags)

        packed = torch.nn.utils.rnn.pack_padded_sequence(
            emb(torch.tensor(ids, dtype=torch.long)), torch.tensor(lengths), batch_first=True,
            enforce_sorted=False)
        h, _ = lstm(packed)
        h, _ = torch.nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=5)
        logits = lin(h)
        mask = torch.tensor(ids != 0)
        labels = torch.tensor(tags, dtype=torch.long)
        tloss = torch.nn.functional.cross_entropy(logits[mask], labels[mask])
        tloss.backward()
        figs = FIGURES.setdefault("train_step", {})
        self.check(figs, "loss", np.float32(loss), tloss.detach().numpy(), OUT_TOL)
        with torch.no_grad():
            for p in list(emb.parameters()) + list(lstm.parameters()) + list(lin.parameters()):
                p -= lr * p.grad
        self.check(figs, "embeddings", le.get_param("embeddings"), emb.weight.detach().numpy(),
                   GRAD_TOL)
        self.check(figs, "dense", ld.get_param("kernel"), lin.weight.detach().numpy().T,
                   GRAD_TOL)
        w = ll.get_weights("pytorch")
        self.check(figs, "weight_hh", w[1], lstm.weight_hh_l0.detach().numpy(), GRAD_TOL)
        # PyTorch's two biases each move by -lr*g (their sum by -2*lr*g); librnn's one
        # Keras bias (their sum) moves by -lr*g: the same gradient, another parametrization.
        bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0 + lr * lstm.bias_ih_l0.grad).detach().numpy()
        self.check(figs, "bias", w[2], bias, GRAD_TOL)
        m.close()


if __name__ == "__main__":
    unittest.main()
