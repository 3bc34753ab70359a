"""Workshop schedules from chapter minutes: reading the front matter, laying out the day."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from conftest import chapter_files

from tools.workshop import chapter_minutes, objectives, schedule


def _chapters(*minutes: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chapter": [f"C{i}" for i in range(len(minutes))],
            "teaching": [t for t, _ in minutes],
            "exercises": [e for _, e in minutes],
        }
    )


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
