"""config.json has one plan: the keys step's final plan replaces the config step's provisional
one, so a config finding is reported once, and never one the final plan settled."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tiny_checkpoint import HIDDEN, VOCAB, make_checkpoint

from hf_custom.staging.pipeline import stage


def test_a_config_finding_is_reported_once_and_only_if_final(tmp_path: Path) -> None:
    config = {
        "vocab_size": VOCAB,
        "hidden_size": HIDDEN,
        "architectures": ["NotAModelClass"],  # provisional plan: HFC107; the weights settle it
        "torch_dtype": "float32",
    }
    ckpt = make_checkpoint(tmp_path / "ckpt", config=config)
    result = stage(ckpt, out=tmp_path / "out")
    ids = Counter(f.id for f in result.findings)
    assert "HFC107" not in ids, result.findings  # settled by the final plan: not reported
    arch = [c for c in result.changes if c.key == "architectures"]
    assert len(arch) == 1 and arch[0].old == ["NotAModelClass"], result.changes
    assert result.architecture == arch[0].new[0]
    assert all(n == 1 for n in Counter(result.findings).values())
