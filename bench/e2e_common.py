# SPDX-License-Identifier: Apache-2.0
"""Shared by bench/torch_pos_tagger.py and bench/torch_imdb.py: reads the
training data that an example program wrote with --dump-encoded
(examples/common/dump.h), plans an epoch's batches exactly as librnn's
rnn_model_fit() does (lib/train/fit.c: plan_epoch, with the model's
xoshiro256** generator of lib/rng.c), so that the PyTorch scripts train on
the same token ids, lengths, batch composition and batch order as the
example program, runs the timed epochs (epoch_main), evaluates the trained
model on the example's test split (the dump's test_* tensors) and exports it
as ONNX for the example's --load FILE.onnx --evaluate.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

M64 = (1 << 64) - 1


def _status_kb(name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def rss_mark():
    """Resets the kernel's peak-RSS counter (Linux /proc/self/clear_refs) and returns the
    resident MiB now (None where /proc does not tell): with rss_peak() after the training,
    what the training itself added to the process, as the example programs report it
    (examples/common/progress.h)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024.0


def rss_peak():
    """The peak resident MiB since rss_mark()."""
    kb = _status_kb("VmHWM")
    return None if kb is None else kb / 1024.0


def read_dump(path, skip=()):
    """(meta dict, {name: numpy array}) of a --dump-encoded file; tensors whose
    name starts with one of `skip` are passed over unread."""
    with open(path, "rb") as f:
        magic = f.readline()
        if magic != b"RNNDUMP1\n":
            raise ValueError(f"{path}: not a --dump-encoded file")
        head = json.loads(f.readline())
        arrays = {}
        for t in head["tensors"]:
            dt = {"int32": np.int32, "float32": np.float32}[t["dtype"]]
            n = int(np.prod(t["shape"])) if t["shape"] else 1
            if skip and t["name"].startswith(tuple(skip)):
                f.seek(n * np.dtype(dt).itemsize, os.SEEK_CUR)
                continue
            a = np.fromfile(f, dtype=dt, count=n)
            if a.size != n:
                raise ValueError(f"{path}: tensor {t['name']} is truncated")
            arrays[t["name"]] = a.reshape(t["shape"])
    return head["meta"], arrays


