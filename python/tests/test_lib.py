# SPDX-License-Identifier: Apache-2.0
"""The low-level layer: the function table against the exported symbols, the
version script and the header prototypes; struct mirrors against the headers
and the library's struct_size; versions; errors; process-wide settings."""
import ctypes
import gc
import os
import re
import shutil
import subprocess
import unittest

import librnn
from librnn import _lib

from _util import INCLUDE, MAP, ROOT


def _strip_comments(text):
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def _headers():
    if not os.path.isdir(os.path.join(INCLUDE, "rnn")):
        return None
    sub = os.path.join(INCLUDE, "rnn")
    # Headers of optional parts (their own libraries: librnn-keras, librnn-onnx) are
    # bound by their own modules, not by _lib.FUNCTIONS.
    paths = [os.path.join(sub, f) for f in sorted(os.listdir(sub))
             if f.endswith(".h") and f != "keras.h"]
    texts = [open(p, encoding="utf-8").read() for p in paths]
    return "\n".join(_strip_comments(t) for t in texts if "librnn optional part:" not in t)


def _tokens(decl):
    decl = decl.replace("*", " * ")
    return [t for t in decl.split() if t not in ("const", "struct", "RNN_API")]


class CTypes:
    """Maps C declarations of the headers to the ctypes types they must have."""

    SCALARS = {"int": ctypes.c_int, "unsigned": ctypes.c_uint, "int64_t": ctypes.c_int64,
               "int32_t": ctypes.c_int32, "uint64_t": ctypes.c_uint64,
               "uint32_t": ctypes.c_uint32, "size_t": ctypes.c_size_t,
               "float": ctypes.c_float, "double": ctypes.c_double}

    def __init__(self, text):
        self.enums = set(re.findall(r"typedef\s+enum\s+\w+\s*\{[^}]*\}\s*(\w+)\s*;", text))

    def ctype(self, base, depth, ret=False):
        if base == "char":
            return ctypes.c_char_p if depth == 1 else ctypes.POINTER(ctypes.c_char_p)
        if base == "void":
            if depth == 0:
                return None
            t = ctypes.c_void_p
            depth -= 1
        elif base == "rnn_status" and depth == 0 and ret:
            return _lib.STATUS
        elif base in self.enums:
            t = ctypes.c_int
        elif base in self.SCALARS:
            t = self.SCALARS[base]
        else:
            t = getattr(_lib, base)  # structs, handles, function pointer types
        for _ in range(depth):
            t = ctypes.POINTER(t)
        return t

    FNPTR = re.compile(r"^(.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)$", re.S)

    def of_decl(self, decl, ret=False):
        """(name, ctype) of a declaration such as "const rnn_tensor *const *inputs", or of
        a function pointer field such as "int (*wait)(void *user, void *request)" (its
        ctypes.CFUNCTYPE, which ctypes caches per signature)."""
        fn = self.FNPTR.match(decl.strip())
        if fn:
            _, res = self.of_decl(fn.group(1) + " result")
            params = fn.group(3).strip()
            args = [] if params in ("", "void") else [self.of_decl(p)[1]
                                                       for p in params.split(",")]
            return fn.group(2), ctypes.CFUNCTYPE(res, *args)
        toks = _tokens(decl)
        name = toks.pop()
        depth = toks.count("*")
        base = [t for t in toks if t != "*"]
        assert len(base) == 1, decl
        return name, self.ctype(base[0], depth, ret)


def _type_name(t):
    return "STATUS" if t is _lib.STATUS else getattr(t, "__name__", repr(t))


