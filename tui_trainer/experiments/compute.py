"""What does the computing: the CPU, NumPy and its BLAS library, and how many threads BLAS uses.

Everything here trains with NumPy on the CPU; on a machine with a GPU, nothing uses it. The help
screen and ``nn-tui info`` say so, with the facts below. Nothing is looked up at import time:
``describe_compute`` gathers the facts on its first call (a few milliseconds) and caches them.
Textual-free, so the CLI and the app share it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
from dataclasses import dataclass

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
"""Environment variables that set a BLAS library's thread count, in the order OpenBLAS reads them."""

_THREAD_FUNCTIONS = (  # how to ask a loaded BLAS library for its thread count: (file name part, symbols)
    ("openblas", tuple(f"{prefix}openblas_get_num_threads{suffix}"
                       for prefix in ("", "scipy_") for suffix in ("", "64_"))),
    ("mkl", ("MKL_Get_Max_Threads", "mkl_get_max_threads")),
    ("blis", ("bli_thread_get_num_threads",)),
)


@dataclass(frozen=True)
class ComputeFacts:
    cpu: str
    """The CPU's model name, or the machine type where the system does not say."""
    cores: int | None
    """CPUs this process may run on."""
    numpy: str
    blas: str
    """The BLAS library NumPy was built with, e.g. ``scipy-openblas 0.3.31``."""
    blas_threads: int | None
    blas_threads_source: str
    """``library`` (asked the loaded library), an environment variable's name, or ``""``."""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _usable_cores() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def _numpy_blas() -> tuple[str, str]:
    """NumPy's version and the name (and version) of the BLAS it was built with."""
    import numpy as np

    blas = "unknown BLAS"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name, version = info.get("name", ""), info.get("version", "")
        if name and info.get("found", True):
            blas = f"{name} {version}".strip()
    except Exception:  # an older NumPy, or a build that does not say
        pass
    return np.__version__, blas


def _loaded_libraries() -> list[str]:
    """Paths of the shared libraries this process has loaded (Linux), BLAS-looking ones only."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = {line.split(None, 5)[-1].strip() for line in f if ".so" in line}
    except OSError:
        return []
    names = tuple(part for part, _ in _THREAD_FUNCTIONS)
    return sorted(p for p in paths if any(n in os.path.basename(p).lower() for n in names))


def _threads_from_library() -> int | None:
    """Ask the BLAS library NumPy loaded how many threads it uses (None where that cannot be done)."""
    for path in _loaded_libraries():
        name = os.path.basename(path).lower()
        for part, symbols in _THREAD_FUNCTIONS:
            if part not in name:
                continue
            try:
                lib = ctypes.CDLL(path)  # already loaded: this only looks it up
            except OSError:
                continue
            for symbol in symbols:
                fn = getattr(lib, symbol, None)
                if fn is not None:
                    fn.restype, fn.argtypes = ctypes.c_int, []
                    threads = fn()
                    if threads > 0:
                        return threads
    return None


def _threads_from_environment() -> tuple[int | None, str]:
    for variable in THREAD_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value), variable
    return None, ""


@functools.cache
def compute_facts() -> ComputeFacts:
    """The facts, gathered on the first call (imports NumPy) and cached."""
    numpy_version, blas = _numpy_blas()  # NumPy first: its BLAS library must be loaded to be asked
    threads, source = _threads_from_library(), "library"
    if threads is None:
        threads, source = _threads_from_environment()
    return ComputeFacts(cpu=_cpu_model(), cores=_usable_cores(), numpy=numpy_version, blas=blas,
                        blas_threads=threads, blas_threads_source=source)


@functools.cache
def describe_compute() -> str:
    """One line: what computes, e.g. ``CPU only (NumPy; no GPU is used): Intel Xeon, 2 cores ·
    NumPy 2.4.6 · BLAS scipy-openblas 0.3.31, 2 threads``."""
    facts = compute_facts()
    cpu = facts.cpu if facts.cores is None else f"{facts.cpu}, {facts.cores} core{'s' * (facts.cores != 1)}"
    if facts.blas_threads is None:
        threads = f"up to {facts.cores} threads" if facts.cores else "threads unknown"
    else:
        threads = f"{facts.blas_threads} thread{'s' * (facts.blas_threads != 1)}"
        if facts.blas_threads_source not in ("library", ""):
            threads += f" ({facts.blas_threads_source})"
    return f"CPU only (NumPy; no GPU is used): {cpu} · NumPy {facts.numpy} · BLAS {facts.blas}, {threads}"