class Xoshiro:
    """lib/rng.c: xoshiro256** seeded by splitmix64."""

    def __init__(self, seed):
        x = seed & M64
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            s.append(z ^ (z >> 31))
        self.s = s

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def u64(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result


def _shuffle(rng, v):
    for i in range(len(v) - 1, 0, -1):
        j = rng.u64() % (i + 1)
        v[i], v[j] = v[j], v[i]


def split_sizes(meta, S):
    """(n_train, n_val): the validation samples are the LAST n_val (fit.c)."""
    n_val = int(float(S) * float(meta["validation_split"])) if meta["validation_split"] > 0 else 0
    return S - n_val, n_val


def plan_epoch(n_train, batch, shuffle, bucket, lengths, rng):
    """Sample indices of each batch of one epoch, in batch order: fit.c's
    plan_epoch (seeded shuffle; bucketing sorts each run of `bucket` batches
    by (length, sample) and then shuffles the batch order)."""
    order = list(range(n_train))
    if shuffle:
        _shuffle(rng, order)
    nb = (n_train + batch - 1) // batch
    if bucket > 0 and lengths is not None:
        chunk = batch * bucket
        out = []
        for c in range(0, n_train, chunk):
            part = order[c:c + chunk]
            part.sort(key=lambda i: (int(lengths[i]), i))
            out += part
        order = out
    border = list(range(nb))
    if bucket > 0 and lengths is not None and shuffle:
        _shuffle(rng, border)
    return [np.asarray(order[k * batch:min(k * batch + batch, n_train)], dtype=np.int64)
            for k in border]


def validation_batches(n_train, n_val, batch):
    """fit.c's validation pass: the held-out samples in order, `batch` at a time."""
    return [np.arange(n_train + i, n_train + min(i + batch, n_val), dtype=np.int64)
            for i in range(0, n_val, batch)]


def epoch_plans(meta, lengths, epochs):
    """Training batches of epochs 0 .. epochs - 1 (one generator goes on from
    epoch to epoch, as in fit.c) and the validation batches."""
    S = len(lengths)
    n_train, n_val = split_sizes(meta, S)
    rng = Xoshiro(int(meta["seed"]))
    train = [plan_epoch(n_train, int(meta["batch_size"]), int(meta["shuffle"]),
                        int(meta["bucket_batches"]), lengths, rng) for _ in range(epochs)]
    return train, validation_batches(n_train, n_val, int(meta["batch_size"]))


def epoch_plan(meta, lengths, epoch=0):
    """Training batches of epoch `epoch` (from 0) and the validation batches."""
    train, val = epoch_plans(meta, lengths, epoch + 1)
    return train[epoch], val


def spatial_dropout(torch, x, p):
    """SpatialDropout1D on (N, T, C): one Bernoulli(1 - p) / (1 - p) mask value
    per (sample, feature), the same for every step (as Keras and librnn)."""
    if p <= 0:
        return x
    mask = torch.empty(x.shape[0], 1, x.shape[2]).bernoulli_(1.0 - p).div_(1.0 - p)
    return x * mask


def run_batches(torch, model, opt, batches, batch_loss, train):
    """Sums of (loss * count), hits and count over the batches, where
    batch_loss(model, idx) gives a batch's (mean loss tensor, hits, count);
    training steps the optimizer after each batch."""
    loss_sum, hits, count = 0.0, 0, 0
    model.train(train)
    with torch.set_grad_enabled(train):
        for idx in batches:
            loss, h, n = batch_loss(model, torch.from_numpy(idx))
            if train:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            loss_sum += loss.item() * n
            hits += h
            count += n
    return loss_sum, hits, count


def test_batches(n, batch=256):
    """The test split in order, `batch` at a time (as the examples evaluate)."""
    return [np.arange(i, min(i + batch, n), dtype=np.int64) for i in range(0, n, batch)]


def export_onnx(torch, model, program, dump, path, example, extra=None):
    """Writes model.inference() (a module of the token ids alone) as ONNX with
    the metadata the example's --load reads: "example", "vocab" (from
    DUMP.vocab) and `extra`."""
    import onnx
    model.eval()
    torch.onnx.export(model.inference(), (example,), path, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "N", 1: "T"}, "y": {0: "N"}},
                      opset_version=14, dynamo=False)
    m = onnx.load(path)
    props = {"example": program}
    props.update(extra or {})
    if os.path.exists(dump + ".vocab"):
        with open(dump + ".vocab", encoding="utf-8") as f:
            props["vocab"] = f.read()
    for k, v in props.items():
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, path)
    print(f"wrote {path}", file=sys.stderr)


