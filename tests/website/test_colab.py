"""Colab: every pin the notebooks' setup cell installs has a wheel Colab's Python can take.

Colab's runtime moved from CPython 3.12 to 3.13 (reported since August 2026), so the pins are
checked for both. The wheels installed here are for this machine's Python only and cannot show
that a 3.13 wheel exists, and the test suite makes no network calls. So the look-up is recorded:
``colab_wheels.json``, beside this file, holds for every runtime pin (``site_extension.RUNTIME``,
versions from ``requirements.txt``) the wheel pip chooses from PyPI for each Colab Python, or
``null`` when PyPI has none. The tests check, offline, that the record covers exactly the current
pins and that every recorded wheel's tags are ones Colab's pip accepts.

After changing a pin (or ``RUNTIME``, or ``COLAB_PYTHONS``), refresh the record (this asks PyPI,
ignoring local pip configuration; about a minute), look at the diff, and commit it::

    .venv/bin/python tests/website/test_colab.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from packaging import tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
RECORD = Path(__file__).with_name("colab_wheels.json")

#: Colab's runtime as far as it matters to pip: CPython 3.12 and 3.13 on x86_64 Linux with
#: glibc 2.35 (Ubuntu 22.04). A newer glibc accepts every wheel an older one does.
COLAB_PYTHONS: tuple[tuple[int, int], ...] = ((3, 12), (3, 13))
COLAB_GLIBC: tuple[int, int] = (2, 35)

#: The platform tags pip accepts on that glibc, newest first (manylinux_2_35 ... manylinux_2_5
#: and the legacy aliases). No bare ``linux_x86_64``: PyPI has none, and Colab would build those.
PLATFORMS: tuple[str, ...] = (
    *(f"manylinux_{COLAB_GLIBC[0]}_{minor}_x86_64" for minor in range(COLAB_GLIBC[1], 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
)


def python_key(python: tuple[int, int]) -> str:
    """``(3, 13)`` -> ``"3.13"``, the record's key for that Python."""
    return ".".join(map(str, python))


def accepted_tags(python: tuple[int, int]) -> set[tags.Tag]:
    """Every wheel tag CPython ``python`` accepts on Colab's platform."""
    return {
        *tags.cpython_tags(python, platforms=PLATFORMS),
        *tags.compatible_tags(python, platforms=PLATFORMS),
    }


def runtime_pins() -> dict[str, str]:
    """``{name: version}`` for the setup cell's packages, in ``RUNTIME``'s order."""
    from helpers.check import parse_requirements
    from site_extension import RUNTIME

    pins = parse_requirements((ROOT / "requirements.txt").read_text().splitlines())
    return {name: pins[name] for name in RUNTIME}


def test_record_covers_exactly_the_current_pins():
    """Names and versions as in requirements.txt, every Colab Python: else refresh the record."""
    record = json.loads(RECORD.read_text())
    wanted = [f"{name}=={version}" for name, version in runtime_pins().items()]
    assert list(record["wheels"]) == wanted, (
        f"{RECORD.name} is stale (a pin or RUNTIME changed): refresh it with "
        ".venv/bin/python tests/website/test_colab.py"
    )
    assert record["glibc"] == python_key(COLAB_GLIBC)
    for pin, wheels in record["wheels"].items():
        assert sorted(wheels) == sorted(map(python_key, COLAB_PYTHONS)), f"{pin}: {wheels}"


@pytest.mark.parametrize("python", COLAB_PYTHONS, ids=python_key)
def test_every_runtime_pin_has_a_wheel_colab_can_install(python):
    """For each pin, PyPI has a wheel of exactly that version whose tags CPython ``python`` on
    glibc 2.35 x86_64 accepts, so pip on Colab installs it without building anything. (Colab
    itself is not reachable from the test machines: this checks what can be checked offline.)"""
    record = json.loads(RECORD.read_text())["wheels"]
    accepted, colab = accepted_tags(python), f"CPython {python_key(python)}"
    problems = []
    for name, version in runtime_pins().items():
        filename = record.get(f"{name}=={version}", {}).get(python_key(python))
        if filename is None:
            problems.append(
                f"{name}=={version}: no wheel on PyPI for {colab} (Colab would build it)"
            )
            continue
        wheel_name, wheel_version, _, wheel_tags = parse_wheel_filename(filename)
        if (wheel_name, str(wheel_version)) != (canonicalize_name(name), version):
            problems.append(f"{name}=={version}: the record names {filename}")
        elif not wheel_tags & accepted:
            problems.append(f"{name}=={version}: {filename} does not install on Colab's {colab}")
    assert not problems, "\n".join(problems)


def look_up(name: str, version: str, python: tuple[int, int]) -> str | None:
    """The wheel filename pip picks from PyPI for ``name==version`` on Colab's CPython ``python``,
    or None when there is none. Reads the index only (pip's dry run fetches no wheel)."""
    abi = "cp" + "".join(map(str, python))
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--isolated", "--quiet", "--dry-run"),
                *("--index-url", "https://pypi.org/simple", "--ignore-installed", "--no-deps"),
                *("--only-binary=:all:", "--python-version", python_key(python)),
                *("--implementation", "cp", "--abi", abi),
                *(option for platform in PLATFORMS for option in ("--platform", platform)),
                *("--report", str(report), f"{name}=={version}"),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            if "No matching distribution" in done.stderr:
                return None
            raise RuntimeError(f"pip failed for {name}=={version}:\n{done.stderr}")
        (chosen,) = json.loads(report.read_text())["install"]
        return chosen["download_info"]["url"].rsplit("/", 1)[1]


def refresh() -> None:
    """Ask PyPI for every pin and Colab Python, and write the record."""
    wheels = {}
    for name, version in runtime_pins().items():
        wheels[f"{name}=={version}"] = found = {
            python_key(python): look_up(name, version, python) for python in COLAB_PYTHONS
        }
        print(f"{name}=={version}: {found}")
    record = {
        "about": "Wheels pip picks from PyPI for the setup cell's pins on Colab (CPython, glibc "
        "below, x86_64); null: none. Written by tests/website/test_colab.py, read by its tests.",
        "glibc": python_key(COLAB_GLIBC),
        "wheels": wheels,
    }
    RECORD.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {RECORD.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "website"))  # as pytest's pythonpath setting does
    refresh()
