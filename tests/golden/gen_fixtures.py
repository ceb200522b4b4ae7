#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Generates the golden-parity fixtures for librnn's recurrent layers from
PyTorch (Debian's python3-torch). Deterministic: rerunning it rewrites the
same bytes.

    /usr/bin/python3 tests/golden/gen_fixtures.py --out tests/golden/fixtures

Every case builds torch.nn.RNN/LSTM/GRU in float64 with float32-representable
weights and inputs, so the stored outputs and gradients (cast to float32) are
the exact answers a float32 implementation is compared with. Variable-length
cases go through pack_padded_sequence(enforce_sorted=False); the script
asserts that each sample run alone at its own length gives the same outputs,
final states and gradients, so the fixtures encode per-sample semantics.

File format (little-endian): b"RNNFIX01", uint32 count, then per array:
uint32 name_len, name, uint32 dtype (1 float32, 2 int32), uint32 rank,
int64 dims[rank], data (C order).
"""
import argparse
import os
import struct

import numpy as np
import torch

CELLS = {"rnn_tanh": 0, "rnn_relu": 1, "lstm": 2, "gru": 3}
T, N, I, H = 5, 4, 3, 4
VARLEN = [5, 2, 4, 1]  # deliberately unsorted


def f32(t):
    """Rounds a float64 tensor to float32-representable values."""
    return t.float().double()


def make_module(cell, layers, bi):
    kw = dict(input_size=I, hidden_size=H, num_layers=layers, bidirectional=bi)
    if cell.startswith("rnn"):
        m = torch.nn.RNN(nonlinearity=cell[4:], **kw)
    elif cell == "lstm":
        m = torch.nn.LSTM(**kw)
    else:
        m = torch.nn.GRU(**kw)
    m = m.double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(f32(torch.empty_like(p).uniform_(-0.6, 0.6)))
    return m


def run(m, cell, x, lengths, h0, c0):
    """Forward on x (T, N, I) with per-sample lengths; returns y, hn, cn."""
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths),
                                                     enforce_sorted=False)
    state = None
    if h0 is not None:
        state = (h0, c0) if cell == "lstm" else h0
    out, st = m(packed, state)
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
    if cell == "lstm":
        return y, st[0], st[1]
    return y, st, None


def loss_of(y, hn, cn, Ry, Rh, Rc, layers, D):
    # Only the LAST layer's final states enter the loss (librnn exposes the
    # final states of each layer as that layer's outputs).
    last = slice((layers - 1) * D, layers * D)
    L = (y * Ry).sum() + (hn[last] * Rh[last]).sum()
    if cn is not None:
        L = L + (cn[last] * Rc[last]).sum()
    return L


def case(name, cell, layers, bi, varlen, with_h0, seed):
    torch.manual_seed(seed)
    D = 2 if bi else 1
    m = make_module(cell, layers, bi)
    lengths = VARLEN if varlen else [T] * N
    x = f32(torch.empty(T, N, I).uniform_(-1, 1))
    for n, L in enumerate(lengths):
        x[L:, n, :] = 100.0  # padding garbage: must never matter
    x.requires_grad_(True)
    h0 = c0 = None
    if with_h0:
        h0 = f32(torch.empty(layers * D, N, H).uniform_(-0.5, 0.5)).requires_grad_(True)
        if cell == "lstm":
            c0 = f32(torch.empty(layers * D, N, H).uniform_(-0.5, 0.5)).requires_grad_(True)
    Ry = f32(torch.empty(T, N, D * H).uniform_(-1, 1))
    Rh = f32(torch.empty(layers * D, N, H).uniform_(-1, 1))
    Rc = f32(torch.empty(layers * D, N, H).uniform_(-1, 1))
    y, hn, cn = run(m, cell, x, lengths, h0, c0)
    L = loss_of(y, hn, cn, Ry, Rh, Rc, layers, D)
    m.zero_grad()
    L.backward()
    grads = {k: p.grad.detach().clone() for k, p in m.named_parameters()}

    # Per-sample check: each sample alone at its own length.
    for n, Ln in enumerate(lengths):
        xs = x.detach()[:Ln, n:n + 1, :].clone().requires_grad_(True)
        hs = None if h0 is None else h0.detach()[:, n:n + 1].clone()
        cs = None if c0 is None else c0.detach()[:, n:n + 1].clone()
        m.zero_grad()
        ys, hns, cns = run(m, cell, xs, [Ln], hs, cs)
        assert torch.allclose(ys[:, 0], y.detach()[:Ln, n], atol=1e-10)
        assert torch.allclose(hns[:, 0], hn.detach()[:, n], atol=1e-10)
        assert float(y.detach()[Ln:, n].abs().sum()) == 0.0
        assert float(x.grad[Ln:, n].abs().sum()) == 0.0

    arrays = [("config", np.array([CELLS[cell], T, N, I, H, layers, int(bi), int(with_h0)],
                                  dtype=np.int32)),
              ("lengths", np.array(lengths, dtype=np.int32)),
              ("x", x.detach()), ("Ry", Ry), ("Rh", Rh), ("Rc", Rc)]
    for k, p in m.named_parameters():
        arrays.append((k, p.detach()))
    if h0 is not None:
        arrays.append(("h0", h0.detach()))
        if c0 is not None:
            arrays.append(("c0", c0.detach()))
    arrays += [("y", y.detach()), ("hn", hn.detach())]
    if cn is not None:
        arrays.append(("cn", cn.detach()))
    arrays.append(("grad_x", x.grad))
    if h0 is not None:
        arrays.append(("grad_h0", h0.grad))
        if c0 is not None:
            arrays.append(("grad_c0", c0.grad))
    for k, g in grads.items():
        arrays.append(("grad_" + k, g))
    return arrays


def write(path, arrays):
    out = bytearray(b"RNNFIX01")
    out += struct.pack("<I", len(arrays))
    for name, a in arrays:
        a = a.numpy() if isinstance(a, torch.Tensor) else a
        if a.dtype == np.int32:
            dt = 2
        else:
            a, dt = a.astype("<f4"), 1
        nb = name.encode("ascii")
        out += struct.pack("<I", len(nb)) + nb + struct.pack("<II", dt, a.ndim)
        out += struct.pack("<%dq" % a.ndim, *a.shape)
        out += np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
    with open(path, "wb") as f:
        f.write(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "fixtures"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    index = []
    seed = 1
    for cell in CELLS:
        for bi in (False, True):
            for layers in (1, 2):
                for varlen in (False, True):
                    name = f"{cell}_{'bi' if bi else 'uni'}_L{layers}_{'varlen' if varlen else 'uniform'}"
                    write(os.path.join(a.out, name + ".bin"), case(name, cell, layers, bi, varlen,
                                                                    False, seed))
                    index.append(name)
                    seed += 1
    for cell in ("lstm", "gru"):
        name = f"{cell}_bi_L2_varlen_h0"
        write(os.path.join(a.out, name + ".bin"), case(name, cell, 2, True, True, True, seed))
        index.append(name)
        seed += 1
    with open(os.path.join(a.out, "index.txt"), "w") as f:
        f.write(f"# generated by tests/golden/gen_fixtures.py with torch {torch.__version__}\n")
        for name in index:
            f.write(name + "\n")
    print(f"wrote {len(index)} fixtures to {a.out}")


if __name__ == "__main__":
    main()
