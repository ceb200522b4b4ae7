# SPDX-License-Identifier: Apache-2.0
"""Packaging: the in-tree build backend (python/backend, standard library only) makes a
correct pure-Python wheel and sdist, pyproject.toml agrees with it, and plain
`pip install ./python` (isolated build, no index) installs a working copy offline."""
import base64
import csv
import hashlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

from librnn import _lib

from _util import PYDIR

BACKEND = os.path.join(PYDIR, "backend", "librnn_backend.py")


def _have(module):
    return importlib.util.find_spec(module) is not None


def _load_backend(path=BACKEND):
    """The backend module of the tree holding path (it builds from its own tree)."""
    spec = importlib.util.spec_from_file_location("librnn_backend_under_test", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _source_version():
    with open(os.path.join(PYDIR, "librnn", "_version.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "(.+)"', f.read(), re.M).group(1)


def _lib_path():
    lib = _lib.loaded_from
    return os.path.abspath(lib) if os.sep in lib else lib


class TestBackend(unittest.TestCase):
    def test_wheel(self):
        b = _load_backend()
        ver = _source_version()
        with tempfile.TemporaryDirectory() as tmp:
            name = b.build_wheel(tmp)
            self.assertEqual(name, "librnn-%s-py3-none-any.whl" % ver)
            with zipfile.ZipFile(os.path.join(tmp, name)) as z:
                names = z.namelist()
                files = {n: z.read(n) for n in names}
        di = "librnn-%s.dist-info/" % ver
        py = _package_files() + ["librnn/py.typed"]  # PEP 561: the hints are for checkers
        self.assertIn("librnn/keras/__init__.py", py)
        self.assertEqual(sorted(names), sorted(py + [di + "METADATA", di + "WHEEL",
                                                     di + "RECORD"]))
        for n in py:
            with open(os.path.join(PYDIR, n), "rb") as f:
                self.assertEqual(files[n], f.read(), n)

        rows = list(csv.reader(io.StringIO(files[di + "RECORD"].decode())))
        self.assertEqual(sorted(r[0] for r in rows), sorted(names))
        for path, digest, size in rows:
            if path == di + "RECORD":
                self.assertEqual((digest, size), ("", ""))
                continue
            want = base64.urlsafe_b64encode(hashlib.sha256(files[path]).digest()).rstrip(b"=")
            self.assertEqual(digest, "sha256=" + want.decode(), path)
            self.assertEqual(int(size), len(files[path]), path)

        wheel = files[di + "WHEEL"].decode().splitlines()
        self.assertIn("Wheel-Version: 1.0", wheel)
        self.assertIn("Root-Is-Purelib: true", wheel)
        self.assertIn("Tag: py3-none-any", wheel)
        self.assertTrue(any(line.startswith("Generator: ") for line in wheel))

        head, _, body = files[di + "METADATA"].decode().partition("\n\n")
        meta = head.splitlines()
        for line in ("Metadata-Version: 2.1", "Name: librnn", "Version: " + ver,
                     "Requires-Python: >=3.8", "Requires-Dist: numpy", "License: Apache-2.0",
                     "Description-Content-Type: text/markdown"):
            self.assertIn(line, meta)
        self.assertTrue(any(line.startswith("Summary: ") for line in meta))
        self.assertTrue(body.startswith("# librnn for Python"))

    def test_sdist_and_metadata(self):
        b = _load_backend()
        ver = _source_version()
        self.assertEqual(b.get_requires_for_build_wheel(), [])
        self.assertEqual(b.get_requires_for_build_sdist(), [])
        self.assertEqual(b.get_requires_for_build_editable(), [])
        with tempfile.TemporaryDirectory() as tmp:
            di = b.prepare_metadata_for_build_wheel(tmp)
            self.assertEqual(sorted(os.listdir(os.path.join(tmp, di))), ["METADATA", "WHEEL"])
            name = b.build_sdist(tmp)
            self.assertEqual(name, "librnn-%s.tar.gz" % ver)
            with tarfile.open(os.path.join(tmp, name)) as t:
                members = t.getnames()
        base = "librnn-%s/" % ver
        for f in ("PKG-INFO", "pyproject.toml", "README.md", "backend/librnn_backend.py",
                  "librnn/__init__.py", "librnn/_version.py", "librnn/py.typed",
                  "librnn/keras/__init__.py", "librnn/keras/optimizers/schedules.py"):
            self.assertIn(base + f, members)
        self.assertFalse(any("/tests/" in m or "__pycache__" in m for m in members), members)

    @unittest.skipUnless(_have("tomllib"), "tomllib needs Python 3.11")
    def test_pyproject_agrees(self):
        import tomllib
        with open(os.path.join(PYDIR, "pyproject.toml"), "rb") as f:
            doc = tomllib.load(f)
        self.assertEqual(doc["build-system"], {"requires": [], "build-backend": "librnn_backend",
                                               "backend-path": ["backend"]})
        _load_backend()._check_pyproject()  # raises on disagreement
        with tempfile.TemporaryDirectory() as tmp:  # and does raise: a copy with a change
            shutil.copytree(os.path.join(PYDIR, "backend"), os.path.join(tmp, "backend"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            with open(os.path.join(PYDIR, "pyproject.toml"), encoding="utf-8") as f:
                text = f.read().replace('requires-python = ">=3.8"', 'requires-python = ">=3.9"')
            with open(os.path.join(tmp, "pyproject.toml"), "w", encoding="utf-8") as f:
                f.write(text)
            b = _load_backend(os.path.join(tmp, "backend", "librnn_backend.py"))
            with self.assertRaisesRegex(RuntimeError, "requires-python"):
                b._check_pyproject()


def _package_files():
    """librnn/**/*.py relative to python/, sorted (what the wheel must hold)."""
    out = []
    for d, dirs, files in os.walk(os.path.join(PYDIR, "librnn")):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        rel = os.path.relpath(d, PYDIR).replace(os.sep, "/")
        out += [rel + "/" + n for n in files if n.endswith(".py")]
    return sorted(out)


class TestMesonInstall(unittest.TestCase):
    def test_meson_installs_every_module(self):
        """python/meson.build lists each file of the package (meson installs only
        what it lists)."""
        with open(os.path.join(PYDIR, "meson.build"), encoding="utf-8") as f:
            listed = sorted(set(re.findall(r"'(librnn/[^']+\.py)'", f.read())))
        self.assertEqual(listed, _package_files())


class TestInstall(unittest.TestCase):
    @unittest.skipUnless(_have("pip") and _have("venv"), "pip or venv is not installed")
    def test_offline_install(self):
        """Plain `pip install --no-index ./python`: pip's default isolated build, with no
        package index, into a venv that sees the system's numpy (so Requires-Dist: numpy is
        satisfied, not downloaded)."""
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            # --without-pip: no ensurepip needed; the system's pip runs inside the venv
            r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                                "--without-pip", venv], capture_output=True, text=True,
                               timeout=120)
            if r.returncode != 0:
                self.skipTest("cannot create a venv: " + r.stderr.strip()[-200:])
            py = os.path.join(venv, "bin", "python")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
            env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                       PYTHONDONTWRITEBYTECODE="1")
            if subprocess.run([py, "-c", "import pip"], env=env, cwd=tmp,
                              capture_output=True).returncode != 0:
                self.skipTest("pip is not importable in a --system-site-packages venv")
            before = sorted(os.listdir(PYDIR))
            r = subprocess.run([py, "-m", "pip", "install", "--no-index", PYDIR],
                               capture_output=True, text=True, env=env, cwd=tmp, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(sorted(os.listdir(PYDIR)), before)  # nothing written in the tree

            env["LIBRNN_PATH"] = _lib_path()
            r = subprocess.run([py, "-c", "import librnn, librnn.keras.optimizers.schedules; "
                                "print(librnn.__file__); "
                                "print(librnn.__version__); print(librnn.version())"],
                               capture_output=True, text=True, env=env, cwd=tmp, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            where, version, c_version = r.stdout.split()
            self.assertTrue(where.startswith(venv), where)
            self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(where), "py.typed")))
            self.assertEqual(version, _source_version())
            self.assertEqual(c_version, version)
            site = os.path.dirname(os.path.dirname(where))
            self.assertFalse(os.path.exists(os.path.join(site, "tests")))
            self.assertFalse(os.path.exists(os.path.join(site, "backend")))


if __name__ == "__main__":
    unittest.main()