class TestFunctionTable(unittest.TestCase):
    def test_table_equals_version_script(self):
        if not os.path.exists(MAP):
            self.skipTest("no lib/librnn.map (not a source tree)")
        text = _strip_comments(open(MAP, encoding="utf-8").read())
        mapped = set()
        for g in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
            mapped.update(re.findall(r"\b(rnn_\w+)\s*;", g))
        self.assertEqual(sorted(mapped - set(_lib.FUNCTIONS)), [], "missing from the table")
        self.assertEqual(sorted(set(_lib.FUNCTIONS) - mapped), [], "not in librnn.map")

    def test_table_equals_exported_symbols(self):
        nm = shutil.which("nm")
        path = os.path.realpath(_lib.loaded_from) if os.path.exists(_lib.loaded_from) else None
        if not nm or not path:
            self.skipTest("nm or the library file is not available")
        out = subprocess.run([nm, "-D", "--defined-only", path], capture_output=True, text=True,
                             check=True).stdout
        exported = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "TWti" and parts[2].startswith("rnn_"):
                exported.add(parts[2].split("@")[0])
        self.assertEqual(sorted(exported - set(_lib.FUNCTIONS)), [], "exported, not in the table")
        self.assertEqual(sorted(set(_lib.FUNCTIONS) - exported), [], "in the table, not exported")

    def test_table_matches_header_prototypes(self):
        text = _headers()
        if text is None:
            self.skipTest("no include/rnn headers (not a source tree)")
        ct = CTypes(text)
        protos = re.findall(r"RNN_API\s+([^;{]*?)\b(rnn_\w+)\s*\(([^)]*)\)\s*;", text)
        names = {p[1] for p in protos}
        self.assertEqual(sorted(names ^ set(_lib.FUNCTIONS)), [],
                         "headers and table disagree on the function list")
        for ret, name, params in protos:
            res, args = _lib.FUNCTIONS[name]
            _, want_res = ct.of_decl(ret + " x", ret=True)
            self.assertIs(res, want_res, "%s returns %s, table says %s"
                          % (name, _type_name(want_res), _type_name(res)))
            params = params.strip()
            decls = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
            self.assertEqual(len(args), len(decls), "%s: argument count" % name)
            for i, (d, got) in enumerate(zip(decls, args)):
                pname, want = ct.of_decl(d)
                self.assertIs(got, want, "%s argument %d (%s): header %s, table %s"
                              % (name, i, pname, _type_name(want), _type_name(got)))

    def test_every_function_is_declared(self):
        for name, (res, args) in _lib.FUNCTIONS.items():
            fn = getattr(_lib.lib, name)
            self.assertEqual(list(fn.argtypes), list(args), name)
            if res is _lib.STATUS:
                self.assertIs(fn.restype, ctypes.c_int, name)
                self.assertIs(fn.errcheck, _lib._errcheck, name)
            else:
                self.assertIs(fn.restype, res, name)

    def test_pythonic_layer_calls_every_function(self):
        pkg = os.path.dirname(librnn.__file__)
        text = ""
        # _lib.py counts too: its FUNCTIONS table names functions without
        # "lib.", and its helpers (unsupported: rnn_set_last_error) call them
        for f in os.listdir(pkg):
            if f.endswith(".py"):
                text += open(os.path.join(pkg, f), encoding="utf-8").read()
        inits = {init for _, init, _ in _lib.INIT_STRUCTS}  # called through init_struct
        unused = [n for n in _lib.FUNCTIONS
                  if n not in inits and not re.search(r"\blib\.%s\b" % n, text)]
        self.assertEqual(unused, [], "C functions without a Pythonic wrapper")

    def test_distinct_handle_types(self):
        m = librnn.Model()
        with self.assertRaises(ctypes.ArgumentError):
            _lib.lib.rnn_tensor_destroy(m.handle)
        t = librnn.Tensor.zeros((2,))
        with self.assertRaises(ctypes.ArgumentError):
            _lib.lib.rnn_model_destroy(t.handle)
        m.close()
        t.close()


