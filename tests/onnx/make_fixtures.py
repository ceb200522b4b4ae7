#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the ONNX import fixtures of tests/onnx/fixtures/ (committed).

  /var/cache/librnn/peers/bin/python tests/onnx/make_fixtures.py [outdir]

Needs torch (torch.onnx.export, the TorchScript exporter, dynamo=False) for
the PyTorch models and onnx + onnxruntime for the hand-written operator
cases. Each fixture is <name>.onnx and <name>.io: the inputs fed and the
outputs the framework computed (PyTorch for the exported models, ONNX
Runtime for the hand-written graphs), in the small tensor format that
tests/onnx/tensors.c reads:

  "RNNT" u32 version=1, u32 count, then per tensor:
  u32 dtype (1 f32, 2 i32), u32 rank, i64 dims[rank], the elements (LE).

Inputs first, then outputs; the .io header's first u32 after count is the
number of inputs (see write_io).
"""
import os
import struct
import sys

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def write_io(path, inputs, outputs):
    with open(path, "wb") as f:
        f.write(b"RNNT" + struct.pack("<III", 1, len(inputs) + len(outputs), len(inputs)))
        for a in list(inputs) + list(outputs):
            a = np.asarray(a)
            if a.dtype.kind in "iu":
                a, code = a.astype("<i4"), 2
            else:
                a, code = a.astype("<f4"), 1
            f.write(struct.pack("<II", code, a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape))
            f.write(np.ascontiguousarray(a).tobytes())


def torch_models():
    import torch
    from torch import nn
    torch.manual_seed(0)

    class Sentiment(nn.Module):  # Embedding + BiLSTM + Dense (sigmoid)
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(40, 8)
            self.rnn = nn.LSTM(8, 6, batch_first=True, bidirectional=True)
            self.dense = nn.Linear(12, 1)

        def forward(self, x):
            _, (h, _) = self.rnn(self.emb(x))
            return torch.sigmoid(self.dense(torch.cat([h[0], h[1]], dim=1)))

    class SentimentPooling(nn.Module):  # examples/sentiment: max and mean over time
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(40, 8)
            self.rnn = nn.GRU(8, 6, batch_first=True, bidirectional=True)
            self.drop = nn.Dropout(0.4)
            self.dense = nn.Linear(24, 1)

        def forward(self, x):
            h, _ = self.rnn(self.emb(x))
            pooled = torch.cat([h.amax(1), h.mean(1)], 1)
            return torch.sigmoid(self.dense(self.drop(pooled)))

    class PoolingKeepdims(nn.Module):  # keepdim=True, a negative axis, Squeeze after
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(30, 6)
            self.rnn = nn.LSTM(6, 5, batch_first=True)
            self.dense = nn.Linear(10, 3)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            pooled = torch.cat([y.amax(-2, keepdim=True), y.mean(dim=1, keepdim=True)], 2)
            return torch.softmax(self.dense(pooled.squeeze(1)), dim=-1)

    class Tagger(nn.Module):  # Embedding + BiGRU + per-step Dense
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 8)
            self.rnn = nn.GRU(8, 7, batch_first=True, bidirectional=True)
            self.dense = nn.Linear(14, 5)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            return self.dense(y)  # the logits (CrossEntropyLoss takes them)

    class CharGRU(nn.Module):  # 2-layer char GRU, softmax over the characters
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(30, 10)
            self.rnn = nn.GRU(10, 9, num_layers=2, batch_first=True)
            self.dense = nn.Linear(9, 30)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            return torch.softmax(self.dense(y), dim=-1)

    class Encoder(nn.Module):  # seq2seq encoder: outputs, final h and c
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(25, 6)
            self.rnn = nn.LSTM(6, 8, batch_first=True)

        def forward(self, x):
            y, (h, c) = self.rnn(self.emb(x))
            return y, h[0], c[0]

    class TaggerLogSoftmax(nn.Module):  # a tagger giving log-probabilities (NLLLoss)
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 8)
            self.rnn = nn.LSTM(8, 7, batch_first=True, bidirectional=True)
            self.dense = nn.Linear(14, 5)
            self.log_softmax = nn.LogSoftmax(dim=-1)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            return self.log_softmax(self.dense(y))

    class TimeMajorRNN(nn.Module):  # float input, time-major tanh RNN + relu dense
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(4, 5)
            self.dense = nn.Linear(5, 3)

        def forward(self, x):
            y, _ = self.rnn(x)
            return torch.relu(self.dense(y))

    cases = [("torch_sentiment", Sentiment(), "ids", (3, 11), 40),
             ("torch_tagger", Tagger(), "ids", (3, 9), 50),
             ("torch_char_gru", CharGRU(), "ids", (2, 12), 30),
             ("torch_encoder", Encoder(), "ids", (4, 7), 25),
             ("torch_rnn_time_major", TimeMajorRNN(), "x", (6, 2, 4), None),
             ("torch_sentiment_pooling", SentimentPooling(), "ids", (3, 11), 40),
             ("torch_pooling_keepdims", PoolingKeepdims(), "ids", (2, 8), 30),
             ("torch_tagger_log_softmax", TaggerLogSoftmax(), "ids", (3, 9), 50)]
    for name, model, kind, shape, vocab in cases:
        model.eval()
        g = torch.Generator().manual_seed(len(name))
        if vocab:
            x = torch.randint(0, vocab, shape, generator=g)
        else:
            x = torch.randn(shape, generator=g)
        with torch.no_grad():
            y = model(x)
        ys = y if isinstance(y, tuple) else (y,)
        names = ["y%d" % i for i in range(len(ys))]
        dyn = {"x": {0: "N", 1: "T"} if vocab else {0: "T", 1: "N"}}
        for n in names:
            dyn[n] = {0: "N"}
        path = os.path.join(OUT, name + ".onnx")
        torch.onnx.export(model, (x,), path, input_names=["x"], output_names=names,
                          dynamic_axes=dyn, opset_version=14, dynamo=False)
        xin = x.numpy().astype(np.int32) if vocab else x.numpy()
        write_io(os.path.join(OUT, name + ".io"), [xin], [t.numpy() for t in ys])
        print(name, [t.shape for t in ys])
        if name in PACKED:
            packed_case(torch, name, model, x)


def _packed_rnn(torch, rnn, e, lengths):
    """The recurrent layer on packed sequences (bench/torch_*.py's training and
    evaluation): zeros at the padded steps."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
    h, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=e.shape[1])
    return h


