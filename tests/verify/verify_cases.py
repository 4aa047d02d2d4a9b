"""Rule cases for the loading rules (HFC5xx), as data other tests can reuse.

Each rule id maps to the factory defects that make verification report it (the failing case);
the passing case of every rule is the sound package (``defects=()``). Several defects share one
folder (``ZOO_*``) so one child process checks them all.
"""

from __future__ import annotations

# Defects combined in one folder each: a defect in one class never hides another's finding.
ZOO_HEADS = frozenset(
    {
        "no_post_init",
        "tied_list",
        "config_attr",
        "no_generation_mixin",
        "forward_exception",
        "wrong_shape",
        "wrong_type",
        "token_mismatch",
        "nonpersistent_buffer",
    }
)
ZOO_LOADING = frozenset(
    {
        "missing_import",
        "removed_symbol",
        "untied_lm_head",
        "ignores_cache",
        "shape_mismatch",
        "extra_tensor",
        "reinit_weights",
        "ignore_on_save",
        "lossy_tokenizer",
        "big_tokenizer",
        "removed_auto_class",
        "init_error",
        "vision_head",
    }
)

# rule id -> (defect that triggers it, the class or file the finding names)
LOAD_RULE_CASES: dict[str, tuple[str, str]] = {
    "HFC500": ("init_error", "TinyBrokenForNextSentencePrediction"),
    "HFC501": ("no_post_init", "TinyForMaskedLM"),
    "HFC502": ("tied_list", "TinyForPreTraining"),
    "HFC503": ("missing_import", "hfc_test_package_that_is_not_installed"),
    "HFC504": ("config_attr", "use_cache"),
    "HFC505": ("forward_exception", "TinyForSequenceClassification"),
    "HFC506": ("shape_mismatch", "model.pos.weight"),
    "HFC507": ("extra_tensor", "model.unused_adapter.weight"),
    "HFC508": ("reinit_weights", "model.norm.weight"),
    "HFC509": ("untied_lm_head", "lm_head.weight"),
    "HFC510": ("", "score.weight"),  # info: the sound package's fresh classifier head
    "HFC511": ("wrong_type", "TinyForQuestionAnswering"),
    "HFC512": ("wrong_shape", "TinyForTokenClassification"),
    "HFC513": ("nonpersistent_buffer", "uninitialised memory with NaN"),
    "HFC514": ("nonpersistent_buffer", "model.scale"),
    "HFC515": ("no_generation_mixin", "TinyForCausalLM"),
    "HFC517": ("ignores_cache", "TinyForCausalLM"),
    "HFC518": ("lossy_tokenizer", "decode(encode(text))"),
    "HFC519": ("token_mismatch", "pad_token_id=5"),
    "HFC520": ("ignore_on_save", "model.norm.bias"),
    "HFC521": ("big_tokenizer", "305 tokens"),
    "HFC522": ("hang", "did not finish"),
    "HFC523": ("removed_auto_class", "AutoModelForVision2Seq"),
    "HFC527": ("crash", "SIGSEGV"),
    "HFC528": ("", "cannot run the checks"),  # an interpreter without torch
    "HFC530": ("vision_head", "TinyForImageClassification"),
    "HFC531": ("removed_symbol", "transformers.modeling_attn_mask_utils"),
    "HFC532": ("no_architectures", "not set"),
}

# Rules without a generated failing case, and why.
NOT_GENERATED: dict[str, str] = {
    "HFC516": "a generate that returns malformed sequences needs a broken GenerationMixin override",
    "HFC524": "needs a model_type that resolves to another registered class",
    "HFC525": "a folder without weights (unit-tested through the report assembly)",
    "HFC526": "an auto_map without AutoModel entries (unit-tested through the report assembly)",
    "HFC529": "emitted by publish --no-verify, not by verification",
    "HFC537": "a code repository missing from the Hub: tests/verify/test_verify_references.py",
    "HFC538": "its own folder (a forward that differs by mask): test_verify_styles.py",
    "HFC536": "tests/verify/test_verify_styles.py (the unused_buffer style package)",
}
