# SPDX-License-Identifier: Apache-2.0
"""The binding's public surface is documented and typed, and stays so: walking every
module of the package (subpackages too) with inspect, each public module, class,
function, method and property has a docstring in Google style (an "Args:" section
naming every parameter, "Returns:" when something is returned), every public
signature is fully annotated, the package ships py.typed, and the keyword options
that mirror a C options struct name exactly its fields, with its defaults."""
import ctypes
import importlib
import inspect
import math
import os
import pkgutil
import re
import unittest

import librnn
from librnn import _lib, optimizers
from librnn.model import Model

#: Methods that take no documentation of their own (the language defines them).
_PLAIN_DUNDERS = {"__repr__", "__str__", "__eq__", "__hash__", "__len__", "__enter__",
                  "__exit__", "__array__", "__getitem__", "__setitem__", "__call__"}


def _modules():
    """librnn and every module under it, imported."""
    mods = [librnn]
    for info in pkgutil.walk_packages(librnn.__path__, librnn.__name__ + "."):
        mods.append(importlib.import_module(info.name))
    return mods


def _ours(obj):
    return (getattr(obj, "__module__", None) or "").split(".")[0] == librnn.__name__


def _doc(obj):
    """The object's own docstring, cleaned ("" if none; not one inherited)."""
    return inspect.cleandoc(obj.__doc__ or "")


def _public(name):
    return not name.startswith("_")


def _surface():
    """(what, kind, object) for every public name of the package, each object once:
    kind is 'module', 'class', 'function', 'method', 'init', 'dunder' or 'property'."""
    seen = set()
    out = []

    def add(what, kind, obj):
        key = (id(obj), kind)
        if key not in seen:
            seen.add(key)
            out.append((what, kind, obj))

    for mod in _modules():
        add(mod.__name__, "module", mod)
        for name, obj in sorted(vars(mod).items()):
            # each object where it is defined, under its own name (not the ctypes
            # pointer types such as TensorP, made by POINTER(), nor re-exports)
            if (not _public(name) or getattr(obj, "__module__", None) != mod.__name__ or
                    getattr(obj, "__qualname__", None) != name):
                continue
            where = "%s.%s" % (mod.__name__, name)
            if inspect.isfunction(obj):
                add(where, "function", obj)
            elif inspect.isclass(obj):
                add(where, "class", obj)
                for mname, member in vars(obj).items():
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    mwhere = "%s.%s" % (where, mname)
                    if isinstance(member, property):
                        if _public(mname):
                            add(mwhere, "property", member)
                    elif inspect.isfunction(member) and _ours(member):
                        if mname == "__init__":
                            add(mwhere, "init", member)
                        elif mname in _PLAIN_DUNDERS:
                            add(mwhere, "dunder", member)
                        elif _public(mname):
                            add(mwhere, "method", member)
    return out


def _params(fn):
    """The parameters a caller gives (no self/cls, no internal _name ones)."""
    sig = inspect.signature(fn)
    ps = list(sig.parameters.values())
    if ps and ps[0].name in ("self", "cls"):
        ps = ps[1:]
    return [p for p in ps if not p.name.startswith("_")], sig


def _section(doc, title):
    """The lines of a Google-style section ("Args", "Returns", ...), or None."""
    m = re.search(r"^(\s*)%s:\s*\n((?:\1\s+\S.*\n?|\s*\n)+)" % title, doc, re.M)
    return m.group(2) if m else None


class TestDocstrings(unittest.TestCase):
    def setUp(self):
        self.surface = _surface()

    def test_the_walk_sees_the_package(self):
        kinds = {}
        for _, kind, _ in self.surface:
            kinds[kind] = kinds.get(kind, 0) + 1
        self.assertGreaterEqual(kinds.get("module", 0), 7, kinds)
        self.assertGreaterEqual(kinds.get("method", 0) + kinds.get("property", 0), 110, kinds)
        names = {w for w, _, _ in self.surface}
        for w in ("librnn.model.Model.lstm", "librnn.model.Model.gru",
                  "librnn.model.Model.conv1d", "librnn.tensor.Tensor.shape",
                  "librnn.optimizers.Optimizer.learning_rate", "librnn._lib.RnnError"):
            self.assertIn(w, names)

    def test_every_public_name_has_a_docstring(self):
        missing = [w for w, kind, obj in self.surface
                   if kind not in ("dunder", "init") and not _doc(obj).strip()]
        self.assertEqual(missing, [], "public names without a docstring")

    def test_google_style_args_and_returns(self):
        """A function or method that takes parameters names each one under "Args:"
        (an __init__ may leave that to its class docstring); one that returns
        something has "Returns:"."""
        bad = []
        for w, kind, obj in self.surface:
            if kind not in ("function", "method", "init"):
                continue
            params, sig = _params(obj)
            doc = _doc(obj)
            if kind == "init" and not doc:
                doc = _doc(vars(inspect.getmodule(obj))[obj.__qualname__.split(".")[0]])
            if params:
                args = _section(doc, "Args")
                if args is None:
                    bad.append("%s: no Args section" % w)
                else:
                    for p in params:
                        star = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
                        if not re.search(r"^\s+%s%s( \(.*\))?:" % (re.escape(star), p.name),
                                         args, re.M):
                            bad.append("%s: %s%s not under Args" % (w, star, p.name))
            ret = sig.return_annotation
            if kind != "init" and ret not in ("None", None, inspect.Signature.empty):
                if _section(doc, "Returns") is None and _section(doc, "Yields") is None:
                    bad.append("%s: returns %s but has no Returns section" % (w, ret))
        self.assertEqual(bad, [])

    def test_every_public_signature_is_annotated(self):
        bad = []
        for w, kind, obj in self.surface:
            if kind in ("module", "class"):
                continue
            fns = [obj] if kind != "property" else [f for f in (obj.fget, obj.fset) if f]
            for fn in fns:
                sig = inspect.signature(fn)
                ps = list(sig.parameters.values())
                if ps and ps[0].name in ("self", "cls"):
                    ps = ps[1:]
                for p in ps:
                    if p.annotation is inspect.Parameter.empty:
                        bad.append("%s: parameter %s" % (w, p.name))
                if sig.return_annotation is inspect.Signature.empty:
                    bad.append("%s: return" % w)
        self.assertEqual(bad, [])

    def test_py_typed_is_shipped(self):
        pkg = os.path.dirname(librnn.__file__)
        self.assertTrue(os.path.isfile(os.path.join(pkg, "py.typed")), pkg)


