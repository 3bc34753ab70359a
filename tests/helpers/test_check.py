"""The learners' setup check, step by step: each check, its refusals and its fixes, and the
runner's PASS/FAIL lines. `make check` itself is tested in tests/book/test_setup.py."""

from __future__ import annotations

from importlib import metadata
from types import SimpleNamespace

import pytest

import helpers
from helpers import check, sampling
from helpers.check import CheckFailed, check_python, check_versions, main, parse_requirements


def test_old_python_fails_with_a_fix():
    with pytest.raises(CheckFailed, match="Python 3.11.4 is too old") as info:
        check_python((3, 11, 4))
    assert "pyenv install 3.12" in info.value.fix
    assert check_python((3, 13, 0)) == "Python 3.13.0"


def test_requirements_are_parsed_like_pip_reads_them():
    lines = ["# pins", "bambi==0.21.0  # model formulas", "-e .", "numpy==2.5.5", "", "-r x"]
    assert parse_requirements(lines) == {"bambi": "0.21.0", "numpy": "2.5.5"}


def test_version_mismatch_and_missing_package_are_named(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("bambi==0.21.0\nnumpy==1.0.0\nnot-a-package==1.0\n")

    def installed(name: str) -> str:
        if name == "not-a-package":
            raise metadata.PackageNotFoundError(name)
        return {"bambi": "0.21.0", "numpy": "2.5.5"}[name]

    with pytest.raises(
        CheckFailed,
        match=r"2 package\(s\).*numpy 2.5.5 \(pinned 1.0.0\)"
        r".*not-a-package missing",
    ) as info:
        check_versions(requirements, installed=installed)
    assert "make install" in info.value.fix


def test_the_installed_stack_matches_the_pins():
    assert "pinned packages at their tested versions" in check_versions()


def test_main_stops_at_the_first_failure_and_prints_the_fix(capsys):
    def broken() -> str:
        raise CheckFailed("data file missing", "restore it")

    ran = []
    assert (
        main({"first": lambda: "fine", "second": broken, "third": lambda: ran.append(1) or "x"})
        == 1
    )
    out = capsys.readouterr().out
    assert "ok    first" in out and "FAIL  second" in out
    assert out.rstrip().endswith("FAIL: data file missing\nFix: restore it")
    assert not ran
    assert main({"only": lambda: "fine"}) == 0
    assert capsys.readouterr().out.rstrip().endswith("PASS: your setup is ready for the book.")


def test_an_unexpected_error_ends_in_a_fail_line_not_a_traceback(monkeypatch, capsys):
    """Regression (issue 17): an error other than CheckFailed printed a raw traceback.

    Fault injection: the first step of the real runner raises an error of its own."""

    def broken() -> str:
        raise RuntimeError("could not compile\n  line 2 of the compiler's output")

    monkeypatch.setitem(check.CHECKS, "python", broken)
    assert main() == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "FAIL  python    unexpected RuntimeError: could not compile line 2 of the compiler's output"
    )
    assert "ok " not in out  # stops at the first failure, as for its own failures
    assert out.rstrip().endswith(
        "FAIL: unexpected RuntimeError: could not compile line 2 of the compiler's output\n"
        "Fix: run 'make install' again; if it still fails, bring this message to the instructor"
    )
    assert "Traceback" not in out


@pytest.fixture
def fake_fit(monkeypatch):
    """Record the order of ``helpers.configure()`` and the fit; the fit returns a bundle effect
    of ``bundle[0]`` (a posterior mean) or raises ``bundle[0]`` if it is an exception."""
    calls, bundle = [], [0.39]

    def fit(model, **kwargs):
        calls.append(("fit", kwargs))
        if isinstance(bundle[0], Exception):
            raise bundle[0]
        return {"posterior": {"promo": SimpleNamespace(mean=lambda: bundle[0])}}

    monkeypatch.setattr(helpers, "configure", lambda: calls.append(("configure", {})))
    monkeypatch.setattr(sampling, "fit", fit)
    return calls, bundle


def test_check_sampling_configures_first_then_fits_briefly(fake_fit):
    calls, _ = fake_fit
    assert "(bundle effect 0.39)" in check.check_sampling()
    assert [name for name, _ in calls] == ["configure", "fit"]
    assert calls[1][1] == {"draws": 300, "tune": 300, "chains": 2}


def test_check_sampling_fails_on_the_wrong_answer(fake_fit):
    fake_fit[1][0] = 0.2
    with pytest.raises(CheckFailed, match="bundle effect is 0.200, not about 0.39") as info:
        check.check_sampling()
    assert "make install" in info.value.fix


def test_check_sampling_fails_when_the_model_does_not_sample(fake_fit):
    fake_fit[1][0] = RuntimeError("no compiler")
    with pytest.raises(CheckFailed, match="did not compile or sample: RuntimeError: no compiler"):
        check.check_sampling()


def test_check_data_names_a_changed_file(monkeypatch):
    assert "matching SHA-256 checksums" in check.check_data()

    def changed(name):
        raise ValueError(f"{name}: checksum differs")

    monkeypatch.setattr("helpers.data.data_path", changed)
    with pytest.raises(CheckFailed, match="checksum differs") as info:
        check.check_data()
    assert "git checkout data/" in info.value.fix
