"""The gate decision as JUnit XML, so CI systems show it as a passed or failed test."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from humaneval_lab.compare import GateDecision
from humaneval_lab.numfmt import amount, change
from humaneval_lab.records import write_output


def gate_junit(decision: GateDecision, path: str | Path) -> Path:
    """One test suite with one test case; a failure element when the gate fails."""
    d = decision.difference
    failures = "0" if decision.passed else "1"
    suites = ET.Element("testsuites", name="humaneval-lab gate", tests="1", failures=failures, errors="0")
    suite = ET.SubElement(suites, "testsuite", name="humaneval-lab gate", tests="1", failures=failures,
                          errors="0", skipped="0")  # fmt: skip
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("baseline", d.baseline), ("candidate", d.candidate), ("metric", decision.metric), ("scope", decision.scope),
        ("max_drop", decision.max_drop), ("confidence", decision.confidence), ("baseline_value", d.baseline_value),
        ("candidate_value", d.candidate_value), ("difference", d.estimate), ("lower_bound", d.interval.lower_bound),
        ("upper_bound", d.interval.upper_bound), ("p_value", d.test.p_value), ("rule", decision.rule),
        # Exact floats above are for machines; this is the change as every other output writes it.
        ("change", change(d.baseline_value, d.candidate_value, d.estimate)),
    ):  # fmt: skip
        ET.SubElement(props, "property", name=name, value=str(value))
    case = ET.SubElement(suite, "testcase", classname="humaneval-lab.gate",
                         name=f"{decision.metric} {decision.scope}: {d.candidate} vs {d.baseline} "
                              f"(max drop {amount(decision.max_drop)})", time="0")  # fmt: skip
    if not decision.passed:
        fail = ET.SubElement(case, "failure", message=decision.verdict, type="Regression")
        fail.text = f"{decision.verdict}\nrule: {decision.rule}"
    ET.SubElement(case, "system-out").text = decision.verdict
    text = ET.tostring(suites, encoding="unicode", xml_declaration=True)
    return write_output(path, text + "\n")  # parent folders created: CI writes into fresh dirs
