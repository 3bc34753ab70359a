"""Workshop schedules computed from each chapter's teaching and exercise minutes.

Every chapter states its minutes in its front matter (``myst: substitutions: teaching,
exercises``); the workshop page builds its half-day and full-day schedules from them, so the
schedule changes when a chapter's timing does.

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

import re
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml

#: The top of the repository (``_toc.yml`` lives there).
ROOT: Path = Path(__file__).resolve().parent.parent


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

    A break is inserted before a chapter that would make a block without a break longer than
    ``max_block`` minutes. Lunch (if given) comes at the first chapter boundary at or after
    ``lunch``, or in place of a break that falls due in the half hour before it.
    Returns rows ``start``, ``end``, ``item`` and ``minutes``; chapters that did not fit are
    left out (compare with the input to see which).
    """
    for name in ("lunch_minutes", "break_minutes", "max_block"):
        if locals()[name] < 0:
            raise ValueError(f"{name} must be >= 0, got {locals()[name]}")
    clock, stop = _clock(start), _clock(end)
    if stop <= clock:
        raise ValueError(f"end ({end}) must be after start ({start})")
    lunch_at = _clock(lunch) if lunch else None
    rows, block = [], 0

    def add(item: str, minutes: int) -> None:
        nonlocal clock
        rows.append(
            {
                "start": clock.strftime("%H:%M"),
                "end": (clock + timedelta(minutes=minutes)).strftime("%H:%M"),
                "item": item,
                "minutes": minutes,
            }
        )
        clock += timedelta(minutes=minutes)

    for row in chapters.itertuples(index=False):
        minutes = int(row.teaching) + int(row.exercises)
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
        add(row.chapter, minutes)
        block += minutes
    while rows and rows[-1]["item"] in ("Break", "Lunch"):
        rows.pop()
    return pd.DataFrame(rows, columns=["start", "end", "item", "minutes"])
