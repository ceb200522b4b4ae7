# SPDX-License-Identifier: Apache-2.0
"""Version of the Python binding: always the version of the C library it mirrors
(meson.build's project version; tests/test_lib.py checks they agree)."""
__version__ = "0.1.0"
