"""The learners' setup check: run ``make check`` (or ``python -m helpers.check``) before the day.

It checks, in order: the Python version, the installed versions against ``requirements.txt``,
the checksums of the shipped data, and that a tiny Bambi model compiles, samples and gives the
known answer. It prints one line per check and ends in a single ``PASS``, or ``FAIL`` with what to
do. Nothing is downloaded. On a warm install it takes a few seconds; the first run compiles
PyTensor's internals and can take up to a minute.

Example
-------
>>> check_python((3, 12, 1))
'Python 3.12.1'
>>> parse_requirements(["bambi==0.21.0", "# comment", "-e .", ""])
{'bambi': '0.21.0'}
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path

#: ``requirements.txt`` at the top of the repository.
REQUIREMENTS: Path = Path(__file__).resolve().parent.parent / "requirements.txt"
#: Oldest Python the book runs on (Bambi 0.18+ needs 3.12).
MIN_PYTHON: tuple[int, int] = (3, 12)


class CheckFailed(Exception):
    """A check failed; ``fix`` says what to do about it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def check_python(version: Sequence[int] | None = None) -> str:
    """Check the running Python is at least :data:`MIN_PYTHON`."""
    found = tuple(version if version is not None else sys.version_info[:3])
    text = ".".join(map(str, found))
    if found[:2] < MIN_PYTHON:
        raise CheckFailed(
            f"Python {text} is too old; the book needs {'.'.join(map(str, MIN_PYTHON))} or newer",
            "install Python 3.12+ (e.g. 'pyenv install 3.12'), delete .venv and run 'make check' again",
        )
    return f"Python {text}"


def parse_requirements(lines: Iterable[str]) -> dict[str, str]:
    """Return ``{name: version}`` for every ``name==version`` line (comments, ``-e`` skipped)."""
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[name.strip()] = version.strip()
    return pins


def check_versions(
    requirements: Path = REQUIREMENTS, installed: Callable[[str], str] = metadata.version
) -> str:
    """Check every pinned package is installed at exactly its pinned version."""
    pins = parse_requirements(requirements.read_text().splitlines())
    wrong = []
    for name, wanted in pins.items():
        try:
            found = installed(name)
        except metadata.PackageNotFoundError:
            found = "missing"
        if found != wanted:
            wrong.append(f"{name} {found} (pinned {wanted})")
    if wrong:
        raise CheckFailed(
            f"{len(wrong)} package(s) differ from requirements.txt: "
            + "; ".join(wrong[:6])
            + (" ..." if len(wrong) > 6 else ""),
            "run 'make install' (or '.venv/bin/pip install -r requirements.txt') in the book's "
            "folder, and use the book's environment (.venv)",
        )
    return f"{len(pins)} pinned packages at their tested versions"


def check_data() -> str:
    """Check every registered data file exists with its registered checksum."""
    from helpers.data import REGISTRY, data_path

    try:
        for name in REGISTRY:
            data_path(name)
    except ValueError as error:
        raise CheckFailed(str(error), "restore the data with 'git checkout data/'") from error
    return f"{len(REGISTRY)} data file(s) with matching SHA-256 checksums"


def check_sampling() -> str:
    """Fit the book's first model (bundle effect on the season-pass counts) briefly.

    It first makes the chapters' configuration call, :func:`helpers.configure` (quiet sampler
    logs, PyTensor's linker), so the model compiles and samples as it does in the book.
    """
    import bambi as bmb

    import helpers
    from helpers.data import aggregate_binomial, load_season_pass
    from helpers.sampling import fit

    helpers.configure()
    counts = aggregate_binomial(load_season_pass(), by=["promo"], outcome="bought_pass")
    model = bmb.Model(
        "p(bought, n) ~ 1 + promo",
        counts,
        family="binomial",
        priors={
            "Intercept": bmb.Prior("Normal", mu=0, sigma=1),
            "promo": bmb.Prior("Normal", mu=0, sigma=1),
        },
    )
    start = time.perf_counter()
    try:
        idata = fit(model, draws=300, tune=300, chains=2)
    except Exception as error:  # any failure to compile or sample is the learner's to fix
        raise CheckFailed(
            f"the tiny model did not compile or sample: {type(error).__name__}: {error}",
            "run 'make install' again; if it still fails, bring this message to the instructor",
        ) from error
    seconds = time.perf_counter() - start
    bundle = float(idata["posterior"]["promo"].mean())
    if abs(bundle - 0.39) > 0.05:  # the hand calculation: log odds ratio 0.3888
        raise CheckFailed(
            f"the tiny model sampled but its bundle effect is {bundle:.3f}, not about 0.39",
            "the installed stack is not the tested one: run 'make install'",
        )
    return (
        f"a tiny Bambi model compiled and sampled in {seconds:.1f} s (bundle effect {bundle:.2f})"
    )


CHECKS: dict[str, Callable[[], str]] = {
    "python": check_python,
    "versions": check_versions,
    "data": check_data,
    "sampling": check_sampling,
}


def main(checks: dict[str, Callable[[], str]] | None = None) -> int:
    """Run the checks in order, print one line each, end in PASS or FAIL; return the exit code.

    An unexpected error in a check (a bug, a broken install) ends in the same ``FAIL`` lines,
    with the error's type and message, instead of a traceback.

    Example
    -------
    >>> main({"broken": lambda: 1 / 0})  # doctest: +ELLIPSIS
    FAIL  broken    unexpected ZeroDivisionError: division by zero
    ...
    1
    """
    for name, check in (checks if checks is not None else CHECKS).items():
        try:
            print(f"ok    {name:9s} {check()}", flush=True)
            continue
        except CheckFailed as error:
            failure = error
        except Exception as error:  # a bug or a broken install: still one FAIL line, no traceback
            failure = CheckFailed(
                f"unexpected {type(error).__name__}: {' '.join(str(error).split())}",
                "run 'make install' again; if it still fails, bring this message to the instructor",
            )
        print(f"FAIL  {name:9s} {failure}")
        print(f"\nFAIL: {failure}\nFix: {failure.fix}")
        return 1
    print("\nPASS: your setup is ready for the book.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
