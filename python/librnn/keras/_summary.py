# SPDX-License-Identifier: Apache-2.0
"""model.summary(): Keras 3's table, character for character.

Keras 3 renders its summary with the `rich` library; this module lays the table
out the same way (column widths from ``line_length`` and ``positions``, rich's
shrinking of fixed-width columns, its word wrapping and folding, the heavy-head
box), in plain text.
"""
from __future__ import annotations

import re
import shutil
from typing import Any, Sequence

__all__ = ["render_table", "summary_text", "readable_memory_size"]


def readable_memory_size(size: float) -> str:
    """A byte count as Keras' summary writes it ("1.23 KB").

    Args:
        size: The number of bytes.

    Returns:
        The size with two decimals in B, KB, MB, GB, TB or PB (powers of 1024).
    """
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return "%.2f %s" % (size, unit)
        size /= 1024
    return "%.2f %s" % (size, units[-1])


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int],
                  values: list[int]) -> list[int]:
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining = total
    out = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            d = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - d)
            remaining -= d
            total_ratio -= ratio
        else:
            out.append(value)
    return out


_WORD = re.compile(r"\s*\S+\s*")


def _wrap(text: str, width: int) -> list[str]:
    """Lines of ``text`` wrapped at spaces to ``width`` columns, as rich wraps a
    table cell (overflow "ellipsis": a word longer than a line gets a line of its
    own, cut with "…")."""
    lines = []
    breaks: list[int]
    for para in text.split("\n"):
        breaks, offset = [], 0
        m = _WORD.match(para, 0)
        while m is not None:
            start, word = m.start(), m.group(0)
            wlen = len(word.rstrip())
            if width - offset >= wlen:
                offset += len(word)
            elif wlen > width:
                if start:
                    breaks.append(start)
                offset = len(word)
            elif offset and start:
                breaks.append(start)
                offset = len(word)
            m = _WORD.match(para, m.end())
        cuts = [0] + breaks + [len(para)]
        for a, b in zip(cuts, cuts[1:]):
            line = para[a:b]
            if len(line) > width:  # trailing spaces beyond the width go first
                stripped = line.rstrip()
                line = line[:len(line) - min(len(line) - width, len(line) - len(stripped))]
            lines.append(line)
    return lines


def _truncate(line: str, width: int) -> str:
    return line if len(line) <= width else line[:max(0, width - 1)] + "…"


def _justify(line: str, width: int, how: str) -> str:
    if how == "right":
        line = _truncate(line.rstrip(), width)
        return " " * (width - len(line)) + line
    if how == "center":
        line = _truncate(line.rstrip(), width)
        left = (width - len(line)) // 2
        return " " * left + line + " " * (width - len(line) - left)
    line = _truncate(line, width)
    return line + " " * (width - len(line))


def render_table(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[int],
                 justify: Sequence[str], line_length: int) -> list[str]:
    """The table's lines: fixed column widths (content, without padding) shrunk as
    rich shrinks them to fit ``line_length``.

    Args:
        header: The column titles.
        rows: The cells of each row (converted with str, wrapped at spaces).
        widths: Each column's content width.
        justify: Each column's "left", "right" or "center".
        line_length: The table's total width, borders included.

    Returns:
        The lines, drawn with rich's heavy-head box characters.
    """
    n = len(header)
    cells = [w + 2 for w in widths]
    room = line_length - (n + 1)
    if sum(cells) > room:
        cells = _ratio_reduce(sum(cells) - room, [1] * n, cells, cells)
    inner = [max(0, c - 2) for c in cells]

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * c for c in cells) + right

    def row_lines(values: Sequence[Any], edge: str) -> list[str]:
        wrapped = [_wrap(str(v), inner[i]) or [""] for i, v in enumerate(values)]
        height = max(len(w) for w in wrapped)
        out = []
        for k in range(height):
            parts = []
            for i, w in enumerate(wrapped):
                text = w[k] if k < len(w) else ""
                parts.append(" " + _justify(text, inner[i], justify[i]) + " ")
            out.append(edge + edge.join(parts) + edge)
        return out

    lines = [rule("┏", "━", "┳", "┓")]
    lines += row_lines(header, "┃")
    lines.append(rule("┡", "━", "╇", "┩"))
    for k, r in enumerate(rows):
        if k:
            lines.append(rule("├", "─", "┼", "┤"))
        lines += row_lines(r, "│")
    lines.append(rule("└", "─", "┴", "┘"))
    return lines


def _shape_str(node: Any) -> str:
    shapes = ["(%s)" % ", ".join("None" if d is None else str(d) for d in t.shape)
              for t in node.outputs]
    if len(shapes) == 1:
        return shapes[0]
    return "[%s]" % ", ".join(shapes)


def summary_text(model: Any, line_length: int | None = None,
                 positions: Sequence[float] | None = None, show_trainable: bool = False) -> str:
    """Keras 3's ``model.summary()`` text for a librnn.keras model.

    Args:
        model: The model.
        line_length: The table's width (default: 88 for a sequential model,
            108 for a functional one, at most the terminal's width - 4).
        positions: The right edge of each column as fractions of line_length.
        show_trainable: Whether to add a "Trainable" column.

    Returns:
        The title, the table and the parameter counts, ending with a newline.

    Raises:
        ValueError: A column narrower than 4 characters.
    """
    layers = model._summary_layers()
    nodes = model._nodes_in_model()
    sequential_like = model._sequential_like()
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        justify = ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justify = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        justify.append("center")
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_length
    widths, current = [], 0
    for pos in positions:
        w = int(pos * line_length) - current
        if w < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(w)
        current += w

    rows = []
    for layer in layers:
        name = "%s (%s)" % (layer.name, layer.class_name)
        built = layer._inbound_nodes and layer._weight_shapes is not None
        if layer._inbound_nodes:
            shape = _shape_str(layer._inbound_nodes[-1])
        else:
            shape = "?"
        params = "{:,}".format(layer.count_params()) if built else "0 (unbuilt)"
        row = [name, shape, params]
        if not sequential_like:
            conns = []
            for node in layer._inbound_nodes:
                if node not in nodes:
                    continue
                for t in node.input_tensors:
                    op, ni, ti = t._keras_history
                    conns.append("%s[%d][%d]" % (op.name, ni, ti))
            row.append(", ".join(conns) if conns else "-")
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer._weight_shapes else "-")
        rows.append(row)

    out = ['Model: "%s"' % model.name]
    out += render_table(header, rows, widths, justify, line_length)
    trainable, non_trainable = model._param_counts()
    opt = model._optimizer_param_count(trainable)
    total = trainable + non_trainable + (opt[0] if opt else 0)
    total_bytes = 4 * (trainable + non_trainable) + (opt[1] if opt else 0)
    out.append(" Total params: {:,} ({})".format(total, readable_memory_size(total_bytes)))
    out.append(" Trainable params: {:,} ({})".format(trainable,
                                                     readable_memory_size(4 * trainable)))
    out.append(" Non-trainable params: {:,} ({})".format(
        non_trainable, readable_memory_size(4 * non_trainable)))
    if opt:
        out.append(" Optimizer params: {:,} ({})".format(opt[0], readable_memory_size(opt[1])))
    return "\n".join(out) + "\n"