class TestStructs(unittest.TestCase):
    def test_struct_size_equals_sizeof(self):
        self.assertGreaterEqual(len(_lib.INIT_STRUCTS), 11)
        for struct, init, extra in _lib.INIT_STRUCTS:
            got = _lib.struct_size_written(struct, init, extra)
            self.assertEqual(got, ctypes.sizeof(struct), struct.__name__)

    def test_mirrors_match_header_fields(self):
        text = _headers()
        if text is None:
            self.skipTest("no include/rnn headers (not a source tree)")
        ct = CTypes(text)
        structs = re.findall(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, flags=re.S)
        self.assertGreaterEqual(len(structs), 15)
        for tag, body, name in structs:
            mirror = getattr(_lib, name, None)
            self.assertIsNotNone(mirror, "no ctypes mirror of %s" % name)
            want = [ct.of_decl(d) for d in body.split(";") if d.strip()]
            got = [(n, t) for n, t in mirror._fields_]
            self.assertEqual([n for n, _ in got], [n for n, _ in want], name + " field names")
            for (n, g), (_, w) in zip(got, want):
                self.assertIs(g, w, "%s.%s: header %s, mirror %s" % (name, n, _type_name(w),
                                                                      _type_name(g)))

    def test_logs_given_to_callbacks_have_our_size(self):
        from _util import tagging_data, tiny_tagger
        m = tiny_tagger()
        x, y, lengths = tagging_data(n=16)
        # Through the raw table: read struct_size from the C structs themselves.
        seen = {}
        orig = _lib.rnn_epoch_callback

        def on_epoch(user, plog):
            seen["epoch"] = plog.contents.struct_size
            return 0

        def on_batch(user, plog):
            seen["batch"] = plog.contents.struct_size
            return 0

        fo = _lib.init_struct(_lib.rnn_fit_options)
        fo.batch_size, fo.epochs = 8, 1
        ecb, bcb = orig(on_epoch), _lib.rnn_batch_callback(on_batch)
        fo.on_epoch, fo.on_batch = ecb, bcb
        tx, ty, tl = (librnn.Tensor.wrap(a) for a in (x, y, lengths))
        data = _lib.init_struct(_lib.rnn_data)
        data.x, data.lengths, data.targets = tx.handle, tl.handle, ty.handle
        res = _lib.rnn_fit_result()
        res.struct_size = ctypes.sizeof(res)
        _lib.lib.rnn_model_fit(m.handle, ctypes.byref(data), ctypes.byref(fo), ctypes.byref(res))
        self.assertEqual(seen["epoch"], ctypes.sizeof(_lib.rnn_epoch_log))
        self.assertEqual(seen["batch"], ctypes.sizeof(_lib.rnn_batch_log))
        self.assertEqual(res.epochs_run, 1)
        m.close()


class TestVersion(unittest.TestCase):
    def test_versions_agree(self):
        self.assertEqual(librnn.__version__, librnn.version())
        major, minor, patch = (int(p) for p in librnn.version().split("."))
        self.assertEqual(librnn.version_number(), major * 10000 + minor * 100 + patch)

    def test_package_version_is_meson_project_version(self):
        path = os.path.join(ROOT, "meson.build")
        if not os.path.exists(path):
            self.skipTest("not a source tree")
        m = re.search(r"project\([^)]*?version\s*:\s*'([^']+)'", open(path).read(), flags=re.S)
        self.assertEqual(librnn.__version__, m.group(1))

    def test_package_version_is_generated_header_version(self):
        lib = os.path.realpath(_lib.loaded_from)
        header = os.path.join(os.path.dirname(os.path.dirname(lib)), "include", "rnn", "version.h")
        if not os.path.exists(header):
            self.skipTest("no generated version.h next to the library")
        m = re.search(r'#define RNN_VERSION_STRING "([^"]+)"', open(header).read())
        self.assertEqual(librnn.__version__, m.group(1))

    def test_pyproject_takes_the_version_from_the_package(self):
        path = os.path.join(ROOT, "python", "pyproject.toml")
        text = open(path).read()
        self.assertIn('dynamic = ["version"]', text)
        # the build backend (python/backend) reads librnn/_version.py
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            "librnn_backend_version", os.path.join(ROOT, "python", "backend", "librnn_backend.py"))
        backend = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(backend)
        self.assertEqual(backend.version(), librnn.__version__)

    def test_mismatched_library_is_refused(self):
        saved = _lib.__version__
        try:
            for other in ("0.99.0", "1.1.0", "0.1.99"):
                _lib.__version__ = other
                with self.assertRaises(ImportError) as cm:
                    _lib._check_version(_lib.lib)
                self.assertIn(other, str(cm.exception))
        finally:
            _lib.__version__ = saved
        _lib._check_version(_lib.lib)


class TestErrors(unittest.TestCase):
    def test_rnn_error_carries_status_and_message(self):
        with self.assertRaises(librnn.RnnError) as cm:
            librnn.Tensor.zeros((2, 0))
        e = cm.exception
        self.assertEqual(e.status, 3)
        self.assertEqual(e.status_name, "RNN_ERR_SHAPE")
        self.assertIn("rnn_tensor_create: dims[1] must be > 0 (got 0)", e.message)
        self.assertEqual(librnn.last_error(), e.message)
        self.assertIn("RNN_ERR_SHAPE", str(e))

    def test_status_strings(self):
        self.assertEqual(librnn.status_string(0), "success")
        self.assertNotEqual(librnn.status_string(3), "unknown status")
        self.assertEqual(librnn.status_string(999), "unknown status")

    def test_option_errors_name_the_option(self):
        m = librnn.Model()
        m.input(shape=(None, 3))
        with self.assertRaises(librnn.RnnError) as cm:
            m.lstm(0)
        self.assertEqual(cm.exception.status_name, "RNN_ERR_INVALID_ARG")
        self.assertIn("units", cm.exception.message)
        with self.assertRaises(TypeError):
            m.lstm(4, no_such_option=1)
        with self.assertRaises(ValueError):
            m.lstm(4, activation="swish")
        m.close()


