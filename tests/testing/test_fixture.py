"""GradcheckFixture and its Settings, without pytest in the loop."""

import json
import re
from types import SimpleNamespace

import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.testing import fixture as fx
from gradcheck.testing.fixture import CheckStats, GradcheckFixture, Settings, settings_from


def test_settings_from_nothing_is_the_default_and_not_explicit():
    settings = settings_from({"gradcheck_rtol": None, "gradcheck_report": None})
    assert settings == Settings()
    assert not settings.explicit
    assert settings.describe() == "seed=0 mode=full rtol=default atol=default"


def test_settings_from_options_is_explicit_and_reproducible():
    settings = settings_from(
        {"gradcheck_seed": 5, "gradcheck_mode": "directional", "gradcheck_atol": 1e-9}
    )
    assert settings.explicit
    assert settings.reproduce() == (
        "--gradcheck-seed=5 --gradcheck-mode=directional --gradcheck-atol=1e-09"
    )
    assert settings_from({"gradcheck_report": "out"}).report_dir == "out"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"rtl": 1.0}, "Unknown gradcheck setting `rtl`; valid settings: rtol, atol, mode,"),
        ({"rtol": -1.0}, "`rtol` must be >= 0; got rtol=-1.0"),
        ({"rtol": "1e-3"}, "`rtol` must be a real number >= 0; got '1e-3'"),
        ({"mode": "fast"}, "`mode` must be one of 'full', 'sample', 'directional'; got 'fast'"),
        ({"seed": 1.5}, "`seed` must be an int; got 1.5"),
        ({"seed": True}, "`seed` must be an int; got True"),
    ],
    ids=["unknown", "negative", "string-rtol", "bad-mode", "float-seed", "bool-seed"],
)
def test_merged_validates(overrides, message):
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        Settings().merged(overrides)


@pytest.mark.parametrize(
    "settings, expected",
    [
        (Settings(), {"seed": 0}),
        (
            Settings(mode="sample", rtol=1e-4),
            {"seed": 0, "rtol": 1e-4, "sample": fx.DEFAULT_SAMPLE},
        ),
        (Settings(mode="sample", sample=3), {"seed": 0, "sample": 3}),
        (Settings(mode="directional", seed=2), {"seed": 2, "directions": fx.DEFAULT_DIRECTIONS}),
        (Settings(eps=1e-4, method="forward"), {"seed": 0, "eps": 1e-4, "method": "forward"}),
    ],
    ids=["default", "sample", "sample-count", "directional", "eps-method"],
)
def test_gradient_kwargs_follow_the_mode(settings, expected):
    assert settings.gradient_kwargs() == expected


def test_layer_kwargs_map_sample_to_full():
    assert Settings(mode="sample").layer_kwargs() == {"seed": 0, "mode": "full"}
    assert Settings(mode="directional", atol=1e-8).layer_kwargs()["mode"] == "directional"


def test_stats_describe():
    stats = CheckStats()
    stats.add(evaluations=10, failed=False)
    assert stats.describe() == "1 check, 10 evaluations, 0 failed"
    stats.add(evaluations=5, failed=True)
    assert stats.describe() == "2 checks, 15 evaluations, 1 failed"


def _fake_result(passed):
    data = {"kind": "gradient_check", "passed": passed, "n_evaluations": 7}
    return SimpleNamespace(passed=passed, n_evaluations=7, to_dict=lambda: data)


def test_conclude_counts_and_raises_with_a_section_and_reports(tmp_path, monkeypatch):
    sections = []
    stats = CheckStats()
    fixture = GradcheckFixture(
        Settings(report_dir=str(tmp_path)),
        stats,
        name="tests/t.py::test_a[1]",
        on_failure=sections.append,
    )
    fixture._conclude(_fake_result(True), fixture.settings, "gradient check")
    with pytest.raises(AssertionError, match=r"gradient check failed \(seed=0 mode=full"):
        fixture._conclude(_fake_result(False), fixture.settings, "gradient check")
    assert (fixture.checks, fixture.evaluations, fixture.failures) == (2, 14, 1)
    assert stats.describe() == "2 checks, 14 evaluations, 1 failed"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "tests_t.py_test_a_1-1.json" in written
    saved = json.loads((tmp_path / "tests_t.py_test_a_1-1.json").read_text())
    assert saved["checks"][0]["passed"] is False and saved["title"] == "tests/t.py::test_a[1]"
    assert "tests_t.py_test_a_1-1.html" in written
    assert "report written to" in sections[0] and "--gradcheck-seed=0" in sections[0]


def test_split_separates_settings_from_checker_keywords():
    fixture = GradcheckFixture(Settings(), CheckStats())
    settings, extra = fixture._split({"rtol": 1e-3, "batch_size": 4})
    assert settings.rtol == 1e-3 and extra == {"batch_size": 4}