def epoch_main(doc, program, make_model, make_batch_loss):
    """The command line of both scripts: reads the dump of `program`, builds
    make_model(meta, padded), checks its parameter count against the
    example's, and times the training epochs, each with its validation pass,
    with Adam (Keras' and librnn's eps 1e-7) over the planned batches; then
    with --test the accuracy on the example's test split (in the dump), and
    with --export-onnx the ONNX file. make_batch_loss(X, L, Y) gives the
    batch_loss of run_batches; the model class may define export_meta(meta),
    more metadata_props for the export."""
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True, help=f"file of {program} --dump-encoded")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    ap.add_argument("--json", action="store_true", help="one JSON line on stdout")
    ap.add_argument("--padded", action="store_true",
                    help="run the GRU on the padded batch instead of packed sequences: NOT "
                         "the example's model (the reverse direction reads the padding first); "
                         "a reference for the cost of packing in PyTorch")
    ap.add_argument("--epochs", type=int, default=1,
                    help="epochs to train (default 1), each on fit.c's plan of that epoch")
    ap.add_argument("--test", action="store_true",
                    help="after training, evaluate on the example's test split (the dump's "
                         "test_* tensors, in batches of 256): test_accuracy, test_correct, "
                         "test_count")
    ap.add_argument("--export-onnx", metavar="FILE",
                    help="after training, write the model as ONNX (torch.onnx.export, opset 14) "
                         "for the example's --load FILE.onnx: metadata_props 'example' and, "
                         "from DUMP.vocab when the example wrote it, 'vocab' "
                         "(docs/guide/interchange.md)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    meta, t = read_dump(a.dump, () if a.test else ("test_",))
    if meta.get("program") != program:
        sys.exit(f"{a.dump}: written by {meta.get('program')}, not {program}")
    torch.manual_seed(int(meta["seed"]))
    X = torch.from_numpy(t["x"])
    Y = torch.from_numpy(t["y"])
    L = torch.from_numpy(t["lengths"].astype(np.int64))
    epochs = max(1, a.epochs)
    train_plans, val_b = epoch_plans(meta, t["lengths"], epochs)
    model = make_model(meta, a.padded)
    params = sum(p.numel() for p in model.parameters())
    if params != int(meta["params"]):
        sys.exit(f"parameter count {params} differs from the example's {meta['params']}")
    opt = torch.optim.Adam(model.parameters(), lr=float(meta["learning_rate"]), eps=1e-7)
    batch_loss = make_batch_loss(X, L, Y)

    seconds = 0.0
    rss0 = rss_mark()
    for e, train_b in enumerate(train_plans):
        t0 = time.perf_counter()
        ls, hits, n = run_batches(torch, model, opt, train_b, batch_loss, True)
        vls, vhits, vn = run_batches(torch, model, opt, val_b, batch_loss, False)
        took = time.perf_counter() - t0
        seconds += took
        print(f"epoch {e + 1}/{epochs}  {took:.1f}s  loss {ls / n:.4f}  accuracy {hits / n:.4f}  "
              f"val_loss {vls / vn if vn else float('nan'):.4f}  "
              f"val_accuracy {vhits / vn if vn else float('nan'):.4f}  "
              f"({len(train_b)} batches, {params} parameters, {torch.get_num_threads()} threads)",
              file=sys.stderr if a.json else sys.stdout)

    res = {"train_seconds": round(seconds, 3), "epochs": epochs, "batches": len(train_plans[-1]),
           "samples": int(sum(len(b) for b in train_plans[-1])), "loss": ls / n,
           "accuracy": hits / n, "val_loss": vls / vn if vn else None,
           "val_accuracy": vhits / vn if vn else None,
           "params": params, "threads": torch.get_num_threads(), "torch": torch.__version__,
           "padded": a.padded, "rss_before_fit_mib": rss0, "peak_rss_fit_mib": rss_peak()}
    if a.test and "test_x" not in t:
        sys.exit(f"{a.dump} holds no test split (written by an older {program})")
    if a.test:
        TL = t["test_lengths"]
        test_loss = make_batch_loss(torch.from_numpy(t["test_x"]),
                                    torch.from_numpy(TL.astype(np.int64)),
                                    torch.from_numpy(t["test_y"]))
        _, thits, tn = run_batches(torch, model, opt, test_batches(len(TL)), test_loss, False)
        res.update(test_accuracy=thits / tn, test_correct=thits, test_count=tn)
        unit = " tokens" if t["test_y"].dtype.kind == "i" else ""  # the tagger's int tags
        print(f"test accuracy {thits / tn:.4f} ({thits} of {tn}{unit})",
              file=sys.stderr if a.json else sys.stdout)
    if a.export_onnx:
        extra = model.export_meta(meta) if hasattr(model, "export_meta") else None
        export_onnx(torch, model, program, a.dump, a.export_onnx, X[:2, :5], extra)
    if a.json:
        print(json.dumps(res))
    return 0
