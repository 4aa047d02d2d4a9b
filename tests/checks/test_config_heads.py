"""Doctor on heads the config does not support: HFC116 is reported, the check never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor

from .repo import MODELING, config_with, write_repo

QA_HEAD = "\n\nclass ToyForQuestionAnswering(ToyPreTrainedModel):\n    pass\n"


@pytest.mark.parametrize(("labels", "expected"), [(3, {"HFC116"}), (2, {"HFC104"})])
def test_question_answering_head_with_other_num_labels(
    tmp_path: Path, labels: int, expected: set[str]
) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {"modeling_toy.py": MODELING + QA_HEAD, "config.json": config_with(num_labels=labels)},
    )
    report = doctor(repo)
    ids = {f.id for f in report.findings}
    assert "HFC699" not in ids, report.findings
    assert expected <= ids
    assert not {"HFC116", "HFC104"} - expected & ids
