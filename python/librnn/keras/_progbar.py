# SPDX-License-Identifier: Apache-2.0
"""Keras 3's progress bar (``keras.utils.Progbar``), drawn on sys.stdout.

verbose=1: ``32/32 ━━━━━━━━━━━━━━━━━━━━ 2s 50ms/step - accuracy: 0.9012 - loss: 0.3141``,
rewritten in place while the epoch runs ("\\r") on a terminal or in Jupyter, and
written once when the epoch ends elsewhere (a log file gets one line per epoch,
not one per update); verbose=2: ``32/32 - 2s - 50ms/step - accuracy: ... - loss: ...``
once per epoch. On a terminal and in Jupyter the count is bold and the bar green,
as Keras draws them; elsewhere the text is plain.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Sequence

__all__ = ["Progbar", "dynamic_display"]


def dynamic_display() -> bool:
    """Whether sys.stdout can redraw a line: a terminal, or a Jupyter kernel.

    Returns:
        True when sys.stdout is a terminal or ipykernel is loaded.
    """
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # a closed stream
        return False
    return "ipykernel" in sys.modules


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _fmt_value(v: Any, verbose: int) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return " %s" % (v,)
    # Keras' verbose=1 tests the magnitude, verbose=2 the signed value
    big = abs(v) > 1e-3 if verbose == 1 else v > 1e-3
    return " %.4f" % v if big else " %.4e" % v


def _fmt_time_per_unit(t: float, unit: str) -> str:
    if t >= 1 or t == 0:
        return " %.0fs/%s" % (t, unit)
    if t >= 1e-3:
        return " %.0fms/%s" % (t * 1e3, unit)
    return " %.0fus/%s" % (t * 1e6, unit)


class Progbar:
    """A progress bar over ``target`` steps (None: unknown), as Keras':
    ``update(current, values=[(name, value)], finalize=None)``, ``add(n, values)``.
    Values are shown as given (librnn reports running means already; Keras
    averages the values it is given unless they are ``stateful_metrics``).

    Args:
        target: The number of steps, or None when unknown.
        width: The bar's width in characters.
        verbose: 1 (a bar redrawn in place), 2 (one line when finished) or 0
            (silent).
        interval: The least time in seconds between redraws.
        stateful_metrics: Accepted for Keras' signature; every value is shown
            as given.
        unit_name: The unit of the per-step time ("step", "sample", ...).
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Sequence[str] | None = None,
                 unit_name: str = "step") -> None:
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self._dynamic = dynamic_display()
        self._values: dict[str, Any] = {}
        self._start = time.time()
        self._last_update = 0.0
        self._after_first: float | None = None
        self._prev_width = 0
        self._seen = 0

    def _step_time(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._after_first is not None and current > 1:
            t = (now - self._after_first) / (current - 1)
        else:
            t = (now - self._start) / current
        if current == 1:
            self._after_first = now
        return t

    def update(self, current: int, values: Sequence[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Updates the bar (Keras' ``Progbar.update``).

        Args:
            current: The index of the current step (steps done).
            values: ``[(name, value)]`` to show; each name keeps its latest value.
            finalize: Whether this is the last update (default: ``current``
                reached ``target``); verbose=2 prints its line then.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            self._values[k] = v
        self._seen = current
        now = time.time()
        per_step = self._step_time(current, now)
        if self.verbose == 1:
            if not finalize and (not self._dynamic or now - self._last_update < self.interval):
                return
            self._draw(current, per_step, now, finalize)
        elif self.verbose == 2 and finalize:
            t = self.target if self.target else current
            digits = int(math.log10(t)) + 1 if t > 0 else 1
            line = "%*d/%d - %.0fs -%s" % (digits, current, t, now - self._start,
                                           _fmt_time_per_unit(per_step, self.unit_name))
            for k, v in self._values.items():
                line += " - %s:%s" % (k, _fmt_value(v, 2))
            _write(line + "\n")
        self._last_update = now

    def _draw(self, current: int, per_step: float, now: float, finalize: bool) -> None:
        style = self._dynamic
        bold = (lambda s: "\x1b[1m%s\x1b[0m" % s) if style else (lambda s: s)
        msg = ("\b" * self._prev_width + "\r") if self._dynamic else ""
        if self.target:
            digits = int(math.log10(self.target)) + 1
            count = "%*d/%d" % (digits, current, self.target)
            done = int(self.width * float(current) / self.target)
            done = max(0, min(self.width, done))
            if style:
                bar = bold(count) + " "
                if done:
                    bar += "\x1b[32m%s\x1b[0m" % ("━" * done)
                bar += "\x1b[37m%s\x1b[0m" % ("━" * (self.width - done))
            else:
                bar = count + " " + "━" * self.width if finalize else \
                    count + " " + "━" * done + " " * (self.width - done)
            plain = len(count) + 1 + self.width
        else:
            bar = "%7d/Unknown" % current
            plain = len(bar)
        if self.target and not finalize:
            eta = per_step * (self.target - current)
            if eta > 3600:
                eta_s = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_s = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_s = "%ds" % eta
        else:
            eta_s = "%.0fs" % (now - self._start)
        info = " " + bold(eta_s) + _fmt_time_per_unit(per_step, self.unit_name)
        plain_info = 1 + len(eta_s) + len(_fmt_time_per_unit(per_step, self.unit_name))
        for k, v in self._values.items():
            part = " - %s:%s" % (k, _fmt_value(v, 1))
            info += part
            plain_info += len(part)
        width = plain + plain_info
        msg += bar + info
        if self._dynamic and self._prev_width > width:
            msg += " " * (self._prev_width - width)
        if finalize:
            msg += "\n"
        _write(msg)
        self._prev_width = width

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Advances the bar by ``n`` steps.

        Args:
            n: The steps done since the last update.
            values: ``[(name, value)]`` to show.
        """
        self.update(self._seen + n, values)
