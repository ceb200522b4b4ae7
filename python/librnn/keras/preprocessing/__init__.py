# SPDX-License-Identifier: Apache-2.0
"""``keras.preprocessing``: ``sequence.pad_sequences``."""
from . import sequence

__all__ = ["sequence"]
