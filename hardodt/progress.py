"""A one-line progress report on stderr for long runs (silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Call with ``(done, total)``; redraws at most ten times a second."""

    def __init__(self, label: str, *, enabled: bool | None = None, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.finished = False

    def restart(self) -> None:
        """Measure the rate from now (after a set-up phase such as a build)."""
        self.t0 = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or self.finished:
            return
        now = time.perf_counter()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        pct = 100.0 * done / total if total else 100.0
        end = "\n" if done >= total else ""
        self.finished = done >= total
        self.stream.write(f"\r{self.label}: {done}/{total} ({pct:5.1f}%) {rate:,.0f}/s{end}")
        self.stream.flush()
