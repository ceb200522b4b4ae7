#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Each example program's --load reads the model's metadata (issue 15): a
model made by another example, for another task, with no example metadata,
or whose shapes disagree with its metadata exits non-zero with a clear
message; a model with the right metadata loads and runs. No data needed.

  cross_load.py MAKE_META_MODELS POS_TAGGER SENTIMENT SEQ2SEQ CHAR_LM
"""
import os
import re
import subprocess
import sys
import tempfile


def main():
    maker, pos, sent, s2s, clm = sys.argv[1:6]
    failures = []
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([maker, d], check=True)
        f = lambda name: os.path.join(d, name)

        def refused(cmd, message):
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            name = os.path.basename(cmd[0])
            if p.returncode == 0 or message not in p.stderr:
                failures.append("%s: exit %d, stderr %r; expected a failure saying %r"
                                % (" ".join(cmd), p.returncode, p.stderr[-400:], message))
            else:
                print("ok (refused): %s: %s" % (name, p.stderr.strip().splitlines()[-1]))

        def runs(cmd, pattern):
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if p.returncode != 0 or not re.search(pattern, p.stdout):
                failures.append("%s: exit %d, stdout %r, stderr %r; expected output matching %r"
                                % (" ".join(cmd), p.returncode, p.stdout[-200:],
                                   p.stderr[-400:], pattern))
            else:
                print("ok (ran): %s -> %r" % (os.path.basename(cmd[0]), p.stdout.strip()))

        # The cases of the issue.
        refused([sent, "--load", f("pos.rnn"), "--predict", "good movie"],
                "sentiment: %s was made by the pos_tagger example, not sentiment" % f("pos.rnn"))
        refused([pos, "--load", f("sentiment.rnn"), "--tag", "the cat sat"],
                "pos_tagger: %s was made by the sentiment example, not pos_tagger"
                % f("sentiment.rnn"))
        refused([s2s, "--task", "addition", "--load", f("seq2seq_dates.rnn")],
                "seq2seq: %s was trained for --task dates, not addition" % f("seq2seq_dates.rnn"))
        # Every program against another's model and against one without metadata.
        refused([clm, "--load", f("sentiment.rnn"), "--generate", "5"],
                "was made by the sentiment example, not char_lm")
        refused([s2s, "--task", "dates", "--load", f("char_lm.rnn")],
                "was made by the char_lm example, not seq2seq")
        refused([pos, "--load", f("seq2seq_dates.rnn"), "--tag", "x"],
                "was made by the seq2seq example, not pos_tagger")
        for prog, extra in ((pos, ["--tag", "x"]), (sent, ["--predict", "x"]),
                            (s2s, ["--task", "dates"]), (clm, ["--generate", "5"])):
            refused([prog, "--load", f("plain.rnn")] + extra,
                    "%s has no librnn example metadata (not saved by this example)"
                    % f("plain.rnn"))
        # Right metadata, shapes that disagree with it (hand-made files).
        refused([pos, "--load", f("pos_bad_units.rnn"), "--tag", "the cat sat"],
                "its output layer has 2 units, this example needs 12")
        refused([sent, "--load", f("sentiment_bad_vocab.rnn"), "--predict", "good movie"],
                "its embedding 1 takes 3 ids, its metadata's vocabulary has 5")
        # Right metadata: the model loads and runs.
        runs([pos, "--load", f("pos.rnn"), "--tag", "the cat sat"],
             r"^the/\S+ cat/\S+ sat/\S+$")
        runs([sent, "--load", f("sentiment.rnn"), "--predict", "good movie"],
             r"^\d\.\d{4} (positive|negative)$")
        runs([clm, "--load", f("char_lm.rnn"), "--generate", "5", "--prompt", "ab"],
             r"^ab[abc \n]{5}")
    for msg in failures:
        print("FAIL: " + msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
