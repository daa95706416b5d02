"""The schema is the one description of a saved run: what the to_dict methods of the
report and monitor layers write is exactly what it describes (no field on one side only)."""

from gradcheck.monitor.findings import make_finding
from gradcheck.report import SCHEMA, RunReport, environment


def _fields(definition: dict) -> set[str]:
    return set(definition["properties"])


def test_run_report_writes_exactly_the_schemas_run_fields():
    assert set(RunReport().to_dict()) == _fields(SCHEMA)
    assert set(environment()) == _fields(SCHEMA["properties"]["environment"])


def test_findings_write_exactly_the_schemas_finding_fields():
    finding = make_finding("nan", "dense1", 7, {"n_nan": 3, "size": 10})
    assert set(finding.to_dict()) == _fields(SCHEMA["$defs"]["finding"])


def test_monitor_dict_writes_exactly_the_schemas_monitor_fields():
    from gradcheck.monitor import Monitor

    mon = Monitor()
    mon.observe(0, loss=1.0)
    monitor = SCHEMA["$defs"]["monitor"]
    assert set(mon.to_dict()) == _fields(monitor)
    series = monitor["properties"]["series"]["anyOf"][0]
    assert set(mon.to_dict()["series"]) == _fields(series)