class TestProcessWide(unittest.TestCase):
    def test_threads(self):
        librnn.set_num_threads(1)
        self.assertEqual(librnn.get_num_threads(), 1)
        librnn.set_num_threads(0)
        self.assertGreaterEqual(librnn.get_num_threads(), 1)
        with self.assertRaises(librnn.RnnError):
            librnn.set_num_threads(-1)

    def test_dtype_size(self):
        self.assertEqual(librnn.dtype_size("float32"), 4)
        self.assertEqual(librnn.dtype_size("int32"), 4)

    def test_log_callback(self):
        got = []
        librnn.set_log_callback(lambda level, msg: got.append((level, msg)), "debug")
        try:
            with self.assertRaises(librnn.RnnError):
                librnn.Tensor.zeros((0,))
        finally:
            librnn.set_log_callback(None)
        self.assertTrue(any("rnn_tensor_create" in m for _, m in got), got)
        n = len(got)
        with self.assertRaises(librnn.RnnError):
            librnn.Tensor.zeros((0,))
        self.assertEqual(len(got), n)  # removed

    def test_log_callback_exception_is_swallowed(self):
        def bad(level, msg):
            raise RuntimeError("in the log callback")
        import io
        import contextlib
        err = io.StringIO()
        librnn.set_log_callback(bad, "debug")
        try:
            with contextlib.redirect_stderr(err):
                with self.assertRaises(librnn.RnnError):
                    librnn.Tensor.zeros((0,))
        finally:
            librnn.set_log_callback(None)

    def test_workspace_limit(self):
        """set_workspace_limit round-trips and refuses a negative size."""
        self.assertEqual(librnn.get_workspace_limit(), 0)
        with self.assertRaises(ValueError):
            librnn.set_workspace_limit(-1)
        try:
            librnn.set_workspace_limit(1 << 20)
            self.assertEqual(librnn.get_workspace_limit(), 1 << 20)
        finally:
            librnn.set_workspace_limit(0)
        self.assertEqual(librnn.get_workspace_limit(), 0)

    def test_allocator(self):
        gc.collect()
        if librnn.memory_used() != 0:
            self.skipTest("librnn memory still held by earlier tests")
        libc = ctypes.CDLL(None)
        libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        libc.free.argtypes = [ctypes.c_void_p]
        calls = {"alloc": 0, "free": 0}

        def alloc(size):
            calls["alloc"] += 1
            return libc.malloc(size)

        def free(ptr):
            calls["free"] += 1
            libc.free(ptr)

        librnn.set_allocator(alloc, free)
        try:
            t = librnn.Tensor.zeros((4, 4))
            self.assertGreater(librnn.memory_used(), 0)
            with self.assertRaises(librnn.RnnError) as cm:
                librnn.set_allocator(None, None)  # memory is live
            self.assertEqual(cm.exception.status_name, "RNN_ERR_STATE")
            t.close()
            self.assertEqual(librnn.memory_used(), 0)
        finally:
            gc.collect()
            librnn.set_allocator(None, None)
        self.assertGreater(calls["alloc"], 0)
        self.assertEqual(calls["alloc"], calls["free"])

    def test_failing_allocator_gives_memory_error_status(self):
        gc.collect()
        if librnn.memory_used() != 0:
            self.skipTest("librnn memory still held by earlier tests")
        librnn.set_allocator(lambda size: 0, lambda ptr: None)
        try:
            with self.assertRaises(librnn.RnnError) as cm:
                librnn.Tensor.zeros((4,))
            self.assertEqual(cm.exception.status_name, "RNN_ERR_NOMEM")
        finally:
            librnn.set_allocator(None, None)


if __name__ == "__main__":
    unittest.main()
