#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The IMDB classifier of examples/sentiment in PyTorch, for bench/run_all.py:
times one training epoch (with its validation pass) on exactly the data and
batches that `build/examples/sentiment --dataset imdb --epochs 1` trains on.

  build/examples/sentiment --dataset imdb --dump-encoded imdb.dump [--seed S] [--limit N]
  /usr/bin/python3 bench/torch_imdb.py --dump imdb.dump [--threads N] [--json]

Model (as the example, 2,635,009 parameters, checked against the dump):
Embedding(20,002, 128) -> SpatialDropout1D(0.4) -> bidirectional GRU(64)
returning sequences (PyTorch's GRU is the "reset after" GRU of Keras and
librnn; packed sequences, so padding costs nothing) -> global max pooling
and global average pooling over each review's real steps, concatenated ->
Dropout(0.4) -> Dense(1) with sigmoid binary cross-entropy (as
BCEWithLogitsLoss); Adam(lr 0.001, eps 1e-7 as Keras and librnn). Reviews
hold their last 500 tokens. Batches: librnn's seeded shuffle and length
bucketing of 64-sample batches, each cut to its longest review
(bench/e2e_common.py), planned before the clock starts. The clock covers
what the example's train_seconds covers: the training batches (forward,
loss, backward, Adam step, batch loss and accuracy) and the validation pass
over the held-out tenth (batches of 64, eval mode, no gradients).
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
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

import e2e_common  # noqa: E402


class Classifier(nn.Module):
    def __init__(self, meta, padded=False):
        super().__init__()
        self.padded = padded
        self.p_spatial = float(meta["spatial_dropout"])
        self.emb = nn.Embedding(int(meta["vocab_size"]), int(meta["embedding"]))
        self.gru = nn.GRU(int(meta["embedding"]), int(meta["units"]), batch_first=True,
                          bidirectional=True)
        self.drop = nn.Dropout(float(meta["dropout"]))
        self.dense = nn.Linear(4 * int(meta["units"]), 1)

    def forward(self, x, lengths):
        """Logits (N, 1)."""
        e = self.emb(x)
        if self.training:
            e = e2e_common.spatial_dropout(torch, e, self.p_spatial)
        real = (torch.arange(x.shape[1])[None, :] < lengths[:, None])[:, :, None]
        if self.padded:  # --padded: not the example's model
            h, _ = self.gru(e)
            h = h.masked_fill(~real, 0.0)
        else:
            packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            out, _ = self.gru(packed)
            h, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        mx = h.masked_fill(~real, float("-inf")).amax(1)
        avg = h.sum(1) / lengths[:, None].to(h.dtype)  # padding holds zeros
        return self.dense(self.drop(torch.cat([mx, avg], 1)))


def run_batches(model, opt, X, L, Y, batches, train):
    """Sums of (loss * samples), hits and samples over the batches."""
    loss_sum, hits, count = 0.0, 0, 0
    model.train(train)
    with torch.set_grad_enabled(train):
        for idx in batches:
            i = torch.from_numpy(idx)
            lb = L[i]
            T = int(lb.max())
            xb, yb = X[i, :T], Y[i]
            logits = model(xb, lb)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, yb)
            if train:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            n = yb.shape[0]
            loss_sum += loss.item() * n
            hits += int(((logits > 0) == (yb > 0.5)).sum())
            count += n
    return loss_sum, hits, count


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True, help="file of sentiment --dump-encoded (imdb)")
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
    if meta.get("program") != "sentiment":
        sys.exit(f"{a.dump}: written by {meta.get('program')}, not sentiment")
    torch.manual_seed(int(meta["seed"]))
    X = torch.from_numpy(t["x"])
    Y = torch.from_numpy(t["y"])
    L = torch.from_numpy(t["lengths"].astype(np.int64))
    train_b, val_b = e2e_common.epoch_plan(meta, t["lengths"])
    model = Classifier(meta, a.padded)
    params = sum(p.numel() for p in model.parameters())
    if params != int(meta["params"]):
        sys.exit(f"parameter count {params} differs from the example's {meta['params']}")
    opt = torch.optim.Adam(model.parameters(), lr=float(meta["learning_rate"]), eps=1e-7)

    t0 = time.perf_counter()
    ls, hits, n = run_batches(model, opt, X, L, Y, train_b, True)
    vls, vhits, vn = run_batches(model, opt, X, L, Y, val_b, False)
    seconds = time.perf_counter() - t0

    res = {"train_seconds": round(seconds, 3), "epochs": 1, "batches": len(train_b),
           "samples": n, "loss": ls / n, "accuracy": hits / n,
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