def _packed_sentiment(torch, m, x, lengths):
    """bench/torch_imdb.py's Classifier: max and mean over each sample's real steps."""
    h = _packed_rnn(torch, m.rnn, m.emb(x), lengths)
    real = (torch.arange(x.shape[1])[None, :] < lengths[:, None])[:, :, None]
    mx = h.masked_fill(~real, float("-inf")).amax(1)
    avg = h.sum(1) / lengths[:, None].to(h.dtype)
    return torch.sigmoid(m.dense(torch.cat([mx, avg], 1)))


def _packed_tagger(torch, m, x, lengths):
    """bench/torch_pos_tagger.py's Tagger (the padded steps' outputs are not compared)."""
    return m.dense(_packed_rnn(torch, m.rnn, m.emb(x), lengths))


# Fixtures <name>_lengths.io for <name>.onnx: the same model on a right-padded
# batch of different lengths, run by PyTorch on packed sequences; librnn must
# give the same given the lengths to rnn_model_forward().
PACKED = {"torch_sentiment_pooling": _packed_sentiment, "torch_tagger": _packed_tagger}


def packed_case(torch, name, model, x):
    lengths = torch.tensor([x.shape[1]] + [max(1, x.shape[1] - 3 * k - 2)
                                           for k in range(x.shape[0] - 1)])
    xp = x.clone()
    for n, L in enumerate(lengths.tolist()):
        xp[n, L:] = 0
    with torch.no_grad():
        y = PACKED[name](torch, model, xp, lengths)
    write_io(os.path.join(OUT, name + "_lengths.io"),
             [xp.numpy().astype(np.int32), lengths.numpy().astype(np.int32)], [y.numpy()])
    print(name + "_lengths", tuple(y.shape), lengths.tolist())


