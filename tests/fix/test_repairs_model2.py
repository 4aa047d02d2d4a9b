"""HFC263 (_init_weights overwriting loaded weights by name) and HFC264 (removed private
GenerationMixin methods): detection, repair, idempotence and the helpers' behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

ATTENTION = (
    "class Attention(nn.Module):\n"
    "    def __init__(self, dim):\n"
    "        super().__init__()\n"
    "        self.c_proj = nn.Linear(dim, dim)\n"
    '        self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)\n\n\n'
)
BY_NAME = (
    "    def _init_weights(self, module):\n"
    '        """Initialize the weights."""\n'
    "        if isinstance(module, nn.Linear):\n"
    "            module.weight.data.normal_(mean=0.0, std=0.02)\n"
    "        for name, p in module.named_parameters():\n"
    '            if name == "c_proj.weight":\n'
    "                p.data.normal_(mean=0.0, std=0.01)\n"
)
BROKEN = MODELING.replace(
    "class ToyPreTrainedModel(", ATTENTION + "class ToyPreTrainedModel("
).replace('    base_model_prefix = "model"\n', '    base_model_prefix = "model"\n\n' + BY_NAME)
# the same loop without any non-persistent buffer: v5 never calls it on a loaded module
NO_BUFFER = BROKEN.replace(", persistent=False)", ")")


def _files(modeling: str) -> dict[str, bytes]:
    return {"modeling_toy.py": modeling.encode(), "configuration_toy.py": CONFIGURATION.encode()}


def _ids(tmp_path: Path, modeling: str, rule: str) -> list[str]:
    return [f.id for f in doctor(write_repo(tmp_path, _files(modeling)), select=[rule]).findings]


def test_by_name_init_fails_then_passes(tmp_path: Path) -> None:
    assert _ids(tmp_path / "before", BROKEN, "HFC263") == ["HFC263"]
    plan = plan_fixes(_files(BROKEN), config=CONFIG, rules={"HFC263"})
    assert [r.rule for r in plan.repairs] == ["HFC263"] and not plan.unrepaired
    fixed = {**_files(BROKEN), **{c.path: c.after for c in plan.changes}}
    assert "hf_custom_compat.py" in fixed
    text = fixed["modeling_toy.py"].decode()
    assert (
        '        """Initialize the weights."""\n'
        "        if loaded_from_checkpoint(module):  # v5 calls this on loaded modules "
        "(hf-custom fix)\n            return\n        if isinstance(module, nn.Linear):\n" in text
    )
    assert "from .hf_custom_compat import loaded_from_checkpoint\n" in text
    assert _ids(tmp_path / "after", text, "HFC263") == []
    assert not plan_fixes(fixed, config=CONFIG, rules={"HFC263"}).changes  # idempotent
    every = plan_fixes(_files(BROKEN), config=CONFIG)  # with HFC262's repair too
    all_fixed = {**_files(BROKEN), **{c.path: c.after for c in every.changes}}
    assert not plan_fixes(all_fixed, config=CONFIG).changes
    # no false alarm: without a non-persistent buffer, v5 skips loaded modules like v4
    assert _ids(tmp_path / "nobuffer", NO_BUFFER, "HFC263") == []
    assert not plan_fixes(_files(NO_BUFFER), config=CONFIG, rules={"HFC263"}).changes


def test_guard_comes_after_the_buffer_restore() -> None:
    # HFC262 and HFC263 in one run, and HFC263 alone on code HFC262 already repaired
    both = plan_fixes(_files(BROKEN), config=CONFIG, rules={"HFC262", "HFC263"})
    text = {c.path: c.after for c in both.changes}["modeling_toy.py"].decode()
    restore = text.index("restore_non_persistent_buffers(module)")
    assert restore < text.index("if loaded_from_checkpoint(module):")
    first = plan_fixes(_files(BROKEN), config=CONFIG, rules={"HFC262"})
    step = {**_files(BROKEN), **{c.path: c.after for c in first.changes}}
    second = plan_fixes(step, config=CONFIG, rules={"HFC263"})
    text2 = {c.path: c.after for c in second.changes}["modeling_toy.py"].decode()
    body = text[text.index("    def _init_weights") :]
    assert text2[text2.index("    def _init_weights") :] == body


def test_loaded_from_checkpoint_follows_v4s_rule() -> None:
    torch = pytest.importorskip("torch")
    from hf_custom.fixing.hf_custom_compat import loaded_from_checkpoint

    class Attn(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.c_proj = torch.nn.Linear(2, 2)
            self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)
            self.register_buffer("kept", torch.ones(2))

    attn = Attn()
    assert not loaded_from_checkpoint(attn)  # built from a config: initialise as before
    attn.c_proj.weight._is_hf_initialized = True
    attn.c_proj.bias._is_hf_initialized = True
    assert not loaded_from_checkpoint(attn)  # a persistent buffer is still missing
    attn.kept._is_hf_initialized = True
    assert loaded_from_checkpoint(attn)  # the non-persistent buffer never counts
    assert not loaded_from_checkpoint(torch.nn.GELU())  # nothing loaded, nothing skipped


CALLS = MODELING.replace(
    "        return BaseModelOutput(last_hidden_state=self.embed(input_ids))\n",
    "        return BaseModelOutput(last_hidden_state=self.embed(input_ids))\n\n"
    "    def _update_model_kwargs_for_generation(self, outputs, model_kwargs, **kwargs):\n"
    '        model_kwargs["past_key_values"] = self._extract_past_from_model_output(\n'
    "            outputs, standardize_cache_format=False\n"
    "        )\n"
    "        return model_kwargs\n",
)


def test_extract_past_fails_then_passes(tmp_path: Path) -> None:
    assert _ids(tmp_path / "before", CALLS, "HFC264") == ["HFC264"]
    plan = plan_fixes(_files(CALLS), config=CONFIG, rules={"HFC264"})
    assert [r.rule for r in plan.repairs] == ["HFC264"] and not plan.unrepaired
    fixed = {**_files(CALLS), **{c.path: c.after for c in plan.changes}}
    text = fixed["modeling_toy.py"].decode()
    assert "    def _extract_past_from_model_output(self, *args, **kwargs):" in text
    assert "from .hf_custom_compat import generation_extract_past_from_model_output" in text
    assert _ids(tmp_path / "after", text, "HFC264") == []
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
    assert _ids(tmp_path / "clean", MODELING, "HFC264") == []


def test_what_has_no_stand_in_is_named() -> None:
    warper = MODELING.replace(
        "        return BaseModelOutput(last_hidden_state=self.embed(input_ids))\n",
        "        warper = self._get_logits_warper(None)\n"
        "        return BaseModelOutput(last_hidden_state=self.embed(input_ids))\n",
    )
    left = plan_fixes(_files(warper), config=CONFIG, rules={"HFC264"})
    assert not left.changes and "_get_logits_warper" in left.unrepaired[0].cause
    assert "self._get_logits_processor(generation_config" in left.unrepaired[0].cause
    unpacked = CALLS.replace(
        '        model_kwargs["past_key_values"] = self._extract',
        "        name, model_kwargs[name] = self._extract",
    )
    left = plan_fixes(_files(unpacked), config=CONFIG, rules={"HFC264"})
    assert not left.changes and "4.42-4.43" in left.unrepaired[0].cause


def test_extract_past_stand_in_reads_the_cache_like_4_41() -> None:
    torch = pytest.importorskip("torch")
    from transformers.modeling_outputs import CausalLMOutputWithPast, ModelOutput

    from hf_custom.fixing.hf_custom_compat import generation_extract_past_from_model_output as f

    past = ((torch.ones(1, 2), torch.zeros(1, 2)),)
    out = CausalLMOutputWithPast(logits=torch.zeros(3, 1, 4), past_key_values=past)
    assert f(object(), out) is past
    assert f(object(), CausalLMOutputWithPast(logits=torch.zeros(1, 1, 4))) is None
    assert f(object(), ModelOutput(mems=past)) is past  # Transformer-XL style outputs

    class Bloom:
        def _convert_to_standard_cache(self, cache, batch_size):  # type: ignore[no-untyped-def]
            return ("standard", cache, batch_size)

    assert f(Bloom(), out, standardize_cache_format=True) == ("standard", past, 3)
    assert f(Bloom(), out) is past


TOKENIZER = """\
from transformers import PreTrainedTokenizer


