"""A tokenizer-only package (tokenizer code + tokenizer_config.json, a config.json without
model_type, no config class) is sound: doctor reports no error."""

from __future__ import annotations

import json
from pathlib import Path

from hf_custom.diagnosis import doctor

TOKENIZER = """\
from transformers import PreTrainedTokenizer


class TinyTokenizer(PreTrainedTokenizer):
    def __init__(self, **kwargs):
        self.vocab = {"<pad>": 0, "a": 1}
        super().__init__(**kwargs)

    def get_vocab(self):
        return dict(self.vocab)
"""


def test_tokenizer_only_package_has_no_errors(tmp_path: Path) -> None:
    (tmp_path / "tokenization_tiny.py").write_text(TOKENIZER)
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "TinyTokenizer",
                "auto_map": {"AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None]},
            }
        )
    )
    (tmp_path / "config.json").write_text("{}")
    report = doctor(tmp_path)
    errors = [f for f in report.findings if f.severity.name == "ERROR"]
    assert not errors, errors
    assert any("tokenizer-only" in str(s) for s in report.skipped)


def test_a_model_config_without_a_config_class_is_still_an_error(tmp_path: Path) -> None:
    (tmp_path / "tokenization_tiny.py").write_text(TOKENIZER)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "tiny-zz"}))
    report = doctor(tmp_path)
    assert "HFC112" in {f.id for f in report.findings}
