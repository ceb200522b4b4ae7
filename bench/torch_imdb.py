#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The IMDB classifier of examples/sentiment in PyTorch, for bench/run_all.py:
times one training epoch (with its validation pass) on exactly the data and
batches that `build/examples/sentiment --dataset imdb --epochs 1` trains on.
With --epochs N it trains N epochs (each on that epoch's batches); --test
reports the test accuracy on the example's test split (in the dump), and
--export-onnx FILE writes the model for `sentiment --load FILE --evaluate`
(docs/guide/interchange.md).

  build/examples/sentiment --dataset imdb --dump-encoded imdb.dump [--seed S] [--limit N]
  /usr/bin/python3 bench/torch_imdb.py --dump imdb.dump [--threads N] [--json]
      [--epochs N] [--test] [--export-onnx imdb.onnx]

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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
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

    def inference(self):
        return _Inference(self)

    @staticmethod
    def export_meta(meta):
        """What `sentiment --load` reads besides the vocabulary."""
        return {"dataset": str(meta["dataset"]), "maxlen": str(int(meta["maxlen"]))}


class _Inference(nn.Module):
    """The classifier on token ids alone, for --export-onnx: the probability
    (N, 1), as the example's model (Dense with sigmoid). The graph pools over
    every step it is given; `sentiment --load FILE.onnx` gives each review's
    length, which makes the GRU and both poolings cover the real steps only,
    as forward() above on packed sequences."""

    def __init__(self, classifier):
        super().__init__()
        self.c = classifier

    def forward(self, x):
        h, _ = self.c.gru(self.c.emb(x))
        return torch.sigmoid(self.c.dense(torch.cat([h.amax(1), h.mean(1)], 1)))


def batch_loss_of(X, L, Y):
    """A batch's mean binary cross-entropy, correct predictions (probability
    above 0.5 for a positive review, as the example counts) and samples."""
    def batch_loss(model, i):
        lb = L[i]
        yb = Y[i]
        logits = model(X[i, :int(lb.max())], lb)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, yb)
        right = (torch.sigmoid(logits) > 0.5) == (yb > 0.5)
        return loss, int(right.sum()), yb.shape[0]
    return batch_loss


if __name__ == "__main__":
    sys.exit(e2e_common.epoch_main(__doc__, "sentiment", Classifier, batch_loss_of))