class CharVocab:
    def __init__(self, chars):
        self.itos = ["<unk>", "<pad>", "</s>"] + list(chars)
        self.stoi = {c: i for i, c in enumerate(self.itos)}


class ToyCharTokenizer(PreTrainedTokenizer):
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, chars="abcdefgh ", padding_side="left", unk_token="<unk>", **kwargs):
        super().__init__(padding_side=padding_side, unk_token=unk_token, **kwargs)  # v4.33 ok
        self.chars = chars
        self.vocab = CharVocab(chars)  # the state get_vocab() needs
        self.padding_side = padding_side  # the base class sets it: stays after the call

    @property
    def vocab_size(self):
        return len(self.vocab.itos)

    def get_vocab(self):
        return dict(self.vocab.stoi)

    def _tokenize(self, text):
        return list(text)

    def _convert_token_to_id(self, token):
        return self.vocab.stoi.get(token, 0)

    def _convert_id_to_token(self, index):
        return self.vocab.itos[index]

    def convert_tokens_to_string(self, tokens):
        return "".join(tokens)
"""


def _tok_files(text: str) -> dict[str, bytes]:
    return {**_files(MODELING), "tokenization_toy.py": text.encode()}


def _instantiate(text: str, **kwargs: str):  # type: ignore[no-untyped-def]
    namespace: dict[str, object] = {}
    exec(compile(text, "tokenization_toy.py", "exec"), namespace)  # the package's own code
    return namespace["ToyCharTokenizer"](**kwargs)  # type: ignore[operator]


def test_tokenizer_attributes_move_before_super_init(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    with pytest.raises((AttributeError, TypeError)):
        _instantiate(TOKENIZER)  # the installed transformers calls get_vocab() in __init__
    before = doctor(write_repo(tmp_path / "before", _tok_files(TOKENIZER)), select=["HFC265"])
    assert [f.id for f in before.findings] == ["HFC265"]
    plan = plan_fixes(_tok_files(TOKENIZER), config=CONFIG, rules={"HFC265"})
    assert [r.rule for r in plan.repairs] == ["HFC265"] and not plan.unrepaired
    fixed = {c.path: c.after for c in plan.changes}["tokenization_toy.py"].decode()
    assert (
        "        self.chars = chars\n"
        "        self.vocab = CharVocab(chars)  # the state get_vocab() needs\n"
        "        super().__init__(padding_side=padding_side, unk_token=unk_token, **kwargs)  # v4.33 "
        "ok\n        self.padding_side = padding_side" in fixed
    )
    tok = _instantiate(fixed, pad_token="<pad>")
    assert tok("abc")["input_ids"] == [3, 4, 5] and tok.decode([3, 4, 5]) == "abc"
    assert tok.padding_side == "left" and tok.pad_token_id == 1
    after = doctor(write_repo(tmp_path / "after", _tok_files(fixed)), select=["HFC265"])
    assert not after.findings
    assert not plan_fixes(_tok_files(fixed), config=CONFIG).changes  # idempotent


def test_attributes_that_read_super_state_are_left_with_the_cause() -> None:
    reads_state = TOKENIZER.replace(
        "        self.vocab = CharVocab(chars)  # the state get_vocab() needs\n",
        "        self.vocab = CharVocab(chars + self.padding_side)\n",
    )
    left = plan_fixes(_tok_files(reads_state), config=CONFIG, rules={"HFC265"})
    assert not left.changes and "vocab" in left.unrepaired[0].cause


def test_an_own_add_tokens_is_judged_by_itself() -> None:
    # the base __init__ reaches get_vocab() through _add_tokens; Qwen-v1 overrides it
    own = TOKENIZER.replace(
        "    def convert_tokens_to_string(self, tokens):\n",
        "    def _add_tokens(self, new_tokens, special_tokens=False):\n"
        "        return 0\n\n    def convert_tokens_to_string(self, tokens):\n",
    )
    tok = _instantiate(own)  # loads as it is under the installed transformers
    assert tok.vocab_size == 12
    assert not plan_fixes(_tok_files(own), config=CONFIG, rules={"HFC265"}).changes
