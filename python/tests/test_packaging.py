# SPDX-License-Identifier: Apache-2.0
"""The package builds and installs offline with pip --no-build-isolation (Debian's
python3-setuptools and python3-wheel, no index), and the installed copy works."""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from librnn import _lib

from _util import PYDIR


def _have(module):
    return importlib.util.find_spec(module) is not None


class TestPackaging(unittest.TestCase):
    @unittest.skipUnless(_have("pip") and _have("setuptools") and _have("wheel"),
                         "pip, setuptools or wheel is not installed")
    def test_offline_install(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            os.mkdir(src)  # a copy: building writes build/ and *.egg-info next to the sources
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(os.path.join(PYDIR, name), src)
            shutil.copytree(os.path.join(PYDIR, "librnn"), os.path.join(src, "librnn"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            target = os.path.join(tmp, "site")
            env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
            r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                                "--no-deps", "--no-index", "--target", target, src],
                               capture_output=True, text=True, env=env, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            installed = sorted(os.listdir(os.path.join(target, "librnn")))
            for f in ("__init__.py", "_lib.py", "model.py", "tensor.py", "_version.py"):
                self.assertIn(f, installed)
            self.assertFalse(os.path.exists(os.path.join(target, "tests")))
            lib = _lib.loaded_from
            lib = os.path.abspath(lib) if os.sep in lib else lib
            env = dict(os.environ, PYTHONPATH=target, LIBRNN_PATH=lib)
            r = subprocess.run([sys.executable, "-c",
                                "import librnn; print(librnn.__file__); print(librnn.__version__)"],
                               capture_output=True, text=True, env=env, cwd=tmp, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            where, version = r.stdout.split()
            self.assertTrue(where.startswith(target), where)
            self.assertEqual(version, librnn_version())


def librnn_version():
    import librnn
    return librnn.version()


if __name__ == "__main__":
    unittest.main()
