"""A generated causal LM decodes with the research module's own key/value cache, in the three
common styles (returned by forward, held by the module with a reset, placed by `start_pos`),
and generate() gives what the module's own greedy decoding gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cache_sources as sources
import pytest
from wrap_sources import ruff_clean

from hf_custom.wrapping import wrap

HERE = Path(__file__).parent
STYLES = {
    "returned": (sources.RETURNED, "CachedGPT"),
    "held": (sources.HELD, "HeldLM"),
    "positioned": (sources.POSITIONED, "Transformer"),
    "masked": (sources.MASKED, "HfStyleLM"),
}

# forward takes a cache but ignores it (recomputes nothing, returns only the new tokens'
# logits): decoding with it differs from full forwards, so it must not be used
IGNORED_CACHE = (
    sources.COMMON
    + """

class Lm(nn.Module):
    def __init__(self, vocab_size=29, width=16):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, width)
        self.qkv = nn.Linear(width, 3 * width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx, past_key_values=None):
        q, k, v = self.qkv(self.emb(idx))[:, None].split(self.emb.embedding_dim, dim=-1)
        y = attend(q, k, v, causal=True)[:, 0]
        return self.head(y), past_key_values
"""
)


def _write(tmp_path: Path, style: str, text: str | None = None) -> Path:
    src = tmp_path / "src" / f"{style}_lm.py"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(text if text is not None else STYLES[style][0])
    return src


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("returned", ("returned", "kv_cache", (2,), None, None, None, True)),
        ("held", ("held", None, None, "use_cache", None, "reset_cache", False)),
        ("positioned", ("held", None, None, None, "start_pos", None, False)),
        (
            "masked",
            ("returned", "past_key_values", ("past_key_values",), "use_cache", None, None, True),
        ),
    ],
)
def test_cache_style_found_and_generated(tmp_path: Path, style: str, expected: tuple) -> None:
    src = _write(tmp_path, style)
    out = tmp_path / "out"
    result = wrap(f"{src}:{STYLES[style][1]}", out=out, name=f"kv-{style}", verify=False)
    c = result.forward.cache
    assert c is not None, result.forward.cache_note
    got = (c.style, c.cache_arg, c.cache_path, c.flag_arg, c.position_arg, c.reset, c.reorderable)
    assert got == expected
    config = json.loads((out / "config.json").read_text())
    assert config["use_cache"] is True
    assert any("own key/value cache" in n for n in result.notes)
    modeling = (out / f"modeling_kv_{style}.py").read_text()
    assert "def _supports_default_dynamic_cache(cls) -> bool:" in modeling
    if style == "positioned":  # a required start_pos is 0 outside generate
        assert result.forward.fixed_args == (("start_pos", 0),)
        assert "start_pos=0" in modeling and "start_pos=cache.seen" in modeling
        assert "self._restore_plain_tensors()" in modeling  # the preallocated cache tensors
    if style == "masked":  # the mask it takes covers the cached and the new tokens
        assert (c.mask_arg, c.mask_style, c.mask_span) == ("attention_mask", "keep", "all")
        assert "attention_mask=mask" in modeling
    ruff_clean([out / f"modeling_kv_{style}.py", out / f"configuration_kv_{style}.py"])


def test_cache_that_does_not_reproduce_full_forwards_is_not_used(tmp_path: Path) -> None:
    src = _write(tmp_path, "ignored", IGNORED_CACHE)
    out = tmp_path / "out"
    result = wrap(f"{src}:Lm", out=out, verify=False)
    assert result.forward.cache is None and result.tasks == ("causal-lm",)
    assert result.forward.cache_note is not None
    assert "`past_key_values`" in result.forward.cache_note
    assert json.loads((out / "config.json").read_text())["use_cache"] is False
    assert "_run_cached" not in (out / "modeling_lm.py").read_text()


def _generate_in_fresh_process(folder: Path, src: Path, cls: str, tmp: Path) -> dict:
    env = dict(os.environ)
    env["HF_HOME"] = str(tmp / "child_home")
    env["HF_MODULES_CACHE"] = str(tmp / "child_home" / "modules")
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run(
        [sys.executable, str(HERE / "cache_child.py"), str(folder), str(src), cls],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("style", sorted(STYLES))
def test_generate_with_cache_equals_research_greedy(tmp_path: Path, style: str) -> None:
    src = _write(tmp_path, style)
    out = tmp_path / "out"
    result = wrap(f"{src}:{STYLES[style][1]}", out=out, name=f"kv-{style}")
    assert result.verification is not None
    assert result.verification.ok, [str(f) for f in result.verification.findings]
    report = _generate_in_fresh_process(out, src, STYLES[style][1], tmp_path)
    for run, prompt in (("run0", 5), ("run1", 3)):  # a second generate starts clean
        got = report[run]
        assert got["cached"] == got["research"] == got["plain"]
        # the prompt once, then one new token a step: the cache is really used
        assert got["cached_lengths"] == [prompt] + [1] * 7
    if style in ("returned", "masked"):  # beams reorder a returned cache
        assert report["beam_cached"] == report["beam_plain"]
    else:
        assert "use_cache=False" in report["beam_error"]


def test_cli_reports_the_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hf_custom.cli.main import main

    src = _write(tmp_path, "returned")
    argv = ["wrap", f"{src}:CachedGPT", "--out", str(tmp_path / "o1"), "--no-verify"]
    assert main([*argv, "--name", "kv-cli"]) == 0
    out = capsys.readouterr().out
    assert "key/value cache: the module's own, returned (`kv_cache`), beam search too" in out
    argv = ["wrap", f"{src}:CachedGPT", "--out", str(tmp_path / "o2"), "--no-verify"]
    assert main([*argv, "--name", "kv-cli", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["module"]["kv_cache"] == {
        "style": "returned",
        "cache_argument": "kv_cache",
        "flag_argument": None,
        "position_argument": None,
        "reset": None,
        "beam_search": True,
    }
