"""Workshop schedules computed from each chapter's teaching and exercise minutes.

Every chapter states its minutes in its front matter (``myst: substitutions: teaching,
exercises``); the workshop page builds its half-day and full-day schedules from them, so the
schedule changes when a chapter's timing does. Learners also run every cell: each chapter's
execution time, from the committed build record (``tools/benchmarks/results/book_build.csv``,
written by ``tools/benchmarks/book_build.py`` on 2 cores), is added to its block
(:func:`run_minutes`).

Example
-------
>>> chapters = pd.DataFrame({"chapter": ["A", "B", "C"], "teaching": [30, 40, 50],
...                          "exercises": [20, 20, 25]})
>>> plan = schedule(chapters, start="09:00", end="12:00", max_block=100)
>>> plan["item"].tolist()
['A', 'Break', 'B']
>>> plan.iloc[-1][["start", "end"]].tolist()
['10:05', '11:05']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml

#: The top of the repository (``_toc.yml`` lives there).
ROOT: Path = Path(__file__).resolve().parent.parent

#: The committed record of each page's execution seconds (rows ``page <name>``).
RECORD: Path = ROOT / "tools" / "benchmarks" / "results" / "book_build.csv"

#: The half day's path to multilevel models (the workshop page explains the choice): these
#: chapters, in the book's order, with the exercises of the homework ones done at home.
HALF_DAY_PATH: tuple[str, ...] = ("log_odds", "logistic_regression", "partial_pooling")
HALF_DAY_HOMEWORK: tuple[str, ...] = ("log_odds",)


def front_matter(path: str | Path) -> dict:
    """Return the YAML front matter of a MyST markdown file (``{}`` if it has none)."""
    text = Path(path).read_text()
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text.split("---\n", 2)[1]) or {}


def chapter_minutes(toc: str | Path = ROOT / "_toc.yml") -> pd.DataFrame:
    """One row per chapter in table-of-contents order: part, file, title, teaching, exercises.

    Raises ``ValueError`` naming the chapter when its front matter lacks the minutes.

    Example
    -------
    >>> minutes = chapter_minutes()
    >>> list(minutes.columns)
    ['part', 'file', 'chapter', 'teaching', 'exercises']
    >>> bool((minutes["teaching"] > 0).all())
    True
    """
    toc_path = Path(toc)
    contents = yaml.safe_load(toc_path.read_text())
    rows = []
    for part in contents.get("parts", []):
        for entry in part.get("chapters", []):
            path = toc_path.parent / f"{entry['file']}.md"
            meta = front_matter(path)
            minutes = meta.get("myst", {}).get("substitutions", {})
            if part["caption"] == "Appendix":
                continue
            missing = [
                key
                for key in ("teaching", "exercises")
                if not isinstance(minutes.get(key), int) or minutes[key] < 0
            ]
            if missing:
                raise ValueError(
                    f"chapter {entry['file']!r} has no whole-number {' and '.join(missing)} "
                    "minutes in its front matter (myst: substitutions:)"
                )
            rows.append(
                {
                    "part": part["caption"],
                    "file": entry["file"],
                    "chapter": meta.get("title", entry["file"]),
                    "teaching": minutes["teaching"],
                    "exercises": minutes["exercises"],
                }
            )
    return pd.DataFrame(rows, columns=["part", "file", "chapter", "teaching", "exercises"])


def run_minutes(files: Iterable[str], record: str | Path = RECORD) -> pd.Series:
    """Minutes a learner waits for each chapter's cells to run, rounded up to whole minutes.

    Read from the build record (``record``, a CSV with columns ``what`` and ``seconds``): the
    row ``page <name>`` holds the execution seconds of chapter ``book/<name>`` in a cold build
    on 2 cores, every cell run once, as a learner runs them. Returns a Series of whole minutes
    indexed by ``files`` (as given, e.g. ``"book/log_odds"``).

    Raises ``ValueError`` naming every chapter the record lacks (or records without a number of
    seconds): re-record with ``python tools/benchmarks/book_build.py``.

    Example
    -------
    >>> import io
    >>> record = io.StringIO("what,seconds\\ncold build,300\\npage a,5.4\\npage b,135.0\\n")
    >>> run_minutes(["book/a", "book/b"], record).tolist()
    [1, 3]
    """
    files = list(files)
    table = pd.read_csv(record)
    if not {"what", "seconds"} <= set(table.columns):
        raise ValueError(f"the build record {record} needs the columns 'what' and 'seconds'")
    pages = table[table["what"].astype(str).str.startswith("page ")]
    seconds = dict(
        zip(
            pages["what"].str.removeprefix("page ").str.strip(),
            pd.to_numeric(pages["seconds"], errors="coerce"),
        )
    )
    missing = [
        file
        for file in files
        if not (seconds.get(Path(file).name, math.nan) >= 0)  # absent, NaN or negative
    ]
    if missing:
        many = len(missing) > 1
        raise ValueError(
            f"chapter{'s' if many else ''} {', '.join(repr(file) for file in missing)} "
            f"{'are' if many else 'is'} missing from the execution record {record} "
            "(rows 'page <name>' with seconds): re-record it with "
            "`python tools/benchmarks/book_build.py`"
        )
    minutes = [math.ceil(seconds[Path(file).name] / 60) for file in files]
    return pd.Series(minutes, index=files, name="run", dtype=int)


def in_the_room(
    minutes: pd.DataFrame, chapters: Iterable[str], homework: Iterable[str] = ()
) -> pd.DataFrame:
    """A shortened path through the book: only ``chapters`` (names such as ``"log_odds"``),
    in the book's order, with the exercises of the ``homework`` chapters done at home.

    Those chapters keep their teaching (and run) minutes, their exercise minutes become 0, and
    their title says "(exercises as homework)". Raises ``ValueError`` naming a chapter that is
    not in ``minutes``, or a homework chapter that is not on the path.

    Example
    -------
    >>> book = pd.DataFrame({"file": ["book/a", "book/b", "book/c"], "chapter": ["A", "B", "C"],
    ...                      "teaching": [30, 40, 50], "exercises": [20, 20, 25]})
    >>> path = in_the_room(book, ["a", "c"], homework=["a"])
    >>> path[["chapter", "exercises"]].values.tolist()
    [['A (exercises as homework)', 0], ['C', 25]]
    """
    chapters, homework = list(chapters), list(homework)
    names = minutes["file"].map(lambda file: Path(file).name)
    unknown = [name for name in chapters if name not in set(names)]
    if unknown:
        raise ValueError(f"no chapter named {', '.join(map(repr, unknown))} in the book")
    stray = [name for name in homework if name not in chapters]
    if stray:
        raise ValueError(
            f"homework chapter {', '.join(map(repr, stray))} is not on the path {chapters}"
        )
    path = minutes[names.isin(chapters)].copy()
    at_home = names[path.index].isin(homework)
    path.loc[at_home, "exercises"] = 0
    path.loc[at_home, "chapter"] = path.loc[at_home, "chapter"] + " (exercises as homework)"
    if "total" in path:
        path["total"] = path["teaching"] + path["exercises"] + path.get("run", 0)
    return path.reset_index(drop=True)


def objectives(path: str | Path) -> list[str]:
    """The bullet points under a chapter's **Objectives** heading (its learning goals).

    MyST roles become plain text, so the goals read correctly wherever they are shown.

    Example
    -------
    >>> objectives(ROOT / "book" / "log_odds.md")[0][:30]
    'Compute probabilities, odds, l'
    """
    lines = Path(path).read_text().splitlines()
    try:
        first = lines.index("**Objectives**") + 1
    except ValueError:
        return []
    goals: list[str] = []
    for line in lines[first:]:
        if line.startswith("- "):
            goals.append(line[2:].strip())
        elif line.startswith("  ") and goals:
            goals[-1] += " " + line.strip()
        else:
            break
    return [_plain_roles(goal, Path(path).parent) for goal in goals]


def _plain_roles(text: str, folder: Path) -> str:
    """Replace MyST roles by plain text: {doc}`name` by that chapter's title, others by their text."""

    def replace(match: re.Match) -> str:
        role, target = match.group(1), match.group(2)
        if role == "doc" and (folder / f"{target}.md").is_file():
            return f"*{front_matter(folder / f'{target}.md').get('title', target)}*"
        return target

    return re.sub(r"\{([\w:-]+)\}`([^`]*)`", replace, text)


