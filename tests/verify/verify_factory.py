"""Tiny custom-code model folders, written as text into tmp dirs, sound or with chosen defects.

``make_model_dir(root, defects=...)`` writes a staged-style folder: configuration_tiny.py,
modeling_tiny.py (and extra modeling files), config.json with auto_map and architectures,
model.safetensors and a byte-level BPE tokenizer. Weights are built directly from the known
parameter names and shapes, so the test process never imports the model code.

``defects`` maps a defect name to True; each one changes the text of one class, so several can
be combined in one folder (one child process verifies them all: imports dominate its time).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

VOCAB = 300
HIDDEN = 16
LAYERS = 1
MAXPOS = 32
SPECIALS = ("[PAD]", "[BOS]", "[EOS]", "[UNK]")

DEFECTS = frozenset(
    {
        "no_post_init",  # AutoModelForMaskedLM: __init__ without self.post_init()
        "tied_list",  # AutoModelForPreTraining: _tied_weights_keys as a list
        "missing_import",  # modeling_extra.py imports a package that is not installed
        "removed_symbol",  # modeling_old.py imports a module removed in transformers v5
        "config_attr",  # AutoModel (TinyEncoderModel) forward reads config.use_cache, never set
        "untied_lm_head",  # tie_word_embeddings not set: lm_head left random
        "no_generation_mixin",  # the CausalLM class lacks GenerationMixin
        "forward_exception",  # AutoModelForSequenceClassification forward raises
        "wrong_shape",  # AutoModelForTokenClassification returns [b, num_labels]
        "wrong_type",  # AutoModelForQuestionAnswering returns a tuple
        "token_mismatch",  # config.json pad_token_id differs from the tokenizer's
        "nonpersistent_buffer",  # buffer computed in __init__, garbage after from_pretrained
        "hang",  # configuration module sleeps forever at import
        "crash",  # modeling module kills its own process at import (SIGSEGV)
        "ignores_cache",  # no generation_config.json use_cache=false: generate slices the input
        "shape_mismatch",  # AutoModelForMultipleChoice: model.pos one row longer than the file's
        "extra_tensor",  # the weights file has a tensor the architectures class does not use
        "reinit_weights",  # TinyForCausalLM.initialize_weights overwrites loaded LayerNorm weights
        "ignore_on_save",  # TinyForCausalLM._keys_to_ignore_on_save drops a real tensor
        "lossy_tokenizer",  # tokenizer.json without its ByteLevel decoder
        "big_tokenizer",  # added tokens beyond vocab_size
        "removed_auto_class",  # auto_map names AutoModelForVision2Seq (gone in v5)
        "init_error",  # AutoModelForNextSentencePrediction: __init__ raises
        "vision_head",  # AutoModelForImageClassification: forward takes pixel_values only
        "no_architectures",  # config.json without architectures: nothing checked strictly
        "mask_drops_causal",  # TinyModel: with an attention_mask, every position sees all tokens
    }
)

CONFIG_PY = """\
from transformers import PretrainedConfig


