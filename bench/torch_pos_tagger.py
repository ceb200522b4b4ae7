#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The POS tagger of examples/pos_tagging in PyTorch, for bench/run_all.py:
times one training epoch (with its validation pass) on exactly the data and
batches that `build/examples/pos_tagger --epochs 1` trains on.

  build/examples/pos_tagger --dump-encoded pos.dump [--seed S] [--limit N]
  /usr/bin/python3 bench/torch_pos_tagger.py --dump pos.dump [--threads N] [--json]

Model (as the example, 1,197,324 parameters, checked against the dump):
Embedding(10,176, 100) -> SpatialDropout1D(0.25) -> bidirectional GRU(128)
(PyTorch's GRU is the "reset after" GRU of Keras and librnn) ->
Dense(12) with softmax cross-entropy averaged over the real tokens (the
GRU runs on packed sequences, the Dense layer and the loss on the packed
tokens, so padding costs nothing); Adam(lr 0.002, eps 1e-7 as Keras and
librnn). Batches: librnn's seeded shuffle and length bucketing of 64-sample
batches, each cut to its longest sentence (bench/e2e_common.py), planned
before the clock starts. The clock covers what the example's train_seconds
covers: the training batches (forward, loss, backward, Adam step, batch
loss and accuracy) and the validation pass over the held-out tenth (batches
of 64, eval mode, no gradients).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence  # noqa: E402

import e2e_common  # noqa: E402


class Tagger(nn.Module):
    def __init__(self, meta, padded=False):
        super().__init__()
        self.padded = padded
        self.p = float(meta["spatial_dropout"])
        self.emb = nn.Embedding(int(meta["vocab_size"]), int(meta["embedding"]))
        self.gru = nn.GRU(int(meta["embedding"]), int(meta["units"]), batch_first=True,
                          bidirectional=True)
        self.dense = nn.Linear(2 * int(meta["units"]), int(meta["classes"]))

    def forward(self, x, lengths, y):
        """Logits of the real tokens and their targets, in the same order."""
        e = self.emb(x)
        if self.training:
            e = e2e_common.spatial_dropout(torch, e, self.p)
        if self.padded:  # --padded: not the example's model
            out, _ = self.gru(e)
            real = torch.arange(x.shape[1])[None, :] < lengths[:, None]
            return self.dense(out[real]), y[real]
        packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        target = pack_padded_sequence(y, lengths, batch_first=True, enforce_sorted=False).data
        return self.dense(out.data), target


def run_batches(model, opt, X, L, Y, batches, train):
    """Sums of (loss * tokens), hits and tokens over the batches."""
    loss_sum, hits, tokens = 0.0, 0, 0
    model.train(train)
    with torch.set_grad_enabled(train):
        for idx in batches:
            i = torch.from_numpy(idx)
            lb = L[i]
            T = int(lb.max())
            logits, target = model(X[i, :T], lb, Y[i, :T])
            loss = nn.functional.cross_entropy(logits, target.long())
            if train:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            n = target.numel()
            loss_sum += loss.item() * n
            hits += int((logits.argmax(1) == target).sum())
            tokens += n
    return loss_sum, hits, tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True, help="file of pos_tagger --dump-encoded")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    ap.add_argument("--json", action="store_true", help="one JSON line on stdout")
    ap.add_argument("--padded", action="store_true",
                    help="run the GRU on the padded batch instead of packed sequences: NOT "
                         "the example's model (the reverse direction reads the padding first); "
                         "a reference for the cost of packing in PyTorch")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    meta, t = e2e_common.read_dump(a.dump)
    if meta.get("program") != "pos_tagger":
        sys.exit(f"{a.dump}: written by {meta.get('program')}, not pos_tagger")
    torch.manual_seed(int(meta["seed"]))
    X = torch.from_numpy(t["x"])
    Y = torch.from_numpy(t["y"])
    L = torch.from_numpy(t["lengths"].astype(np.int64))
    train_b, val_b = e2e_common.epoch_plan(meta, t["lengths"])
    model = Tagger(meta, a.padded)
    params = sum(p.numel() for p in model.parameters())
    if params != int(meta["params"]):
        sys.exit(f"parameter count {params} differs from the example's {meta['params']}")
    opt = torch.optim.Adam(model.parameters(), lr=float(meta["learning_rate"]), eps=1e-7)

    t0 = time.perf_counter()
    ls, hits, n = run_batches(model, opt, X, L, Y, train_b, True)
    vls, vhits, vn = run_batches(model, opt, X, L, Y, val_b, False)
    seconds = time.perf_counter() - t0

    res = {"train_seconds": round(seconds, 3), "epochs": 1, "batches": len(train_b),
           "samples": int(sum(len(b) for b in train_b)), "loss": ls / n, "accuracy": hits / n,
           "val_loss": vls / vn if vn else None, "val_accuracy": vhits / vn if vn else None,
           "params": params, "threads": torch.get_num_threads(), "torch": torch.__version__,
           "padded": a.padded}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"epoch 1/1  {seconds:.1f}s  loss {res['loss']:.4f}  accuracy {res['accuracy']:.4f}  "
              f"val_loss {res['val_loss']:.4f}  val_accuracy {res['val_accuracy']:.4f}  "
              f"({res['batches']} batches, {params} parameters, {res['threads']} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