def torch_seq2seq():
    """Encoder-decoder: the decoder LSTM starts from the encoder's (h, c)."""
    import torch
    from torch import nn
    torch.manual_seed(1)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.src = nn.Embedding(20, 6)
            self.tgt = nn.Embedding(22, 5)
            self.enc = nn.LSTM(6, 8, batch_first=True)
            self.dec = nn.LSTM(5, 8, batch_first=True)
            self.out = nn.Linear(8, 22)

        def forward(self, s, t):
            _, (h, c) = self.enc(self.src(s))
            y, _ = self.dec(self.tgt(t), (h, c))
            return self.out(y)

    model = Seq2Seq().eval()
    g = torch.Generator().manual_seed(3)
    s = torch.randint(0, 20, (3, 7), generator=g)
    t = torch.randint(0, 22, (3, 5), generator=g)
    with torch.no_grad():
        y = model(s, t)
    path = os.path.join(OUT, "torch_seq2seq.onnx")
    torch.onnx.export(model, (s, t), path, input_names=["s", "t"], output_names=["y"],
                      dynamic_axes={"s": {0: "N", 1: "S"}, "t": {0: "N", 1: "T"},
                                    "y": {0: "N", 1: "T"}}, opset_version=14, dynamo=False)
    write_io(os.path.join(OUT, "torch_seq2seq.io"), [s.numpy().astype(np.int32),
                                                      t.numpy().astype(np.int32)], [y.numpy()])
    print("torch_seq2seq", tuple(y.shape))