class TinyConfig(PretrainedConfig):
    model_type = "tiny-hfc-test"

    def __init__(
        self,
        vocab_size=300,
        hidden_size=16,
        num_hidden_layers=1,
        max_position_embeddings=32,
        num_labels=3,
        tie_word_embeddings=TIE_DEFAULT,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.max_position_embeddings = max_position_embeddings
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(
            num_labels=num_labels,
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            **kwargs,
        )
"""

MODELING_PY = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutput,
    CausalLMOutput,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

from .configuration_tiny import TinyConfig


class TinyPreTrainedModel(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "model"


class TinyModel(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.pos = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.layers = nn.ModuleList(
            [nn.Linear(config.hidden_size, config.hidden_size) for _ in range(config.num_hidden_layers)]
        )
        self.norm = nn.LayerNorm(config.hidden_size)
#BUFFER_INIT
        self.post_init()

    def get_input_embeddings(self):
        return self.embed

    def set_input_embeddings(self, value):
        self.embed = value

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        positions = torch.arange(input_ids.shape[-1], device=input_ids.device)
        h = self.embed(input_ids) + self.pos(positions)
        for layer in self.layers:
            h = torch.tanh(layer(h))
        # causal mixing: each position sees the mean of the ones before it (context matters)
#CAUSAL_MIX
#BUFFER_USE
        return BaseModelOutput(last_hidden_state=self.norm(h))


class TinyEncoderModel(TinyModel):
    def forward(self, input_ids=None, attention_mask=None, **kwargs):
#CONFIG_READ
        return super().forward(input_ids, attention_mask)


class TinyForCausalLM(TinyPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
        return CausalLMOutput(logits=self.lm_head(h))


class TinyForMaskedLM(TinyPreTrainedModel):
    _tied_weights_keys = {"lm_head.weight": "model.embed.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
        return MaskedLMOutput(logits=self.lm_head(h))


class TinyForPreTraining(TinyPreTrainedModel):
    _tied_weights_keys = {"lm_head.weight": "model.embed.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
        return MaskedLMOutput(logits=self.lm_head(h))


class TinyForSequenceClassification(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
#SEQCLS_BODY
        return SequenceClassifierOutput(logits=logits)


class TinyForTokenClassification(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
#TOKCLS_BODY
        return TokenClassifierOutput(logits=logits)


class TinyForQuestionAnswering(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
        start, end = self.qa_outputs(h).unbind(-1)
#QA_RETURN


class TinyForMultipleChoice(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyModel(config)
#MC_WIDEN
        self.scorer = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        h = self.model(input_ids, attention_mask).last_hidden_state
        return MultipleChoiceModelOutput(logits=self.scorer(h[..., 0, :]).squeeze(-1))

"""

BROKEN_PY = """\
class TinyBrokenForNextSentencePrediction(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        raise ValueError("tiny: this head is not implemented")
"""

VISION_PY = """\
class TinyForImageClassification(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(4, config.num_labels)
        self.post_init()

    def forward(self, pixel_values):
        return SequenceClassifierOutput(logits=self.proj(pixel_values.mean((2, 3))))
"""

EXTRA_PY = """\
import hfc_test_package_that_is_not_installed  # noqa: F401

from .modeling_tiny import TinyForSequenceClassification as _Base


class TinyExtraForSequenceClassification(_Base):
    pass
"""

OLD_PY = """\
from transformers.modeling_attn_mask_utils import _prepare_4d_attention_mask  # noqa: F401

from .modeling_tiny import TinyForTokenClassification as _Base


class TinyOldForTokenClassification(_Base):
    pass
"""

SAMPLE = (
    "Hello world! The quick brown fox jumps over the lazy dog. 0123456789 "
    "Tiny models verify quickly."
)


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line of ``text`` containing ``needle``."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise ValueError(needle)


def modeling_text(defects: Collection[str]) -> str:
    d = set(defects)
    text = MODELING_PY
    repl = {
        "#BUFFER_INIT": (
            "        self.register_buffer(\n"
            '            "scale", torch.linspace(0.5, 1.5, config.hidden_size), persistent=False\n'
            "        )"
            if "nonpersistent_buffer" in d
            else ""
        ),
        "#BUFFER_USE": "        h = h * self.scale" if "nonpersistent_buffer" in d else "",
        "#CAUSAL_MIX": (
            "        if attention_mask is not None:  # the defect: the causal mixing is lost\n"
            "            h = h.mean(-2, keepdim=True).expand_as(h)\n"
            "        else:\n"
            "            h = h.cumsum(-2) / (positions + 1).to(h.dtype)[:, None]"
            if "mask_drops_causal" in d
            else "        h = h.cumsum(-2) / (positions + 1).to(h.dtype)[:, None]"
        ),
        "#CONFIG_READ": (
            "        if self.config.use_cache:\n            pass" if "config_attr" in d else ""
        ),
        "#SEQCLS_BODY": (
            "        logits = self.score(h.transpose(1, 2))  # wrong: mixes the axes"
            if "forward_exception" in d
            else "        logits = self.score(h[:, 0])"
        ),
        "#TOKCLS_BODY": (
            "        logits = self.classifier(h[:, 0])  # wrong: pooled"
            if "wrong_shape" in d
            else "        logits = self.classifier(h)"
        ),
        "#MC_WIDEN": (
            "        self.model.pos = nn.Embedding(config.max_position_embeddings + 1, "
            "config.hidden_size)"
            if "shape_mismatch" in d
            else ""
        ),
        "#QA_RETURN": (
            "        return start, end"
            if "wrong_type" in d
            else "        return QuestionAnsweringModelOutput(start_logits=start, end_logits=end)"
        ),
    }
    lines = []
    for line in text.splitlines():
        key = line.strip()
        if key in repl:
            if repl[key]:
                lines.append(repl[key])
        else:
            lines.append(line)
    text = "\n".join(lines) + "\n"
    if "no_generation_mixin" in d:
        text = text.replace(
            "class TinyForCausalLM(TinyPreTrainedModel, GenerationMixin):",
            "class TinyForCausalLM(TinyPreTrainedModel):",
        )
    if "no_post_init" in d:
        marker = "class TinyForMaskedLM(TinyPreTrainedModel):"
        head, tail = text.split(marker)
        tail = tail.replace("        self.post_init()\n", "", 1)
        text = head + marker + tail
    if "tied_list" in d:
        marker = "class TinyForPreTraining(TinyPreTrainedModel):\n"
        head, tail = text.split(marker)
        tail = tail.replace(
            '_tied_weights_keys = {"lm_head.weight": "model.embed.weight"}',
            '_tied_weights_keys = ["lm_head.weight"]',
            1,
        )
        text = head + marker + tail
    if "reinit_weights" in d or "ignore_on_save" in d:
        marker = '    _tied_weights_keys = {"lm_head.weight": "model.embed.weight"}\n'
        extra = ""
        if "ignore_on_save" in d:
            extra += '    _keys_to_ignore_on_save = ["model.norm.bias"]\n'
        if "reinit_weights" in d:
            extra += (
                "\n    def initialize_weights(self):\n"
                "        super().initialize_weights()\n"
                "        for module in self.modules():\n"
                "            if isinstance(module, nn.LayerNorm):\n"
                "                nn.init.ones_(module.weight)\n"
            )
        text = text.replace(marker, marker + extra, 1)
    if "init_error" in d:
        text += "\n\n" + BROKEN_PY
    if "vision_head" in d:
        text += "\n\n" + VISION_PY
    if "crash" in d:
        text = "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGSEGV)\n" + text
    return text


def config_text(defects: Collection[str]) -> str:
    text = CONFIG_PY.replace("TIE_DEFAULT", "False" if "untied_lm_head" in defects else "True")
    if "hang" in defects:
        text = "import time\n\ntime.sleep(3600)\n" + text
    return text


def auto_map(defects: Collection[str]) -> dict[str, object]:
    m: dict[str, object] = {
        "AutoConfig": "configuration_tiny.TinyConfig",
        "AutoModel": "modeling_tiny.TinyEncoderModel",
        "AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM",
        "AutoModelForMaskedLM": "modeling_tiny.TinyForMaskedLM",
        "AutoModelForPreTraining": "modeling_tiny.TinyForPreTraining",
        "AutoModelForSequenceClassification": "modeling_tiny.TinyForSequenceClassification",
        "AutoModelForTokenClassification": "modeling_tiny.TinyForTokenClassification",
        "AutoModelForQuestionAnswering": "modeling_tiny.TinyForQuestionAnswering",
        "AutoModelForMultipleChoice": "modeling_tiny.TinyForMultipleChoice",
    }
    if "removed_auto_class" in defects:
        m["AutoModelForVision2Seq"] = "modeling_tiny.TinyForCausalLM"
    if "init_error" in defects:
        m["AutoModelForNextSentencePrediction"] = (
            "modeling_tiny.TinyBrokenForNextSentencePrediction"
        )
    if "vision_head" in defects:
        m["AutoModelForImageClassification"] = "modeling_tiny.TinyForImageClassification"
    if "missing_import" in defects:
        m["AutoModelForSequenceClassification"] = (
            "modeling_extra.TinyExtraForSequenceClassification"
        )
    if "removed_symbol" in defects:
        m["AutoModelForTokenClassification"] = "modeling_old.TinyOldForTokenClassification"
    return m


def weights(*, seed: int = 0) -> dict[str, object]:
    """The architectures class's (TinyForCausalLM) state dict minus the tied lm_head."""
    import torch

    g = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * 0.2

    sd = {
        "model.embed.weight": rnd(VOCAB, HIDDEN),
        "model.pos.weight": rnd(MAXPOS, HIDDEN),
        "model.norm.weight": 1 + rnd(HIDDEN),
        "model.norm.bias": rnd(HIDDEN),
    }
    for i in range(LAYERS):
        sd[f"model.layers.{i}.weight"] = rnd(HIDDEN, HIDDEN)
        sd[f"model.layers.{i}.bias"] = rnd(HIDDEN)
    return sd


def write_tokenizer(out: Path, defects: Collection[str] = ()) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    if "lossy_tokenizer" not in defects:
        tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=list(SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([SAMPLE] * 4, trainer=trainer)
    if "big_tokenizer" in defects:
        tok.add_tokens([f"<extra_{i}>" for i in range(VOCAB - tok.get_vocab_size() + 5)])
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "pad_token": "[PAD]",
                "bos_token": "[BOS]",
                "eos_token": "[EOS]",
                "unk_token": "[UNK]",
                "model_max_length": MAXPOS,
            },
            indent=2,
        )
    )


