"""A fine-tune whose code lives in another repository (auto_map ``org/repo--module.Class``, no
``.py`` files) is verified with that repository's code, downloaded from the same endpoint (code
files only) into a cache the offline child resolves as users' transformers does. Against the
embedded Hub: present -> publishes verified; absent -> HFC537 naming it; doctor REPO_ID too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hf_custom.verification.references import code_references, relative_imports

CONFIGURATION = """\
from transformers import PretrainedConfig


class ProbeConfig(PretrainedConfig):
    model_type = "probe-ref"

    def __init__(self, vocab_size=20, hidden_size=8, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""

LAYERS = """\
import torch


class Block(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lin = torch.nn.Linear(hidden, hidden)

    def forward(self, x):
        return torch.tanh(self.lin(x))
"""

MODELING = """\
import torch
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput

from .configuration_probe import ProbeConfig
from .layers_probe import Block


class ProbeModel(PreTrainedModel):
    config_class = ProbeConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.block = Block(config.hidden_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        return BaseModelOutput(last_hidden_state=self.block(self.embed(input_ids)))
"""


def _code_repo(hub: Any, name: str = "probe-code") -> str:
    repo_id = f"{hub.user}/{name}"
    api = hub.api()
    api.create_repo(repo_id)
    for path, text in (
        ("configuration_probe.py", CONFIGURATION),
        ("layers_probe.py", LAYERS),
        ("modeling_probe.py", MODELING),
        ("pytorch_model.bin", "weights the verification must never download"),
    ):
        api.upload_file(path_or_fileobj=text.encode(), path_in_repo=path, repo_id=repo_id)
    return repo_id


def _fine_tune(root: Path, code_repo: str, *, module: str = "modeling_probe") -> Path:
    import torch

    root.mkdir(parents=True)
    cfg = {
        "model_type": "probe-ref",
        "vocab_size": 20,
        "hidden_size": 8,
        "architectures": ["ProbeModel"],
        "auto_map": {
            "AutoConfig": f"{code_repo}--configuration_probe.ProbeConfig",
            "AutoModel": f"{code_repo}--{module}.ProbeModel",
        },
    }
    (root / "config.json").write_text(json.dumps(cfg, indent=2))
    gen = torch.Generator().manual_seed(0)
    state = {
        "embed.weight": torch.randn(20, 8, generator=gen),
        "block.lin.weight": torch.randn(8, 8, generator=gen),
        "block.lin.bias": torch.randn(8, generator=gen),
    }
    torch.save(state, root / "pytorch_model.bin")
    return root


def test_code_references_and_relative_imports() -> None:
    refs = code_references(
        {"AutoConfig": "a/b--configuration_x.XConfig", "AutoModel": "modeling_x.XModel"},
        {"AutoTokenizer": ["a/b--tokenization_x.XTok", None], "AutoModel": "c/d--m.Y"},
    )
    assert [(r.repo_id, r.modules, r.keys) for r in refs] == [
        ("a/b", ("configuration_x", "tokenization_x"), ("AutoConfig", "AutoTokenizer")),
        ("c/d", ("m",), ("AutoModel",)),
    ]
    assert code_references({"AutoModel": "modeling_x.XModel"}) == ()
    assert relative_imports(MODELING) == ["configuration_probe", "layers_probe"]
    assert relative_imports("from . import x\nfrom .a.b import c\nimport os\n(") == []
    assert relative_imports("from . import x\nfrom .a.b import c\n") == ["a"]


@pytest.mark.slow
def test_referenced_code_is_fetched_and_verified(local_hub: Any, tmp_path: Path) -> None:
    from hf_custom import publish
    from hf_custom.diagnosis import doctor

    code_repo = _code_repo(local_hub)
    src = _fine_tune(tmp_path / "ft", code_repo)
    out = tmp_path / "out"
    result = publish(src, dry_run=True, out=out, endpoint=local_hub.url, token=local_hub.token)
    assert result.refused is None and result.verified, result.findings
    rows = {r.auto_class: r for r in result.verify.rows}
    assert rows["AutoModel"].class_name == "ProbeModel"
    assert rows["AutoModel"].weights_equal == "passed" and rows["AutoModel"].forward == "passed"
    assert not list(out.glob("*.py"))  # the references stay references
    # only the code files were read, never the code repository's weights
    read = {path for (rid, path), n in local_hub.stats.file_bytes.items() if rid == code_repo}
    assert read == {"configuration_probe.py", "layers_probe.py", "modeling_probe.py"}

    # --transformers (the matrix step verifies, once per version) reads the same code
    matrix = publish(
        src, dry_run=True, out=tmp_path / "out-matrix", endpoint=local_hub.url,
        token=local_hub.token, transformers=("installed",),
    )  # fmt: skip
    assert matrix.refused is None and matrix.matrix is not None and matrix.matrix.ok, (
        matrix.findings
    )

    # doctor REPO_ID --load: the published fine-tune, its code from the same endpoint
    api = local_hub.api()
    api.create_repo(f"{local_hub.user}/ft")
    api.upload_folder(repo_id=f"{local_hub.user}/ft", folder_path=str(out))
    report = doctor(
        f"{local_hub.user}/ft", endpoint=local_hub.url, token=local_hub.token, load=True,
        trust_remote_code=True,
    )  # fmt: skip
    assert report.verify is not None and report.verify.ok, report.verify.findings
    assert "HFC537" not in {f.id for f in report.findings}


def test_absent_code_repository_is_a_refusal_naming_it(local_hub: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from hf_custom import publish

    missing = f"{local_hub.user}/no-such-code"
    src = _fine_tune(tmp_path / "ft", missing)
    result = publish(src, dry_run=True, endpoint=local_hub.url, token=local_hub.token)
    assert result.refused is not None and not result.verified
    (f,) = [f for f in result.findings if f.id == "HFC537"]
    assert missing in f.message and f.severity.value == "error" and f.path == "config.json"
    assert {r.loaded for r in result.verify.rows} == {"skipped"}

    # the repository exists but lacks the module auto_map names
    code_repo = _code_repo(local_hub)
    src2 = _fine_tune(tmp_path / "ft2", code_repo, module="modeling_gone")
    result = publish(src2, dry_run=True, endpoint=local_hub.url, token=local_hub.token)
    (f,) = [f for f in result.findings if f.id == "HFC537"]
    assert code_repo in f.message and "modeling_gone.py" in f.message, f.message
