#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The POS tagger of examples/pos_tagging in PyTorch, for bench/run_all.py:
times one training epoch (with its validation pass) on exactly the data and
batches that `build/examples/pos_tagger --epochs 1` trains on. With
--epochs N it trains N epochs (each on that epoch's batches); --test
reports the test token accuracy on the example's test split (in the dump),
and --export-onnx FILE writes the model for `pos_tagger --load FILE
--evaluate` (docs/guide/interchange.md).

  build/examples/pos_tagger --dump-encoded pos.dump [--seed S] [--limit N]
  /usr/bin/python3 bench/torch_pos_tagger.py --dump pos.dump [--threads N] [--json]
      [--epochs N] [--test] [--export-onnx pos.onnx]

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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
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


class _Inference(nn.Module):
    """The tagger on token ids alone, for --export-onnx: logits (N, T,
    classes). The graph runs every step it is given; `pos_tagger --load
    FILE.onnx --evaluate` gives each sentence's length, which makes the GRU
    cover the real steps only, as forward() above on packed sequences."""

    def __init__(self, tagger):
        super().__init__()
        self.t = tagger

    def forward(self, x):
        y, _ = self.t.gru(self.t.emb(x))
        return self.t.dense(y)


Tagger.inference = lambda self: _Inference(self)


def batch_loss_of(X, L, Y):
    """A batch's mean cross-entropy over its real tokens, correct tags and tokens."""
    def batch_loss(model, i):
        lb = L[i]
        T = int(lb.max())
        logits, target = model(X[i, :T], lb, Y[i, :T])
        loss = nn.functional.cross_entropy(logits, target.long())
        return loss, int((logits.argmax(1) == target).sum()), target.numel()
    return batch_loss


if __name__ == "__main__":
    sys.exit(e2e_common.epoch_main(__doc__, "pos_tagger", Tagger, batch_loss_of))