def make_model_dir(
    root: Path, *, defects: Collection[str] = (), tokenizer: bool = True, name: str = "staged"
) -> Path:
    """Write a staged-style tiny model folder under ``root`` and return it."""
    unknown = set(defects) - DEFECTS
    if unknown:
        raise ValueError(f"unknown defects {sorted(unknown)}")
    from safetensors.torch import save_file

    out = root / name
    out.mkdir(parents=True)
    (out / "configuration_tiny.py").write_text(config_text(defects))
    (out / "modeling_tiny.py").write_text(modeling_text(defects))
    if "missing_import" in defects:
        (out / "modeling_extra.py").write_text(EXTRA_PY)
    if "removed_symbol" in defects:
        (out / "modeling_old.py").write_text(OLD_PY)
    config: dict[str, object] = {
        "model_type": "tiny-hfc-test",
        "architectures": [] if "no_architectures" in defects else ["TinyForCausalLM"],
        "auto_map": auto_map(defects),
        "vocab_size": VOCAB,
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "max_position_embeddings": MAXPOS,
        "num_labels": 3,
        "pad_token_id": 5 if "token_mismatch" in defects else 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "dtype": "float32",
    }
    if "untied_lm_head" not in defects:
        config["tie_word_embeddings"] = True
    (out / "config.json").write_text(json.dumps(config, indent=2))
    sd = weights()
    if "extra_tensor" in defects:
        import torch

        sd["model.unused_adapter.weight"] = torch.zeros(2, 2)
    save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})
    if "ignores_cache" not in defects:
        # The tiny models have no KV cache: generate must recompute the whole sequence.
        gen = {"use_cache": False, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
        (out / "generation_config.json").write_text(json.dumps(gen, indent=2))
    if tokenizer:
        write_tokenizer(out, defects)
    return out