def _c_value(struct_type, field, value, conv=None):
    """What a Python default becomes in the C struct (as _set_fields converts it)."""
    if conv is not None:
        value = conv(value)
    elif isinstance(value, bool):
        value = int(value)
    s = struct_type()
    setattr(s, field, value)
    return getattr(s, field)


class TestExplicitOptions(unittest.TestCase):
    """The keyword-only options mirror their C options struct: the same names as its
    fields (those not given otherwise), and defaults equal to its *_init values."""

    def _kwonly(self, fn):
        return {p.name: p.default for p in inspect.signature(fn).parameters.values()
                if p.kind == p.KEYWORD_ONLY}

    def _check_defaults(self, struct_type, init, kwonly, conv=None, skip=()):
        conv = conv or {}
        for name, default in kwonly.items():
            if default is None or name in skip:
                continue
            got = _c_value(struct_type, name, default, conv.get(name))
            want = getattr(init, name)
            if isinstance(want, float):
                self.assertTrue(math.isclose(got, want, rel_tol=1e-6), (name, got, want))
            else:
                self.assertEqual(got, want, name)

    def test_optimizer_config(self):
        fields = {n for n, _ in _lib.rnn_optimizer_options._fields_} - {"struct_size", "type"}
        params = {p for p in inspect.signature(optimizers.OptimizerConfig.__init__).parameters
                  if p != "self"}
        self.assertEqual(params, fields)
        with self.assertRaises(TypeError):
            librnn.Adam(learning_rate=1e-3, no_such_option=1)
        self.assertEqual(librnn.SGD(0.1, momentum=0.9, nesterov=True).get_config()["nesterov"], 1)

    def test_recurrent_builders(self):
        fields = {n for n, _ in _lib.rnn_recurrent_options._fields_} - {
            "struct_size", "cell", "units"}
        kw = self._kwonly(Model.recurrent)
        self.assertEqual(set(kw), fields)
        for name in ("simple_rnn", "lstm", "gru"):
            self.assertEqual(self._kwonly(getattr(Model, name)), kw, name)
        enum = {"activation": _lib.ACTIVATIONS, "merge_mode": _lib.MERGE_MODES,
                "kernel_initializer": _lib.INITIALIZERS,
                "recurrent_initializer": _lib.INITIALIZERS, "bias_initializer": _lib.INITIALIZERS}
        conv = {k: (lambda t: lambda v: _lib.enum(t, v, "x"))(t) for k, t in enum.items()}
        for cell in ("simple_rnn", "lstm", "gru"):
            init = _lib.init_struct(_lib.rnn_recurrent_options, _lib.CELLS[cell])
            self._check_defaults(_lib.rnn_recurrent_options, init, kw, conv)
        m = librnn.Model()
        m.input(shape=(None, 3))
        with self.assertRaises(TypeError):
            m.lstm(4, no_such_option=True)
        m.close()

    def test_fit(self):
        given = {"struct_size", "batch_size", "epochs", "validation_data", "monitor",
                 "checkpoint_path", "lr_schedule", "on_batch", "on_epoch", "user", "verbose",
                 "on_progress"}
        fields = {n for n, _ in _lib.rnn_fit_options._fields_} - given
        kw = self._kwonly(Model.fit)
        self.assertEqual(set(kw), fields)
        self._check_defaults(_lib.rnn_fit_options, _lib.init_struct(_lib.rnn_fit_options), kw)

    def test_decode(self):
        fields = {n for n, _ in _lib.rnn_decode_options._fields_} - {"struct_size"}
        kw = self._kwonly(Model.decode)
        self.assertEqual(set(kw), fields)
        conv = {"strategy": lambda v: _lib.enum(_lib.DECODE_STRATEGIES, v, "strategy")}
        init = _lib.init_struct(_lib.rnn_decode_options)
        self._check_defaults(_lib.rnn_decode_options, init, kw, conv)
        self.assertEqual(init.from_logits, -1)   # what from_logits=None gives
        self.assertIsNone(kw["from_logits"])


if __name__ == "__main__":
    unittest.main()