def _clock(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%H:%M")
    except ValueError as error:
        raise ValueError(f"times must look like '09:00', got {text!r}") from error


def schedule(
    chapters: pd.DataFrame,
    start: str = "09:00",
    end: str = "12:30",
    lunch: str | None = None,
    lunch_minutes: int = 60,
    break_minutes: int = 15,
    max_block: int = 120,
) -> pd.DataFrame:
    """Lay chapters out in order from ``start`` until the next one would end after ``end``.

    A chapter's block lasts its ``teaching`` plus ``exercises`` plus ``run`` minutes (the time
    its cells take to run, :func:`run_minutes`; 0 when ``chapters`` has no ``run`` column). A break is inserted before a chapter that would make a block without a break longer than
    ``max_block`` minutes. Lunch (if given) comes at the first chapter boundary at or after
    ``lunch``, or in place of a break that falls due in the half hour before it.
    Returns rows ``start``, ``end``, ``item``, ``minutes`` and ``run`` (the part of ``minutes``
    spent running cells); chapters that did not fit are left out (compare with the input to see
    which).
    """
    for name in ("lunch_minutes", "break_minutes", "max_block"):
        if locals()[name] < 0:
            raise ValueError(f"{name} must be >= 0, got {locals()[name]}")
    clock, stop = _clock(start), _clock(end)
    if stop <= clock:
        raise ValueError(f"end ({end}) must be after start ({start})")
    lunch_at = _clock(lunch) if lunch else None
    rows, block = [], 0

    def add(item: str, minutes: int, run: int = 0) -> None:
        nonlocal clock
        rows.append(
            {
                "start": clock.strftime("%H:%M"),
                "end": (clock + timedelta(minutes=minutes)).strftime("%H:%M"),
                "item": item,
                "minutes": minutes,
                "run": run,
            }
        )
        clock += timedelta(minutes=minutes)

    for row in chapters.itertuples(index=False):
        run = int(getattr(row, "run", 0))
        minutes = int(row.teaching) + int(row.exercises) + run
        need_break = block and block + minutes > max_block
        if lunch_at is not None and (
            clock >= lunch_at or (need_break and clock >= lunch_at - timedelta(minutes=30))
        ):
            add("Lunch", lunch_minutes)
            lunch_at, block = None, 0
        elif need_break:
            add("Break", break_minutes)
            block = 0
        if clock + timedelta(minutes=minutes) > stop:
            break
        add(row.chapter, minutes, run)
        block += minutes
    while rows and rows[-1]["item"] in ("Break", "Lunch"):
        rows.pop()
    return pd.DataFrame(rows, columns=["start", "end", "item", "minutes", "run"])
