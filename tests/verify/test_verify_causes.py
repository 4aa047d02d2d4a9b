"""Fix texts that name the cause: the child's helpers, called directly on tiny real objects.

The child modules are standalone scripts (they never import hf_custom); they are imported here
from their folder, as the child imports them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import hf_custom.verification

sys.path.insert(0, str(Path(hf_custom.verification.__file__).parent))
torch = pytest.importorskip("torch")

import child_model  # noqa: E402
from child_inputs import build_inputs  # noqa: E402


def test_question_answering_names_num_labels() -> None:
    cause = child_model.forward_cause(
        "AutoModelForQuestionAnswering", SimpleNamespace(num_labels=3)
    )
    assert cause is not None and "num_labels is 3" in cause[0] and "num_labels=2" in cause[1]
    assert (
        child_model.forward_cause("AutoModelForQuestionAnswering", SimpleNamespace(num_labels=2))
        is None
    )


def test_nan_names_the_uninitialised_tensor_first() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    with torch.no_grad():
        model[1].bias.fill_(float("nan"))
    why, fix = child_model._nan_suspects(model, ("0.weight",))
    assert "1.bias" in why and "0.weight" not in why and fix and "_init_weights" in fix
    with torch.no_grad():
        model[1].bias.zero_()
    why, _ = child_model._nan_suspects(model, ("0.weight",))
    assert "newly initialised" in why and "0.weight" in why


class _Text(torch.nn.Module):
    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None):
        return input_ids


def test_text_inputs_end_in_eos_and_avoid_special_tokens() -> None:
    config = SimpleNamespace(
        vocab_size=50, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        is_encoder_decoder=True, max_position_embeddings=64,
    )  # fmt: skip
    inputs, why = build_inputs(_Text(), config, "AutoModelForSequenceClassification")
    assert inputs is not None and not why
    ids = inputs["input_ids"]
    assert ids.shape == (2, 8)
    # one eos per row (heads pooling on eos need exactly that), the second row padded
    assert [(row == 1).sum().item() for row in ids] == [1, 1]
    assert ids[1, -2:].tolist() == [0, 0] and inputs["attention_mask"][1, -2:].tolist() == [0, 0]
    assert "decoder_input_ids" not in inputs  # classification heads build them from input_ids
    seq2seq, _ = build_inputs(_Text(), config, "AutoModelForSeq2SeqLM")
    assert seq2seq is not None and seq2seq["decoder_input_ids"][:, 0].tolist() == [0, 0]
    # without a pad token, one row: batched sequence classification needs one
    no_pad = SimpleNamespace(vocab_size=50, eos_token_id=1, max_position_embeddings=64)
    single, _ = build_inputs(_Text(), no_pad, "AutoModelForSequenceClassification")
    assert single is not None and single["input_ids"].shape == (1, 8)


class _Vision(torch.nn.Module):
    def forward(self, pixel_values=None):
        return pixel_values


def test_vision_and_audio_inputs_from_the_config() -> None:
    vision, _ = build_inputs(
        _Vision(), SimpleNamespace(image_size=[16, 24], num_channels=1), "AutoModel"
    )
    assert vision is not None and vision["pixel_values"].shape == (2, 1, 16, 24)
    none, why = build_inputs(_Vision(), SimpleNamespace(), "AutoModel")
    assert none is None and "image_size" in why


class _Speech(torch.nn.Module):
    """A speech encoder-decoder's forward (Whisper's contract)."""

    def forward(self, input_features=None, decoder_input_ids=None):
        return input_features


class _SpeechEncoder(torch.nn.Module):
    """The audio-classification head of the same family: encoder only."""

    def __init__(self, config: object) -> None:
        super().__init__()
        self.config = config

    def forward(self, input_features=None):
        return input_features


def test_speech_encoder_decoder_gets_decoder_input_ids() -> None:
    config = SimpleNamespace(
        vocab_size=40, num_mel_bins=8, max_source_positions=16, decoder_start_token_id=3,
        pad_token_id=0, eos_token_id=2, is_encoder_decoder=True,
    )  # fmt: skip
    inputs, why = build_inputs(_Speech(), config, "AutoModelForSpeechSeq2Seq")
    assert inputs is not None and not why
    assert inputs["input_features"].shape == (2, 8, 32)
    dec = inputs["decoder_input_ids"]
    assert dec.shape[0] == 2 and dec[:, 0].tolist() == [3, 3]
    assert int(dec.min()) >= 0 and int(dec.max()) < 40
    # the family's encoder-only head takes no decoder inputs
    encoder, _ = build_inputs(_SpeechEncoder(config), config, "AutoModelForAudioClassification")
    assert encoder is not None and set(encoder) == {"input_features"}


def _whisper(head: str) -> tuple[object, object]:
    transformers = pytest.importorskip("transformers")
    config = transformers.WhisperConfig(
        vocab_size=40, num_mel_bins=8, d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=16,
        decoder_ffn_dim=16, max_source_positions=8, max_target_positions=16,
        decoder_start_token_id=1, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        suppress_tokens=None, begin_suppress_tokens=None,
    )  # fmt: skip
    torch.manual_seed(0)
    shared = type(config).from_dict(config.to_dict())  # the run's AutoConfig, not the model's
    return getattr(transformers, head)(config).eval(), shared


@pytest.mark.parametrize(
    ("head", "auto_class"),
    [
        # a decoder-only head of an encoder-decoder family: its own config says decoder-only
        ("WhisperForCausalLM", "AutoModelForCausalLM"),
        ("WhisperForConditionalGeneration", "AutoModelForSpeechSeq2Seq"),
    ],
)
def test_generate_is_judged_by_the_models_own_family(
    head: str, auto_class: str, tmp_path: Path
) -> None:
    model, shared = _whisper(head)
    assert shared.is_encoder_decoder  # type: ignore[attr-defined]
    rep = child_model.Reporter(str(tmp_path / "result.jsonl"))
    inputs, why = build_inputs(model, shared, auto_class)
    assert inputs is not None, why
    with torch.no_grad():
        model(**inputs)  # the forward takes what was built (no missing decoder inputs)
    status, detail = child_model.run_generate(rep, model, shared, inputs, cls_name=head)
    findings = (tmp_path / "result.jsonl").read_text()
    assert (status, detail, findings) == ("passed", "", "")


def test_missing_config_attribute_names_its_cause(tmp_path: Path) -> None:
    import child_diagnose

    transformers = pytest.importorskip("transformers")

    class Cfg(transformers.PretrainedConfig):
        model_type = "hfc-cause-test"

        def __init__(self, gradient_checkpointing: bool = False, **kwargs: object) -> None:
            self.gradient_checkpointing = gradient_checkpointing
            super().__init__(**kwargs)

    Cfg(gradient_checkpointing=True).save_pretrained(tmp_path)
    saved = (child_diagnose.STAGED, child_diagnose.V4_BASE_DEFAULTS)
    child_diagnose.STAGED = str(tmp_path)
    child_diagnose.V4_BASE_DEFAULTS = frozenset({"use_cache"})
    try:
        assert "v5 no longer sets it" in child_diagnose._missing_why(Cfg, "use_cache")
        assert "deleted from this config object" in child_diagnose._missing_why(
            Cfg, "gradient_checkpointing"
        )
        assert child_diagnose._missing_why(Cfg, "rope_theta").startswith("Neither config.json")
    finally:
        child_diagnose.STAGED, child_diagnose.V4_BASE_DEFAULTS = saved


def test_exception_in_transformers_code_names_the_config_values() -> None:
    # transformers' own GPT-2 attention (what a fork runs unchanged) refuses 16 / 3 heads
    import child_cause

    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_embd=16, n_head=3, n_layer=1, vocab_size=50)
    with pytest.raises(ValueError) as info:
        transformers.GPT2Model(config)
    cause = child_cause.config_cause(info.value)
    assert cause is not None
    assert "hidden_size=16 is not divisible by num_attention_heads=3" in cause[0]
    assert "num_attention_heads" in cause[1]


def test_failing_line_names_the_config_reads(tmp_path: Path) -> None:
    # a pad token id outside the vocabulary: torch's Embedding refuses it, called from
    # transformers' Llama code; the cause names the values that line reads from the config
    import child_cause

    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, pad_token_id=40,
    )  # fmt: skip
    with pytest.raises(AssertionError) as info:  # torch's own assertion
        transformers.LlamaModel(config)
    where, facts, found = child_cause.line_reads(info.value)
    assert where.startswith("transformers/models/llama/modeling_llama.py:")
    assert "config.vocab_size=32" in facts and found is config
    cause = child_cause.config_cause(info.value)
    assert cause is not None and "pad_token_id=40 is outside the vocabulary" in cause[0]
    assert "vocab_size=32" in cause[0]
    # nothing to name: None, and the generic message stays
    assert child_cause.config_cause(RuntimeError("plain")) is None


ROPE_MODULE = """\
from transformers import PretrainedConfig


