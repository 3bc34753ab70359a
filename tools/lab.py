"""Fill the learner's working folder for ``make lab`` from the built notebooks.

``make lab`` opens JupyterLab on ``notebooks/`` (git ignores it): the chapters as the website's
download offers them, numbers in the text, no build checks, solutions folded (``EDITION=full``)
or left out (``EDITION=learners``). A notebook the learner has edited is never replaced without
asking: the folder remembers what it was given (``.lab-manifest.json``), so an untouched copy is
brought up to date quietly and an edited one is kept unless the learner says yes.

Usage::

    python tools/lab.py _build/html/_notebooks notebooks            # the full edition
    python tools/lab.py _build/html/_notebooks/learners notebooks   # the learners' edition

Example
-------
>>> import tempfile
>>> built, work = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp()) / "notebooks"
>>> _ = (built / "log_odds.ipynb").write_text("{}")
>>> fill(built, work, ask=lambda name: False)
{'log_odds.ipynb': 'new'}
>>> _ = (work / "log_odds.ipynb").write_text('{"edited": 1}')
>>> _ = (built / "log_odds.ipynb").write_text('{"rebuilt": 1}')
>>> fill(built, work, ask=lambda name: False)
{'log_odds.ipynb': 'kept (edited)'}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

MANIFEST = ".lab-manifest.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ask_on_terminal(name: str) -> bool:
    """Ask whether to replace an edited notebook; no terminal (or no answer) means no."""
    if not sys.stdin.isatty():
        return False
    answer = input(f"{name} has your edits and the book has a newer version. Replace it? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def fill(built: Path, work: Path, ask: Callable[[str], bool] = ask_on_terminal) -> dict[str, str]:
    """Copy every built notebook into ``work`` without losing a learner's edits.

    A notebook missing from ``work`` is copied; one still as it was given is replaced by a newer
    build; one the learner changed is kept, and replaced by a newer build only if ``ask(name)``
    says yes. Returns what happened to each notebook.
    """
    if not built.is_dir() or not any(built.glob("*.ipynb")):
        raise ValueError(f"no built notebooks in {built}: run `make book` first")
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / MANIFEST
    given = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    done = {}
    for source in sorted(built.glob("*.ipynb")):
        target, new, before = work / source.name, _digest(source), given.get(source.name)
        if not target.exists():
            status = "new"
        elif _digest(target) == new:
            status = "up to date"
        elif new == before:  # the learner's edits, and nothing new from the book
            status = "yours"
        elif _digest(target) == before or ask(source.name):
            status = "updated"
        else:
            status = "kept (edited)"
        if status in ("new", "updated"):
            shutil.copyfile(source, target)
            given[source.name] = new
        done[source.name] = status
    manifest_path.write_text(json.dumps(given, indent=1, sort_keys=True) + "\n")
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("built", type=Path, help="folder of built notebooks")
    parser.add_argument("work", type=Path, help="the learner's working folder")
    args = parser.parse_args()
    try:
        done = fill(args.built, args.work)
    except ValueError as error:
        sys.exit(f"error: {error}")
    kept = [name for name, status in done.items() if status == "kept (edited)"]
    changed = sum(status in ("new", "updated") for status in done.values())
    print(f"{args.work}/: {len(done)} notebooks ({changed} new or updated from {args.built})")
    if kept:
        print(
            "Kept your edited " + ", ".join(kept) + ". To get the book's newer version, rename "
            "or delete yours and run `make lab` again."
        )


if __name__ == "__main__":
    main()