def operator_cases():
    """Hand-written graphs for what torch does not emit (layout 1, reverse,
    GRU linear_before_reset 0, RNN Relu, Gemm, LogSoftmax, pooling over time
    on a time-major output and with opset 18's axes input, sequence_lens),
    run by ONNX Runtime; and graphs the reader must refuse."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)

    def w(*shape):
        return (rng.standard_normal(shape) * 0.4).astype(np.float32)

    def to_layout0(nodes):
        """ONNX Runtime's CPU kernels refuse layout 1: the reference runs the
        same cells with layout 0 between Transposes."""
        out = []
        for n in nodes:
            lay = [a for a in n.attribute if a.name == "layout" and a.i == 1]
            if not lay:
                out.append(n)
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute
                     if a.name != "layout"}
            attrs = {k: (v.decode() if isinstance(v, bytes) else
                         [x.decode() for x in v] if isinstance(v, list) and v and
                         isinstance(v[0], bytes) else v) for k, v in attrs.items()}
            ins = list(n.input)
            out.append(helper.make_node("Transpose", [ins[0]], [ins[0] + "_tm"], perm=[1, 0, 2]))
            ins[0] += "_tm"
            outs = [o + "_tm" if o else "" for o in n.output]
            out.append(helper.make_node(n.op_type, ins, outs, **attrs))
            for k, o in enumerate(n.output):
                if o:
                    out.append(helper.make_node("Transpose", [o + "_tm"], [o],
                                                perm=[2, 0, 1, 3] if k == 0 else [1, 0, 2]))
        return out

    def save(name, nodes, inits, inputs, outputs, feeds, run=True, opset=14):
        def model(ns):
            g = helper.make_graph(ns, name, inputs, outputs,
                                  [numpy_helper.from_array(v, k) for k, v in inits.items()])
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="librnn make_fixtures.py")
            m.ir_version = 8
            return m
        m = model(nodes)
        if run:
            onnx.checker.check_model(m)
        onnx.save(m, os.path.join(OUT, name + ".onnx"))
        if run:
            ref = model(to_layout0(nodes))
            sess = ort.InferenceSession(ref.SerializeToString(),
                                        providers=["CPUExecutionProvider"])
            outs = sess.run(None, feeds)
            write_io(os.path.join(OUT, name + ".io"), list(feeds.values()), outs)
            print(name, [o.shape for o in outs])

    def fin(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    N, T, I, H = 3, 5, 4, 6
    xb = rng.standard_normal((N, T, I)).astype(np.float32)

    def rec(op, D, G, inits, extra_attrs, prefix=""):
        inits[prefix + "W"] = w(D, G * H, I)
        inits[prefix + "R"] = w(D, G * H, H)
        inits[prefix + "B"] = w(D, 2 * G * H)
        return [prefix + "W", prefix + "R", prefix + "B"]

    # LSTM layout 1 (batch-major), reverse, only Y_h used: (N, 1, H) -> (N, H)
    inits = {}
    ins = ["x"] + rec("LSTM", 1, 4, inits, {})
    nodes = [helper.make_node("LSTM", ins, ["", "yh"], hidden_size=H, layout=1,
                              direction="reverse", name="lstm"),
             helper.make_node("Squeeze", ["yh", "ax1"], ["y"], name="sq")]
    inits["ax1"] = np.array([1], np.int64)
    save("op_lstm_layout1_reverse_h", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y", ["N", H])], {"x": xb})

    # GRU linear_before_reset 0, bidirectional, Y -> (N, T, 2H) by torch's pattern
    inits = {}
    ins = ["xt"] + rec("GRU", 2, 3, inits, {})
    inits["shp"] = np.array([0, 0, -1], np.int64)
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2], name="t0"),
             helper.make_node("GRU", ins, ["y4"], hidden_size=H, direction="bidirectional",
                              linear_before_reset=0, name="gru"),
             helper.make_node("Transpose", ["y4"], ["y4t"], perm=[0, 2, 1, 3], name="t1"),
             helper.make_node("Reshape", ["y4t", "shp"], ["y3"], name="r"),
             helper.make_node("Transpose", ["y3"], ["y"], perm=[1, 0, 2], name="t2")]
    save("op_gru_lbr0_bidir", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y", ["N", "T", 2 * H])], {"x": xb})

    # GRU linear_before_reset 1, reverse, Y_h via Gather, then Sigmoid
    inits = {}
    ins = ["xt"] + rec("GRU", 1, 3, inits, {})
    inits["zero"] = np.array(0, np.int64)
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2], name="t0"),
             helper.make_node("GRU", ins, ["", "yh"], hidden_size=H, direction="reverse",
                              linear_before_reset=1, name="gru"),
             helper.make_node("Gather", ["yh", "zero"], ["h"], axis=0, name="g"),
             helper.make_node("Sigmoid", ["h"], ["y"], name="s")]
    save("op_gru_lbr1_reverse_h", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y", ["N", H])], {"x": xb})

    # RNN Relu, bidirectional, layout 1: Y (N, T, 2, H) -> Reshape (N, T, 2H)
    inits = {}
    ins = ["x"] + rec("RNN", 2, 1, inits, {})
    inits["shp"] = np.array([0, 0, 2 * H], np.int64)
    nodes = [helper.make_node("RNN", ins, ["y4"], hidden_size=H, direction="bidirectional",
                              layout=1, activations=["Relu", "Relu"], name="rnn"),
             helper.make_node("Reshape", ["y4", "shp"], ["y"], name="r")]
    save("op_rnn_relu_bidir", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y", ["N", "T", 2 * H])], {"x": xb})

    # LSTM bidirectional layout 1, final states concatenated: Y_h (N, 2, H) -> (N, 2H),
    # and Y_c of the backward direction by Gather on axis 1
    inits = {}
    ins = ["x"] + rec("LSTM", 2, 4, inits, {}) + ["", "", ""]
    inits["shp"] = np.array([0, -1], np.int64)
    inits["one"] = np.array(1, np.int64)
    nodes = [helper.make_node("LSTM", ins, ["", "yh", "yc"], hidden_size=H, layout=1,
                              direction="bidirectional", name="lstm"),
             helper.make_node("Reshape", ["yh", "shp"], ["y"], name="r"),
             helper.make_node("Gather", ["yc", "one"], ["c"], axis=1, name="g")]
    save("op_lstm_bidir_layout1", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y", ["N", 2 * H]), fin("c", ["N", H])], {"x": xb})

    # Gemm (transB 0 and 1) with Relu and Tanh on a (N, F) input
    inits = {"w1": w(I, 7), "b1": w(7), "w2": w(5, 7), "b2": w(1, 5)}
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="d1"),
             helper.make_node("Relu", ["h1"], ["a1"], name="a1"),
             helper.make_node("Gemm", ["a1", "w2", "b2"], ["h2"], transB=1, name="d2"),
             helper.make_node("Tanh", ["h2"], ["y"], name="a2")]
    save("op_gemm_relu_tanh", nodes, inits, [fin("x", ["N", I])], [fin("y", ["N", 5])],
         {"x": xb[:, 0, :]})

    # refused
    def refused(name, op, G, attrs, extra_inputs=(), extra_inits=None):
        inits = {}
        ins = ["x"] + rec(op, 1, G, inits, {}) + list(extra_inputs)
        inits.update(extra_inits or {})
        nodes = [helper.make_node(op, ins, ["", "yh"], hidden_size=H, layout=1,
                                  name="cell", **attrs),
                 helper.make_node("Squeeze", ["yh", "ax1"], ["y"], name="sq")]
        inits["ax1"] = np.array([1], np.int64)
        save(name, nodes, inits, [fin("x", ["N", "T", I])], [fin("y", ["N", H])], {},
             run=False)

    refused("refuse_clip", "LSTM", 4, {"clip": 3.0})
    refused("refuse_input_forget", "LSTM", 4, {"input_forget": 1})
    refused("refuse_activations", "GRU", 3, {"activations": ["HardSigmoid", "Tanh"]})
    refused("refuse_peephole", "LSTM", 4, {}, ["", "", "", "P"], {"P": w(1, 3 * H)})
    nodes = [helper.make_node("Erf", ["x"], ["y"], name="erf")]
    save("refuse_unknown_op", nodes, {}, [fin("x", ["N", I])], [fin("y", ["N", I])], {},
         run=False)
    # LogSoftmax over the features (opset 14: axis -1); over the batch axis: refused
    inits = {"w1": w(I, 7), "b1": w(7)}
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="d1"),
             helper.make_node("LogSoftmax", ["h1"], ["y"], axis=-1, name="ls")]
    save("op_gemm_log_softmax", nodes, inits, [fin("x", ["N", I])], [fin("y", ["N", 7])],
         {"x": xb[:, 0, :]})
    nodes[1] = helper.make_node("LogSoftmax", ["h1"], ["y"], axis=0, name="ls")
    save("refuse_log_softmax_axis", nodes, inits, [fin("x", ["N", I])], [fin("y", ["N", 7])],
         {}, run=False)

    # Pooling over time on a time-major bidirectional GRU output Y (T, 2, N, H):
    # ReduceMax over axis 0 (keepdims 0) -> (2, N, H) -> (N, 2H), and ReduceMean
    # with keepdims left at its default 1 -> (1, 2, N, H) -> (N, 2H)
    inits = {}
    ins = ["xt"] + rec("GRU", 2, 3, inits, {})
    inits["shp"] = np.array([0, -1], np.int64)
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2], name="t0"),
             helper.make_node("GRU", ins, ["y4"], hidden_size=H, direction="bidirectional",
                              linear_before_reset=1, name="gru"),
             helper.make_node("ReduceMax", ["y4"], ["mx"], axes=[0], keepdims=0, name="max"),
             helper.make_node("Transpose", ["mx"], ["mxt"], perm=[1, 0, 2], name="t1"),
             helper.make_node("Reshape", ["mxt", "shp"], ["y_max"], name="r1"),
             helper.make_node("ReduceMean", ["y4"], ["av"], axes=[0], name="mean"),
             helper.make_node("Transpose", ["av"], ["avt"], perm=[2, 0, 1, 3], name="t2"),
             helper.make_node("Reshape", ["avt", "shp"], ["y_mean"], name="r2")]
    save("op_reduce_time_major", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y_max", ["N", 2 * H]), fin("y_mean", ["N", 2 * H])], {"x": xb})

    # opset 18 (axes as an input): an RNN with layout 1, Y (N, T, 1, H); ReduceMax
    # over the size-1 direction axis (the identity), then ReduceMean over time
    # (keepdims 1) -> (N, 1, H) -> Squeeze -> (N, H)
    inits = {}
    ins = ["x"] + rec("RNN", 1, 1, inits, {})
    inits["ax_dir"] = np.array([2], np.int64)
    inits["ax_time"] = np.array([-2], np.int64)
    inits["ax1"] = np.array([1], np.int64)
    nodes = [helper.make_node("RNN", ins, ["y4"], hidden_size=H, layout=1, name="rnn"),
             helper.make_node("ReduceMax", ["y4", "ax_dir"], ["y3"], keepdims=0, name="dir"),
             helper.make_node("ReduceMean", ["y3", "ax_time"], ["m"], name="mean"),
             helper.make_node("Squeeze", ["m", "ax1"], ["y"], name="sq")]
    save("op_reduce_opset18", nodes, inits, [fin("x", ["N", "T", I])], [fin("y", ["N", H])],
         {"x": xb}, opset=18)

    # refused pooling
    inits = {}
    ins = ["x"] + rec("RNN", 1, 1, inits, {})
    nodes = [helper.make_node("RNN", ins, ["y4"], hidden_size=H, layout=1, name="rnn"),
             helper.make_node("ReduceMean", ["y4"], ["y"], axes=[1, 3], keepdims=0,
                              name="pool")]
    save("refuse_reduce_features", nodes, inits, [fin("x", ["N", "T", I])],
         [fin("y", ["N", 1])], {}, run=False)
    nodes = [helper.make_node("RNN", ins, ["y4"], hidden_size=H, layout=1, name="rnn"),
             helper.make_node("ReduceMax", ["y4"], ["y"], keepdims=0, name="pool")]
    save("refuse_reduce_all", nodes, inits, [fin("x", ["N", "T", I])], [fin("y", [])], {},
         run=False)

    sequence_lens_cases(save, fin)


def sequence_lens_cases(save, fin):
    """Recurrent operators given sequence_lens, a graph input "len" (int32 (N),
    the last input of each .io), run by ONNX Runtime on a batch whose padded
    steps hold non-zero values: librnn, given the same lengths, must match
    every output at every position (Y is zero at padded steps, a per-step
    MatMul + Add gives its bias there). And the graphs that would differ:
    refused."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(11)

    def w(*shape):
        return (rng.standard_normal(shape) * 0.4).astype(np.float32)

    N, T, I, H = 3, 5, 4, 6
    xb = rng.standard_normal((N, T, I)).astype(np.float32)
    lens = np.array([2, 5, 3], np.int32)
    len_in = helper.make_tensor_value_info("len", TensorProto.INT32, ["N"])

    def rec(D, G, inits, prefix):
        inits[prefix + "W"] = w(D, G * H, I if prefix in ("", "a") else H)
        inits[prefix + "R"] = w(D, G * H, H)
        inits[prefix + "B"] = w(D, 2 * G * H)
        return [prefix + "W", prefix + "R", prefix + "B", "len"]

    def t_in():
        return helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2], name="t_in")

    # LSTM forward: Y -> (N, T, H) -> per-step MatMul + Add; Y_h -> (N, H)
    inits = {"ax01": np.array([1], np.int64), "ax0": np.array([0], np.int64),
             "dw": w(H, 3), "db": w(3)}
    nodes = [t_in(),
             helper.make_node("LSTM", ["xt"] + rec(1, 4, inits, ""), ["y4", "yh"],
                              hidden_size=H, name="lstm"),
             helper.make_node("Squeeze", ["y4", "ax01"], ["y3"], name="sq"),
             helper.make_node("Transpose", ["y3"], ["yb"], perm=[1, 0, 2], name="t_out"),
             helper.make_node("MatMul", ["yb", "dw"], ["ym"], name="dense"),
             helper.make_node("Add", ["ym", "db"], ["y"], name="bias"),
             helper.make_node("Squeeze", ["yh", "ax0"], ["h"], name="sq_h")]
    save("op_seqlens_lstm_forward", nodes, inits, [fin("x", ["N", "T", I]), len_in],
         [fin("y", ["N", "T", 3]), fin("h", ["N", H])], {"x": xb, "len": lens})

    # GRU reverse (linear_before_reset 1): each sample's real steps backwards; Y_h
    inits = {"ax0": np.array([0], np.int64)}
    nodes = [t_in(),
             helper.make_node("GRU", ["xt"] + rec(1, 3, inits, ""), ["", "yh"], hidden_size=H,
                              direction="reverse", linear_before_reset=1, name="gru"),
             helper.make_node("Squeeze", ["yh", "ax0"], ["h"], name="sq_h")]
    save("op_seqlens_gru_reverse", nodes, inits, [fin("x", ["N", "T", I]), len_in],
         [fin("h", ["N", H])], {"x": xb, "len": lens})

    # LSTM bidirectional: Y -> (N, T, 2H) -> MatMul + Add + Softmax; Y_h -> (N, 2H);
    # the backward direction's Y_c
    inits = {"shp3": np.array([0, 0, -1], np.int64), "shp2": np.array([0, -1], np.int64),
             "one": np.array(1, np.int64), "dw": w(2 * H, 4), "db": w(4)}
    nodes = [t_in(),
             helper.make_node("LSTM", ["xt"] + rec(2, 4, inits, ""), ["y4", "yh", "yc"],
                              hidden_size=H, direction="bidirectional", name="lstm"),
             helper.make_node("Transpose", ["y4"], ["y4t"], perm=[2, 0, 1, 3], name="t_y"),
             helper.make_node("Reshape", ["y4t", "shp3"], ["y3"], name="r_y"),
             helper.make_node("MatMul", ["y3", "dw"], ["ym"], name="dense"),
             helper.make_node("Add", ["ym", "db"], ["ya"], name="bias"),
             helper.make_node("Softmax", ["ya"], ["y"], axis=-1, name="softmax"),
             helper.make_node("Transpose", ["yh"], ["yht"], perm=[1, 0, 2], name="t_h"),
             helper.make_node("Reshape", ["yht", "shp2"], ["h"], name="r_h"),
             helper.make_node("Gather", ["yc", "one"], ["c"], axis=0, name="c_back")]
    save("op_seqlens_lstm_bidir", nodes, inits, [fin("x", ["N", "T", I]), len_in],
         [fin("y", ["N", "T", 4]), fin("h", ["N", 2 * H]), fin("c", ["N", H])],
         {"x": xb, "len": lens})

    # GRU bidirectional, linear_before_reset 0, layout 1: Y (N, T, 2, H) -> (N, T, 2H),
    # Y_h (N, 2, H) -> (N, 2H)
    inits = {"shp3": np.array([0, 0, -1], np.int64), "shp2": np.array([0, -1], np.int64)}
    nodes = [helper.make_node("GRU", ["x"] + rec(2, 3, inits, ""), ["y4", "yh"], hidden_size=H,
                              direction="bidirectional", layout=1, name="gru"),
             helper.make_node("Reshape", ["y4", "shp3"], ["y"], name="r_y"),
             helper.make_node("Reshape", ["yh", "shp2"], ["h"], name="r_h")]
    save("op_seqlens_gru_bidir_layout1", nodes, inits, [fin("x", ["N", "T", I]), len_in],
         [fin("y", ["N", "T", 2 * H]), fin("h", ["N", H * 2])], {"x": xb, "len": lens})

    # token ids -> embedding -> GRU -> GRU, both given sequence_lens; the second's Y_h
    # -> MatMul + Add -> LogSoftmax
    V = 20
    ids = rng.integers(0, V, (N, T)).astype(np.int64)
    inits = {"emb": w(V, I), "ax0": np.array([0], np.int64), "ax1": np.array([1], np.int64),
             "dw": w(H, 5), "db": w(5)}
    nodes = [helper.make_node("Gather", ["emb", "ids"], ["e"], axis=0, name="embedding"),
             helper.make_node("Transpose", ["e"], ["et"], perm=[1, 0, 2], name="t_in"),
             helper.make_node("GRU", ["et"] + rec(1, 3, inits, "a"), ["y4"], hidden_size=H,
                              linear_before_reset=1, name="gru1"),
             helper.make_node("Squeeze", ["y4", "ax1"], ["y3"], name="sq"),
             helper.make_node("GRU", ["y3"] + rec(1, 3, inits, "b"), ["", "yh"], hidden_size=H,
                              name="gru2"),
             helper.make_node("Squeeze", ["yh", "ax0"], ["h"], name="sq_h"),
             helper.make_node("MatMul", ["h", "dw"], ["hm"], name="dense"),
             helper.make_node("Add", ["hm", "db"], ["ha"], name="bias"),
             helper.make_node("LogSoftmax", ["ha"], ["y"], axis=-1, name="log_softmax")]
    save("op_seqlens_stacked_gru", nodes, inits,
         [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", "T"]), len_in],
         [fin("y", ["N", 5])], {"ids": ids, "len": lens})

    # a constant sequence_lens equal to the input's fixed steps: no lengths at all
    inits = {"len": np.full(N, T, np.int32), "ax0": np.array([0], np.int64)}
    nodes = [t_in(),
             helper.make_node("LSTM", ["xt"] + rec(1, 4, inits, ""), ["", "yh"], hidden_size=H,
                              name="lstm"),
             helper.make_node("Squeeze", ["yh", "ax0"], ["h"], name="sq_h")]
    save("op_seqlens_const_full", nodes, inits, [fin("x", [N, T, I])], [fin("h", [N, H])],
         {"x": xb})

    # refused: what ONNX computes over every step of sequences with lengths
    inits = {}
    nodes = [t_in(),
             helper.make_node("LSTM", ["xt"] + rec(1, 4, inits, ""), ["y4"], hidden_size=H,
                              name="lstm"),
             helper.make_node("ReduceMean", ["y4"], ["m"], axes=[0], keepdims=0, name="pool"),
             helper.make_node("Squeeze", ["m", "ax0"], ["y"], name="sq")]
    inits["ax0"] = np.array([0], np.int64)
    save("refuse_seqlens_pool", nodes, inits, [fin("x", ["N", "T", I]), len_in],
         [fin("y", ["N", H])], {}, run=False)
    inits = {"ax1": np.array([1], np.int64), "ax0": np.array([0], np.int64)}
    gru1 = rec(1, 3, inits, "a")[:3]
    nodes = [t_in(),
             helper.make_node("GRU", ["xt"] + gru1, ["y4"], hidden_size=H, name="gru1"),
             helper.make_node("Squeeze", ["y4", "ax1"], ["y3"], name="sq"),
             helper.make_node("GRU", ["y3"] + rec(1, 3, inits, "b"), ["", "yh"], hidden_size=H,
                              name="gru2"),
             helper.make_node("Squeeze", ["yh", "ax0"], ["y"], name="sq_h")]
    save("refuse_seqlens_mixed", nodes, inits, [fin("x", ["N", "T", I]), len_in],
         [fin("y", ["N", H])], {}, run=False)
    nodes[1] = helper.make_node("GRU", ["xt"] + gru1 + ["len"], ["y4"], hidden_size=H,
                                name="gru1")
    nodes[3].input[4] = "len2"
    save("refuse_seqlens_two", nodes, inits,
         [fin("x", ["N", "T", I]), len_in,
          helper.make_tensor_value_info("len2", TensorProto.INT32, ["N"])],
         [fin("y", ["N", H])], {}, run=False)
    inits = {"len": lens, "ax0": np.array([0], np.int64)}
    nodes = [t_in(),
             helper.make_node("LSTM", ["xt"] + rec(1, 4, inits, ""), ["", "yh"], hidden_size=H,
                              name="lstm"),
             helper.make_node("Squeeze", ["yh", "ax0"], ["y"], name="sq")]
    save("refuse_seqlens_const", nodes, inits, [fin("x", [N, T, I])], [fin("y", [N, H])], {},
         run=False)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch_models()
    torch_seq2seq()
    operator_cases()
