import math

import pytest

from gradcheck.errors import InvalidTypeError
from gradcheck.report import SCHEMA_VERSION, ReportSchemaError, RunReport, environment, validate
from gradcheck.report.model import as_report, as_run_dict, thin_indices, thin_monitor


class HasToDict:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


def test_environment_records_versions_dtype_and_seed():
    env = environment(dtype="float32", seed=3)
    assert {"python", "numpy", "scipy", "gradcheck", "platform"} <= set(env)
    assert env["dtype"] == "float32" and env["seed"] == 3
    assert env["numpy"] and env["scipy"]


def test_from_objects_accepts_objects_and_dicts(passing_check, monitor_dict):
    report = RunReport.from_objects(
        checks=[HasToDict(passing_check)],
        monitor=HasToDict(monitor_dict),
        config={"seed": 7, "dtype": "float64"},
    )
    assert report.checks == [passing_check]
    assert report.environment["seed"] == 7 and report.environment["dtype"] == "float64"
    data = report.to_dict()
    assert data["kind"] == "run" and data["schema_version"] == SCHEMA_VERSION
    assert validate(data) == []


def test_round_trip_through_dict(run_report):
    assert RunReport.from_dict(run_report.to_dict()) == run_report


def test_from_dict_rejects_invalid_data_listing_problems():
    with pytest.raises(ReportSchemaError) as info:
        RunReport.from_dict({"kind": "run", "schema_version": "0.1", "title": 1, "checks": []})
    assert len(info.value.problems) == 2
    assert "`schema_version`" in str(info.value) and "`title`" in str(info.value)


@pytest.mark.parametrize("kind", ["gradient_check", "layer_check", "monitor"])
def test_bare_dicts_are_wrapped(kind, failing_check, layer_check, monitor_dict):
    bare = {"gradient_check": failing_check, "layer_check": layer_check, "monitor": monitor_dict}[
        kind
    ]
    run = as_run_dict(bare)
    assert run["kind"] == "run"
    assert (run["monitor"] == bare) if kind == "monitor" else (run["checks"] == [bare])
    assert as_report(bare).to_dict()["kind"] == "run"


def test_as_report_accepts_a_list_of_objects(passing_check, monitor_dict):
    report = as_report([HasToDict(passing_check), monitor_dict])
    assert (
        report.checks == [passing_check] and report.monitor["findings"] == monitor_dict["findings"]
    )
    assert len(report.monitor["series"]["step"]) < 1100  # thinned by default


def test_as_report_rejects_other_types():
    with pytest.raises(InvalidTypeError, match="`report` must be"):
        as_report(3.0)
    with pytest.raises(InvalidTypeError, match="`checks` entries"):
        RunReport.from_objects(checks=[1.5])


def test_thin_indices_keep_ends_and_requested():
    keep = thin_indices(5000, 1000, {4321})
    assert keep[0] == 0 and keep[-1] == 4999 and 4321 in keep
    assert len(keep) <= 1002


def test_thin_monitor_keeps_nonfinite_edges_and_rounds(monitor_dict):
    thinned, note = thin_monitor(monitor_dict, 500)
    series = thinned["series"]
    n = len(series["step"])
    assert n < 520 and "3000 observed steps" in note
    assert all(len(v) == n for by in series["metrics"].values() for v in by.values())
    assert series["loss"][-1] == "nan" and 2997 in series["step"]  # first NaN of the run kept
    assert 2994 in series["step"]  # dense1.W grad norm turns Inf at step 2994
    value = next(v for v in series["loss"] if isinstance(v, float))
    assert value == float(f"{value:.5e}")
    assert validate(RunReport(monitor=thinned).to_dict()) == []


def test_short_series_are_not_thinned(monitor_dict):
    thinned, note = thin_monitor(monitor_dict, 5000)
    assert thinned is monitor_dict and note is None


def test_from_objects_thins_long_runs_and_says_so(monitor_dict):
    report = RunReport.from_objects(monitor=monitor_dict, max_points=300)
    assert len(report.monitor["series"]["step"]) < 320
    assert any("thinned" in note for note in report.notes)
    assert math.isnan(float(report.monitor["series"]["loss"][-1]))
