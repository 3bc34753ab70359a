"""Time the whole book: a cold build of a fresh clone, then a rebuild with nothing changed.

The clone gets empty execution and compile caches (the Makefile keeps both under ``_build``) and
its own ``.venv``, installed by ``make install`` before the clock starts (from pip's cache, so in
about a minute), so the times are "after install", as the targets say. Writes
``results/book_build.csv``: the two build times (``make book``: both editions) and each page's
execution time.

Usage::

    python tools/benchmarks/book_build.py        # about 20 minutes on 2 cores
    python tools/benchmarks/book_build.py --keep /tmp/clone   # and keep the clone
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"


def timed_make(clone: Path, env: dict[str, str]) -> float:
    """Run ``make book`` in ``clone`` and return its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(["make", "book"], cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def page_seconds(clone: Path) -> dict[str, float]:
    """Execution time of every executed page, from the clone's execution cache."""
    cache = get_cache(clone / "_build" / ".jupyter_cache")
    return {
        Path(record.uri).stem: float(record.data.get("execution_seconds", float("nan")))
        for record in cache.list_cache_records()
    }


def main(out: Path = RESULTS, keep: Path | None = None) -> pd.DataFrame:
    """Build a fresh clone twice and write ``book_build.csv``; with ``keep``, the clone is made
    there and kept (its built site and execution cache can then be looked at or reused)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTENSOR_FLAGS", "JAX_COMPILATION_CACHE_DIR", "MAKEFLAGS", "MAKELEVEL")
    }
    with tempfile.TemporaryDirectory(prefix="book-build-") as tmp:
        clone = keep or Path(tmp) / "book"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        # Its own environment (a .venv belongs to the folder it was made in), not timed.
        subprocess.run(["make", "install"], cwd=clone, env=env, check=True, capture_output=True)
        cold = timed_make(clone, env)
        rebuild = timed_make(clone, env)
        pages = page_seconds(clone)
    rows = [
        {"what": "cold build", "seconds": cold},
        {"what": "rebuild, nothing changed", "seconds": rebuild},
    ]
    rows += [
        {"what": f"page {name}", "seconds": seconds} for name, seconds in sorted(pages.items())
    ]
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "book_build.csv", index=False, float_format="%.1f")
    return table


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="make the clone here and keep it")
    print(main(keep=parser.parse_args().keep).to_string(index=False))
