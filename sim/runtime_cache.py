"""Verilator's run-time library, compiled once per machine and reused by every build.

Each Verilator build compiles the same four files of Verilator's run-time library
(``verilated.cpp``, ``verilated_dpi.cpp``, ``verilated_vpi.cpp``,
``verilated_threads.cpp``) with ``-Os``: 22 s of the 44 s of processor time that a
ten-class learner's model takes to build (2-core AMD EPYC, 2026-11-30), the same
bytes for every design. The first build leaves its objects here, keyed by what
they were compiled from (Verilator's installation and version, the compiler, the
make flags, tracing on or off); later builds link them through make's
``LOADLIBES`` instead of compiling their own (``VM_GLOBAL_FAST`` and
``VM_GLOBAL_SLOW``, the run-time file lists, set empty on make's command line).
Entries are written to a temporary folder and renamed into place, so parallel
builds never see half an entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["runtime_key", "cached_runtime", "store_runtime", "link_cached", "forget_runtime"]

_OBJECT_LIST = re.compile(r"^VM_GLOBAL_(?:FAST|SLOW) \+= \\\n((?:[ \t]+\S+ \\\n)*)", re.MULTILINE)


def _cache_root() -> Path:
    from hardodt.synthesis import cache_dir

    return cache_dir() / "verilator-runtime"


@functools.cache
def _compiler_version(compiler: str) -> str:
    try:
        run = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return run.stdout


def runtime_key(makeflags: str, waves: bool) -> str:
    """What the run-time objects depend on, hashed: Verilator, compiler, flags, tracing."""
    root = Path(os.environ.get("VERILATOR_ROOT", ""))
    version = ""
    for name in ("verilated_config.h", "verilated.mk"):
        if (root / "include" / name).is_file():
            version += (root / "include" / name).read_text(errors="replace")
    compiler = os.environ.get("CXX", "c++")
    text = json.dumps([str(root), version, compiler, _compiler_version(compiler),
                       makeflags, waves])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_runtime(key: str) -> list[Path] | None:
    """The cached objects for ``key``, or None when there are none yet."""
    entry = _cache_root() / key
    objects = sorted(entry.glob("*.o"))
    return objects if objects and (entry / "complete").is_file() else None


def store_runtime(build_dir: Path, key: str) -> None:
    """Keep the run-time objects a finished build compiled (no-op if already kept)."""
    entry = _cache_root() / key
    if (entry / "complete").is_file():
        return
    names = []
    for classes in Path(build_dir).glob("*_classes.mk"):
        for block in _OBJECT_LIST.findall(classes.read_text()):
            names += [line.strip(" \t\\") for line in block.splitlines()]
    objects = [Path(build_dir) / f"{n}.o" for n in names if n]
    if not objects or not all(o.is_file() for o in objects):
        return  # an unexpected layout: build as before next time
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{key}-"))
    for obj in objects:
        shutil.copy2(obj, staging / obj.name)
    (staging / "complete").write_text("\n".join(o.name for o in objects) + "\n")
    try:
        staging.rename(entry)
    except OSError:  # another build stored it first
        shutil.rmtree(staging, ignore_errors=True)


def link_cached(makeflags: str, objects: list[Path]) -> tuple[str, str]:
    """``MAKEFLAGS`` and ``LOADLIBES`` that link ``objects`` instead of compiling them."""
    return (f"{makeflags} VM_GLOBAL_FAST= VM_GLOBAL_SLOW=".strip(),
            " ".join(shlex.quote(str(o)) for o in objects))


def forget_runtime(key: str) -> None:
    """Drop an entry that failed to link, so the next build compiles it afresh."""
    shutil.rmtree(_cache_root() / key, ignore_errors=True)
