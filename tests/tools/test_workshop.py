"""Workshop schedules from chapter minutes: reading the front matter and the run-time record,
laying out the day, the half day's path to partial pooling."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from conftest import chapter_files

from tools.workshop import (
    HALF_DAY_HOMEWORK,
    HALF_DAY_PATH,
    RECORD,
    chapter_minutes,
    in_the_room,
    objectives,
    run_minutes,
    schedule,
)


def _chapters(*minutes: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chapter": [f"C{i}" for i in range(len(minutes))],
            "teaching": [t for t, _ in minutes],
            "exercises": [e for _, e in minutes],
        }
    )


def _record(tmp_path, **seconds: float) -> str:
    """A copy of the committed run-time record with ``page <name>`` rows set or added."""
    table = pd.read_csv(RECORD)
    for name, value in seconds.items():
        what = f"page {name}"
        if (table["what"] == what).any():
            table.loc[table["what"] == what, "seconds"] = value
        else:
            table.loc[len(table)] = [what, value]
    path = tmp_path / "book_build.csv"
    table.to_csv(path, index=False)
    return str(path)


#: The issue's measurements on 2 cores, for the pages the committed record lacks or had faster.
MEASURED = {"big_data": 135.0, "own_data": 42.0, "elasticities": 135.0, "correlated_effects": 80.0}


def test_minutes_come_from_every_chapter_in_toc_order():
    minutes = chapter_minutes()
    assert [f"{f}.md" for f in minutes["file"]] == [
        str(p.relative_to(p.parent.parent)) for p in chapter_files()
    ]
    assert "Appendix" not in set(minutes["part"])
    assert (minutes["teaching"] > 0).all() and (minutes["exercises"] > 0).all()


def test_a_chapter_without_minutes_is_named(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text(
        "---\ntitle: A\nmyst:\n  substitutions:\n    teaching: 10\n---\n# A\n"
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/a\nparts:\n"
        "  - caption: One\n    chapters:\n      - file: book/a\n"
    )
    with pytest.raises(ValueError, match=r"chapter 'book/a' has no whole-number exercises"):
        chapter_minutes(tmp_path / "_toc.yml")


def test_objectives_are_the_chapter_goals():
    for path in chapter_files():
        goals = objectives(path)
        assert len(goals) >= 2, path.name
        assert all(goal and not goal.startswith("-") for goal in goals)
        assert not any("{" in goal for goal in goals), goals  # MyST roles made plain


def test_chapters_stay_in_order_and_never_run_past_the_end():
    plan = schedule(_chapters((30, 20), (45, 25), (40, 25), (50, 25)), start="09:00", end="12:30")
    chapters = plan[~plan["item"].isin(["Break", "Lunch"])]["item"].tolist()
    assert chapters == ["C0", "C1", "C2"]
    assert plan["end"].iloc[-1] <= "12:30"
    # Rows are back to back.
    assert (plan["start"].iloc[1:].to_numpy() == plan["end"].iloc[:-1].to_numpy()).all()
    starts = [datetime.strptime(t, "%H:%M") for t in plan["start"]]
    ends = [datetime.strptime(t, "%H:%M") for t in plan["end"]]
    assert all((e - s).seconds // 60 == m for s, e, m in zip(starts, ends, plan["minutes"]))


def test_breaks_keep_blocks_short_and_lunch_comes_once():
    plan = schedule(
        _chapters(*[(40, 20)] * 8), start="09:00", end="17:00", lunch="12:00", max_block=120
    )
    block = 0
    for item, minutes in zip(plan["item"], plan["minutes"]):
        block = 0 if item in ("Break", "Lunch") else block + minutes
        assert block <= 120
    assert plan["item"].tolist().count("Lunch") == 1
    lunch = plan[plan["item"] == "Lunch"].iloc[0]
    assert "11:30" <= lunch["start"] <= "13:00"
    assert plan["item"].iloc[-1] not in ("Break", "Lunch")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "9am"}, "times must look like"),
        ({"end": "08:00"}, "must be after start"),
        ({"break_minutes": -5}, "break_minutes must be >= 0"),
    ],
)
def test_bad_schedule_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        schedule(_chapters((30, 20)), **kwargs)


def test_run_minutes_are_the_recorded_seconds_rounded_up(tmp_path):
    record = tmp_path / "record.csv"
    record.write_text(
        "what,seconds\ncold build,273.3\npage a,5.4\npage b,60.0\npage c,60.1\n"
        "page d,135.0\npage e,0\n"
    )
    files = ["book/d", "book/a", "book/b", "book/c", "book/e"]
    run = run_minutes(files, record)
    assert run.index.tolist() == files
    assert run.tolist() == [3, 1, 1, 2, 0]


def test_a_chapter_missing_from_the_record_is_named(tmp_path):
    record = tmp_path / "record.csv"
    record.write_text("what,seconds\npage a,5.4\npage b,\npage c,-1\n")
    with pytest.raises(ValueError, match=r"chapter 'book/z' is missing from the execution record"):
        run_minutes(["book/a", "book/z"], record)
    # No seconds, or negative ones, count as missing; several are named together.
    with pytest.raises(ValueError, match=r"chapters 'book/b', 'book/c' are missing.*book_build"):
        run_minutes(["book/a", "book/b", "book/c"], record)
    (tmp_path / "bad.csv").write_text("page,time\na,5\n")
    with pytest.raises(ValueError, match="needs the columns 'what' and 'seconds'"):
        run_minutes(["book/a"], tmp_path / "bad.csv")


def test_the_committed_record_covers_every_chapter_or_names_the_missing():
    """The committed record predates the big-data chapter (it is re-recorded with
    tools/benchmarks/book_build.py): until then the error names exactly the chapters it lacks."""
    files = chapter_minutes()["file"].tolist()
    recorded = set(pd.read_csv(RECORD)["what"])
    missing = [file for file in files if f"page {file.split('/')[-1]}" not in recorded]
    if missing:
        with pytest.raises(ValueError) as error:
            run_minutes(files)
        assert all(repr(file) in str(error.value) for file in missing)
        assert not any(repr(file) in str(error.value) for file in set(files) - set(missing))
    else:
        assert (run_minutes(files) >= 1).all()


def test_run_minutes_lengthen_each_block():
    chapters = _chapters((30, 20), (45, 25)).assign(run=[1, 3])
    plan = schedule(chapters, start="09:00", end="12:30")
    assert plan["minutes"].tolist() == [51, 15, 73]
    assert plan["run"].tolist() == [1, 0, 3]
    assert plan["end"].iloc[-1] == "11:19"
    assert schedule(_chapters((30, 20)))["run"].tolist() == [0]  # no run column: none added


def test_a_path_keeps_book_order_and_sends_exercises_home():
    book = pd.DataFrame(
        {
            "file": ["book/a", "book/b", "book/c"],
            "chapter": ["A", "B", "C"],
            "teaching": [30, 40, 50],
            "exercises": [20, 20, 25],
            "run": [1, 2, 3],
        }
    ).assign(total=lambda t: t["teaching"] + t["exercises"] + t["run"])
    path = in_the_room(book, ["c", "a"], homework=["a"])
    assert path["chapter"].tolist() == ["A (exercises as homework)", "C"]
    assert path["exercises"].tolist() == [0, 25]
    assert path["total"].tolist() == [31, 78]
    assert book["exercises"].tolist() == [20, 20, 25]  # the input is left alone
    with pytest.raises(ValueError, match="no chapter named 'z'"):
        in_the_room(book, ["a", "z"])
    with pytest.raises(ValueError, match="homework chapter 'b' is not on the path"):
        in_the_room(book, ["a"], homework=["b"])


@pytest.mark.parametrize("measured", [False, True], ids=["committed record", "issue's times"])
def test_the_half_day_reaches_partial_pooling_and_ends_on_time(tmp_path, measured):
    minutes = chapter_minutes()
    minutes = minutes[minutes["file"].isin([f"book/{name}" for name in HALF_DAY_PATH])].copy()
    record = _record(tmp_path, **MEASURED) if measured else RECORD
    minutes["run"] = run_minutes(minutes["file"], record).to_numpy()
    path = in_the_room(minutes, HALF_DAY_PATH, homework=HALF_DAY_HOMEWORK)
    plan = schedule(path, start="09:00", end="12:30")
    taught = plan[plan["item"] != "Break"]
    pooling = "Varying intercepts and partial pooling"
    assert taught["item"].tolist() == path["chapter"].tolist()  # nothing on the path left out
    assert taught["item"].iloc[-1] == pooling
    assert plan["item"].iloc[-2] == "Break"  # partial pooling has a block of its own
    assert plan["end"].iloc[-1] <= "12:30"
    assert taught["run"].gt(0).all()  # every block includes its run time
    # Interactions is homework, and the whole path would not reach partial pooling in time.
    assert "book/interactions" not in set(path["file"])
    whole = schedule(in_the_room(minutes, HALF_DAY_PATH), start="09:00", end="12:30")
    assert pooling not in set(whole["item"])
