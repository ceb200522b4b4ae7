# SPDX-License-Identifier: Apache-2.0
"""PEP 517 / PEP 660 build backend of the librnn binding: standard library only, so that
pip's isolated build installs nothing (pyproject.toml: requires = []) and
`pip install ./python` works offline.

It builds a pure-Python wheel (py3-none-any) of librnn/**/*.py and librnn/py.typed (PEP 561's
marker: the package is typed) with its dist-info
(METADATA, WHEEL, RECORD), an sdist, and an editable wheel (a .pth file naming this
directory). The metadata below is the source of truth; the version is read from
librnn/_version.py (not imported). pyproject.toml's [project] table repeats the
metadata for other tools: when tomllib is available (Python 3.11), building checks
that the two agree and fails otherwise.

Archives are reproducible: entries sorted, timestamps from SOURCE_DATE_EPOCH (else
1980-01-01), fixed permissions.
"""
import base64
import csv
import gzip
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
PACKAGE = "librnn"
SUMMARY = "Python binding (ctypes) of librnn, recurrent neural networks on oneDNN"
LICENSE = "Apache-2.0"
REQUIRES_PYTHON = ">=3.8"
DEPENDENCIES = ["numpy"]
CLASSIFIERS = [
    "License :: OSI Approved :: Apache Software License",
    "Operating System :: POSIX :: Linux",
    "Programming Language :: Python :: 3",
    "Typing :: Typed",
]
README = "README.md"
TAG = "py3-none-any"
# Files of the sdist besides the package's and the backend (tests need the C library).
SDIST_FILES = ["pyproject.toml", README]
# Files of the package besides its *.py.
PACKAGE_DATA = ["py.typed"]


def version():
    """__version__ of librnn/_version.py, read as text."""
    with open(os.path.join(ROOT, PACKAGE, "_version.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', f.read(), re.M)
    if not m:
        raise RuntimeError("no __version__ in librnn/_version.py")
    return m.group(1)


def _check_pyproject():
    """Fails when pyproject.toml's [project] disagrees with the metadata here."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11: the test suite checks it
        return
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f).get("project")
    if project is None:
        return
    want = {"name": PACKAGE, "dynamic": ["version"], "description": SUMMARY, "readme": README,
            "license": {"text": LICENSE}, "requires-python": REQUIRES_PYTHON,
            "dependencies": DEPENDENCIES, "classifiers": CLASSIFIERS}
    bad = sorted(k for k in set(want) | set(project) if project.get(k) != want.get(k))
    if bad:
        raise RuntimeError("pyproject.toml [project] disagrees with backend/librnn_backend.py "
                           "on: " + ", ".join(bad))


def metadata():
    """Core metadata 2.1 (METADATA in the wheel, PKG-INFO in the sdist)."""
    _check_pyproject()
    lines = ["Metadata-Version: 2.1", "Name: " + PACKAGE, "Version: " + version(),
             "Summary: " + SUMMARY, "License: " + LICENSE]
    lines += ["Classifier: " + c for c in CLASSIFIERS]
    lines += ["Requires-Python: " + REQUIRES_PYTHON]
    lines += ["Requires-Dist: " + d for d in DEPENDENCIES]
    lines += ["Description-Content-Type: text/markdown"]
    with open(os.path.join(ROOT, README), encoding="utf-8") as f:
        readme = f.read()
    return "\n".join(lines) + "\n\n" + readme


def _wheel_file():
    return ("Wheel-Version: 1.0\nGenerator: librnn_backend " + version() +
            "\nRoot-Is-Purelib: true\nTag: " + TAG + "\n")


def _dist_info():
    return "%s-%s.dist-info" % (PACKAGE, version())


def _sources():
    """(archive name, path) of librnn/**/*.py (the package and its subpackages) and the
    package's PACKAGE_DATA, sorted."""
    pkg = os.path.join(ROOT, PACKAGE)
    out = []
    for d, dirs, files in os.walk(pkg):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        rel = os.path.relpath(d, ROOT).replace(os.sep, "/")
        out += [(rel + "/" + n, os.path.join(d, n)) for n in files
                if n.endswith(".py") or (d == pkg and n in PACKAGE_DATA)]
    return sorted(out)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _epoch():
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800)


def _write_wheel(wheel_directory, files):
    """Writes the wheel of files [(name, bytes)] plus dist-info; returns its file name."""
    di = _dist_info()
    files = list(files) + [(di + "/METADATA", metadata().encode("utf-8")),
                           (di + "/WHEEL", _wheel_file().encode("utf-8"))]
    record = io.StringIO()
    w = csv.writer(record, lineterminator="\n")
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        w.writerow([name, "sha256=" + digest.decode("ascii"), len(data)])
    w.writerow([di + "/RECORD", "", ""])
    files.append((di + "/RECORD", record.getvalue().encode("utf-8")))

    filename = "%s-%s-%s.whl" % (PACKAGE, version(), TAG)
    stamp = time.gmtime(_epoch())[:6]
    path = os.path.join(wheel_directory, filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return filename


def _write_metadata(metadata_directory):
    di = os.path.join(metadata_directory, _dist_info())
    os.makedirs(di, exist_ok=True)
    for name, text in (("METADATA", metadata()), ("WHEEL", _wheel_file())):
        with open(os.path.join(di, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return _dist_info()


# ------------------------------------------------------------------ PEP 517
def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_metadata(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(n, _read(p)) for n, p in _sources()])


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (PACKAGE, version())
    here = os.path.abspath(__file__)
    files = [(n, os.path.join(ROOT, n)) for n in SDIST_FILES] + _sources()
    files.append(("backend/" + os.path.basename(here), here))
    files.append(("PKG-INFO", None))
    filename = base + ".tar.gz"
    epoch = _epoch()
    with open(os.path.join(sdist_directory, filename), "wb") as f, \
            gzip.GzipFile(filename=base + ".tar", mode="wb", fileobj=f, mtime=epoch) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, path in sorted(files):
            data = metadata().encode("utf-8") if path is None else _read(path)
            info = tarfile.TarInfo(base + "/" + name)
            info.size, info.mtime, info.mode = len(data), epoch, 0o644
            t.addfile(info, io.BytesIO(data))
    return filename


# ------------------------------------------------------------------ PEP 660
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _write_metadata(metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel whose only content is a .pth file putting this source tree on sys.path."""
    return _write_wheel(wheel_directory, [("_librnn_editable.pth", (ROOT + "\n").encode())])