class RopeConfig(PretrainedConfig):
    model_type = "rope-cause-test"

    def __init__(self, rope_scaling=None, attn_impl="sdpa", **kwargs):
        self.rope_scaling = rope_scaling
        self.attn_impl = attn_impl
        super().__init__(**kwargs)


class Attention:
    def __init__(self, config):
        self.config = config
        self._init_rope()

    def _init_rope(self):
        scaling_type = self.config.rope_scaling["rope_type"]
        if scaling_type == "linear":
            return
        raise ValueError(f"Unknown RoPE scaling type {scaling_type}")


class Layer:
    def __init__(self, config):
        self.attn = {"sdpa": Attention}[config.attn_impl](config)
"""


def test_cause_comes_from_the_innermost_author_frame(tmp_path: Path) -> None:
    """A raise line that reads nothing (MiniCPM's ``_init_rope``): its function's config reads
    and the line's own values are the cause, not the caller's ``config.attn_impl``."""
    import importlib.util

    import child_cause

    pytest.importorskip("transformers")
    path = tmp_path / "modeling_rope.py"
    path.write_text(ROPE_MODULE)
    spec = importlib.util.spec_from_file_location("modeling_rope_cause", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.RopeConfig(rope_scaling={"rope_type": "default", "rope_theta": 10000.0})
    with pytest.raises(ValueError) as info:
        module.Layer(config)
    where, facts, _ = child_cause.line_reads(info.value, staged=str(tmp_path))
    assert where.startswith("modeling_rope.py:") and where.endswith("in _init_rope()"), where
    assert "scaling_type='default'" in facts
    assert any(f.startswith("config.rope_scaling={'rope_type': 'default'") for f in facts)
    assert not any("attn_impl" in f for f in facts), facts
    cause = child_cause.config_cause(info.value, staged=str(tmp_path))
    assert cause is not None and "config.rope_scaling=" in cause[0] and "rope_scaling" in cause[1]


SIGNATURE_MODULE = """\
class PreTrained:
    initializer_range = 0.02

    def post_init(self):
        self.tie_weights(recompute_mapping=False)


class NomicLike(PreTrained):
    def __init__(self, config):
        self.config = config
        self.post_init()

    def tie_weights(self):
        return None
"""


def test_signature_mismatch_is_named_not_a_config_value(tmp_path: Path) -> None:
    """nomic-bert's ``tie_weights()`` override without the ``recompute_mapping`` argument
    transformers passes: the cause is the override's signature, not config.initializer_range."""
    import importlib.util

    import child_cause

    transformers = pytest.importorskip("transformers")
    path = tmp_path / "modeling_sig.py"
    path.write_text(SIGNATURE_MODULE)
    spec = importlib.util.spec_from_file_location("modeling_sig_cause", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["modeling_sig_cause"] = module
    spec.loader.exec_module(module)
    config = transformers.PretrainedConfig(initializer_range=0.02)
    with pytest.raises(TypeError) as info:
        module.NomicLike(config)
    cause = child_cause.config_cause(info.value, config, staged=str(tmp_path))
    assert cause is not None
    assert cause[0].startswith("NomicLike.tie_weights() (modeling_sig.py:13) does not accept"), (
        cause
    )
    assert "unexpected keyword argument 'recompute_mapping'" in cause[0]
    assert "at modeling_sig.py:5" in cause[0] and "config." not in cause[0]
    assert "recompute_mapping" in cause[1] and "initializer_range" not in cause[1]
    assert child_cause.signature_cause(ValueError("x() takes 1 positional argument")) is None
