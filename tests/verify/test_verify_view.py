"""The per-AutoClass table publish and doctor --load print."""

from __future__ import annotations

from rich.console import Console

from hf_custom.cli.verify_view import render_verify
from hf_custom.findings import finding
from hf_custom.verification import AutoClassRow, VerifyReport


def _report(ok: bool) -> VerifyReport:
    rows = (
        AutoClassRow("AutoConfig", "XConfig", "passed", seconds=0.01),
        AutoClassRow(
            "AutoModelForMaskedLM",
            "XForMaskedLM",
            "failed" if not ok else "passed",
            weights_equal="skipped" if not ok else "passed",
            forward="skipped" if not ok else "passed",
            seconds=1.25,
            detail="post_init() not called" if not ok else "",
        ),
    )
    findings = (
        (
            finding(
                "HFC501", "XForMaskedLM never calls self.post_init()", path="modeling_x.py", line=7
            ),
        )
        if not ok
        else ()
    )
    return VerifyReport(rows=rows, findings=findings, ok=ok, seconds=9.5)


def _render(report: VerifyReport) -> str:
    console = Console(record=True, width=80, no_color=True)
    render_verify(report, console)
    return console.export_text()


def test_table_shows_every_row_and_status() -> None:
    text = _render(_report(ok=False))
    assert "AutoModelForMaskedLM" in text and "XForMaskedLM" in text
    assert "FAIL" in text and "skip" in text and "1.2s" in text
    assert "AutoModelForMaskedLM (XForMaskedLM): post_init() not called" in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "HFC501" in text and "modeling_x.py" in text
    assert "verification failed" in text


def test_passing_table() -> None:
    text = _render(_report(ok=True))
    assert "verified" in text and "FAIL" not in text and "skip" not in text


def test_longest_auto_class_names_keep_every_column_in_80() -> None:
    rows = (
        AutoClassRow("AutoModelForSequenceClassification", "X", "passed", "passed", "passed"),
        AutoClassRow("AutoModelForTokenClassification", "Y", "passed", seconds=12.3),
    )
    text = _render(VerifyReport(rows=rows, findings=(), ok=True, seconds=1.0))
    assert "12.3s" in text and "time" in text
    assert all(len(line) <= 80 for line in text.splitlines())
