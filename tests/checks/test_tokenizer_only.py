"""A tokenizer-only package (tokenizer code + tokenizer_config.json, with a config.json that
names no model, or none at all) is sound: doctor reports no error, publish stages it without
inventing a config.json, and verification loads the tokenizer only. Ground truth: plain
``AutoTokenizer.from_pretrained(dir, trust_remote_code=True)`` loads such a folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.errors import InputError

TOKENIZER = """\
from transformers import PreTrainedTokenizer


class TinyTokenizer(PreTrainedTokenizer):
    vocab_files_names = {"vocab_file": "vocab.txt"}

    def __init__(self, vocab_file=None, **kwargs):
        self.vocab = {"<pad>": 0, "a": 1, "b": 2, " ": 3}
        super().__init__(**kwargs)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def get_vocab(self):
        return dict(self.vocab)

    def _tokenize(self, text):
        return list(text)

    def _convert_token_to_id(self, token):
        return self.vocab.get(token, 0)

    def _convert_id_to_token(self, index):
        return {v: k for k, v in self.vocab.items()}.get(index, "<pad>")

    def convert_tokens_to_string(self, tokens):
        return "".join(tokens)
"""

MODEL = """\
from transformers import PretrainedConfig, PreTrainedModel


class TinyConfig(PretrainedConfig):
    model_type = "tiny-zz"


class TinyModel(PreTrainedModel):
    config_class = TinyConfig
"""


def tokenizer_package(root: Path, *, config: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tokenization_tiny.py").write_text(TOKENIZER)
    (root / "vocab.txt").write_text("a\nb\n")
    (root / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "TinyTokenizer",
                "pad_token": "<pad>",
                "auto_map": {"AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None]},
            }
        )
    )
    if config is not None:
        (root / "config.json").write_text(config)
    return root


def _errors(report: object) -> list[object]:
    return [f for f in report.findings if f.severity.name == "ERROR"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("config", [None, "{}"], ids=["no-config-json", "empty-config-json"])
def test_tokenizer_only_package_has_no_errors(tmp_path: Path, config: str | None) -> None:
    report = doctor(tokenizer_package(tmp_path / "tok", config=config))
    assert not _errors(report), report.findings
    assert any("tokenizer-only" in str(s) for s in report.skipped)


def test_a_model_config_without_a_config_class_is_still_an_error(tmp_path: Path) -> None:
    root = tokenizer_package(tmp_path / "tok", config=json.dumps({"model_type": "tiny-zz"}))
    assert "HFC112" in {f.id for f in doctor(root).findings}


def test_model_code_without_config_json_is_still_hfc100(tmp_path: Path) -> None:
    root = tokenizer_package(tmp_path / "tok")
    (root / "modeling_tiny.py").write_text(MODEL)
    assert "HFC100" in {f.id for f in _errors(doctor(root))}


def test_weights_without_config_json_is_still_hfc100(tmp_path: Path) -> None:
    root = tokenizer_package(tmp_path / "tok")
    (root / "model.safetensors").write_bytes(b"\x00" * 16)
    assert "HFC100" in {f.id for f in doctor(root).findings}


@pytest.mark.parametrize("config", [None, "{}"], ids=["no-config-json", "empty-config-json"])
def test_stage_keeps_a_tokenizer_only_package_as_it_is(tmp_path: Path, config: str | None) -> None:
    from hf_custom.staging.pipeline import stage

    src = tokenizer_package(tmp_path / "tok", config=config)
    result = stage(src, out=tmp_path / "out")
    assert not [f for f in result.findings if f.severity.name == "ERROR"], result.findings
    assert ("config.json" in result.files) is (config is not None)  # none invented
    assert {"tokenization_tiny.py", "tokenizer_config.json", "vocab.txt"} <= set(result.files)
    assert "weights" in result.steps and result.weights is None
    assert not [c for c in result.changes if c.file == "config.json"]
    card = (tmp_path / "out" / "README.md").read_text()
    assert 'AutoTokenizer.from_pretrained("YOUR-NAMESPACE/out", trust_remote_code=True)' in card
    assert "AutoConfig" not in card and "This tokenizer ships its own code" in card
    assert "| AutoTokenizer | `tokenization_tiny.TinyTokenizer` |" in card


def test_stage_refuses_model_code_without_config_json(tmp_path: Path) -> None:
    from hf_custom.staging.pipeline import stage

    src = tokenizer_package(tmp_path / "tok")
    (src / "modeling_tiny.py").write_text(MODEL)
    with pytest.raises(InputError) as exc:
        stage(src, out=tmp_path / "out")
    assert "HFC100" in {f.id for f in exc.value.findings}


@pytest.mark.slow
@pytest.mark.parametrize("config", [None, "{}"], ids=["no-config-json", "empty-config-json"])
def test_publish_verifies_the_tokenizer_only(tmp_path: Path, config: str | None) -> None:
    from hf_custom import publish

    src = tokenizer_package(tmp_path / "tok", config=config)
    result = publish(src, dry_run=True, out=tmp_path / "out")
    assert result.verify is not None and result.verify.ok, result.verify
    assert [r.auto_class for r in result.verify.rows] == ["AutoTokenizer"]
    assert result.verify.rows[0].class_name == "TinyTokenizer"


@pytest.mark.usefixtures("git_identity")
def test_pre_commit_hook_lets_a_tokenizer_only_package_through(tmp_path: Path) -> None:
    from hf_custom import hooks

    repo = tokenizer_package(tmp_path / "repo")
    (repo / "README.md").write_text("---\nlibrary_name: transformers\n---\n# tok\n")

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)

    git("init", "-q")
    hooks.install(repo, hook_type="pre-commit")
    git("add", "-A")
    done = git("commit", "-m", "tokenizer")
    assert done.returncode == 0, done.stderr
    (repo / "modeling_tiny.py").write_text(MODEL)  # now a model without config.json
    git("add", "-A")
    blocked = git("commit", "-m", "model")
    assert blocked.returncode != 0 and "HFC100" in blocked.stderr, blocked.stderr


@pytest.mark.slow
def test_doctor_load_verifies_the_tokenizer_without_placeholder_weights(tmp_path: Path) -> None:
    # before: --load wrote placeholder weights from a config.json that was not there (a crash)
    report = doctor(tokenizer_package(tmp_path / "tok"), load=True, trust_remote_code=True)
    assert not _errors(report), report.findings
    assert report.verify is not None
    assert [r.auto_class for r in report.verify.rows] == ["AutoTokenizer"]


def test_verify_refuses_weights_without_config_json(tmp_path: Path) -> None:
    # a model folder that lost its config.json is not verified as a tokenizer
    from hf_custom.verification import verify

    root = tokenizer_package(tmp_path / "tok")
    (root / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(InputError, match=r"no config\.json"):
        verify(root)
