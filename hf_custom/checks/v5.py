"""What transformers v5 no longer provides: probed in the installed transformers when allowed,
with a static list of known removals as the fallback (the git hook, no transformers installed).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import cache

# Modules and names removed in transformers v5 (checked against 5.24).
REMOVED_MODULES = frozenset(
    {
        "transformers.modeling_attn_mask_utils",
        "transformers.generation_utils",
        "transformers.deepspeed",
        "transformers.modeling_tf_utils",
        "transformers.modeling_flax_utils",
        "transformers.modeling_tf_outputs",
        "transformers.modeling_flax_outputs",
        "transformers.modeling_tf_pytorch_utils",
        "transformers.keras_callbacks",
    }
)
REMOVED_NAMES: dict[str, frozenset[str]] = {
    "transformers": frozenset(
        {
            "AutoModelForVision2Seq",
            "AutoModelWithLMHead",
            "TFPreTrainedModel",
            "FlaxPreTrainedModel",
            "TFAutoModel",
            "FlaxAutoModel",
            "top_k_top_p_filtering",
            "AdamW",
            "is_torch_fx_available",
            "is_torch_sdpa_available",
        }
    ),
    "transformers.utils": frozenset({"is_torch_fx_available", "is_torch_sdpa_available"}),
    "transformers.utils.import_utils": frozenset(
        {"is_torch_fx_available", "is_torch_sdpa_available"}
    ),
    "transformers.pytorch_utils": frozenset(
        {"find_pruneable_heads_and_indices", "isin_mps_friendly"}
    ),
    "transformers.modeling_utils": frozenset(
        {"find_pruneable_heads_and_indices", "get_parameter_dtype"}
    ),
}
# PreTrainedModel methods custom code used to call and v5 removed.
REMOVED_METHODS = frozenset(
    {
        "get_head_mask",
        "_convert_head_mask_to_5d",
        "get_extended_attention_mask",
        "invert_attention_mask",
        "_tie_or_clone_weights",
        "_prune_heads",
        "prune_heads",
    }
)
# Public attributes of transformers 5.24's PreTrainedConfig (instance and class), the fallback.
BASE_CONFIG_ATTRS = frozenset(
    [
        "_attn_implementation",
        "_experts_implementation",
        "_name_or_path",
        "_output_attentions",
        "architectures",
        "attribute_map",
        "base_config_key",
        "base_model_ep_plan",
        "base_model_fsdp_plan",
        "base_model_pp_plan",
        "base_model_tp_plan",
        "chunk_size_feed_forward",
        "default_theta",
        "dtype",
        "id2label",
        "is_encoder_decoder",
        "label2id",
        "model_type",
        "name_or_path",
        "num_labels",
        "output_attentions",
        "output_hidden_states",
        "problem_type",
        "return_dict",
        "rope_scaling",
        "sub_configs",
        "torch_dtype",
        "transformers_version",
        "use_return_dict",
        "get_text_config",
        "to_dict",
        "to_json_string",
        "update",
        "is_custom_code",
    ]
)
# What v4's base config set and v5's no longer does (named in messages).
V4_ONLY_CONFIG_ATTRS = frozenset(
    [
        "use_cache",
        "is_decoder",
        "max_length",
        "min_length",
        "pad_token_id",
        "bos_token_id",
        "eos_token_id",
        "tie_word_embeddings",
        "add_cross_attention",
        "tie_encoder_decoder",
        "pruned_heads",
        "decoder_start_token_id",
        "sep_token_id",
        "torchscript",
    ]
)


def transformers_importable() -> bool:
    try:
        return importlib.util.find_spec("transformers") is not None
    except (ImportError, ValueError):
        return False


class Probe:
    """Answers "does transformers have X?". ``installed``: import and look (slow: imports torch)."""

    def __init__(self, *, installed: bool) -> None:
        self.installed = installed and transformers_importable()

    @property
    def source(self) -> str:
        if self.installed:
            return f"installed transformers {_version()}"
        return "known transformers v5 removals"

    def module_missing(self, module: str) -> bool:
        if not self.installed:
            return module in REMOVED_MODULES or any(
                module.startswith(m + ".") for m in REMOVED_MODULES
            )
        return _module_missing(module)

    def name_missing(self, module: str, name: str) -> bool:
        if not self.installed:
            return name in REMOVED_NAMES.get(module, frozenset())
        return _name_missing(module, name)

    def method_missing(self, name: str) -> bool:
        if name not in REMOVED_METHODS:
            return False
        if not self.installed:
            return True
        return _name_missing("transformers.modeling_utils.PreTrainedModel", name)

    def base_config_attrs(self) -> frozenset[str]:
        if not self.installed:
            return BASE_CONFIG_ATTRS
        return _installed_base_config_attrs()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("transformers")
    except Exception:
        return "?"


@cache
def _module_missing(module: str) -> bool:
    if module == "transformers" or module.startswith("transformers."):
        from hf_custom.staging.imports import transformers_module_exists

        return not transformers_module_exists(module)  # its files: nothing imported
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True
    except Exception:
        return False  # it exists but fails to import here (a missing optional backend)


@cache
def _name_missing(module: str, name: str) -> bool:
    from hf_custom.checks.probe_cache import cached

    return cached(f"name-missing:{module}:{name}", lambda: _probe_name_missing(module, name))


def _probe_name_missing(module: str, name: str) -> bool:
    obj: object
    try:
        obj = importlib.import_module(module)
    except ModuleNotFoundError:
        parent, _, attr = module.rpartition(".")
        if not parent:
            return True
        try:
            obj = getattr(importlib.import_module(parent), attr)
        except AttributeError:
            return True
        except Exception:
            return False
    except Exception:
        return False
    try:
        getattr(obj, name)
    except AttributeError:
        return True
    except Exception:
        return False  # defined, but needs an optional backend
    return False


@cache
def _installed_base_config_attrs() -> frozenset[str]:
    from hf_custom.checks.probe_cache import cached

    return cached(
        "base-config-attrs",
        _probe_base_config_attrs,
        encode=sorted,
        decode=lambda v: frozenset(str(x) for x in v),  # type: ignore[attr-defined]
    )


def _probe_base_config_attrs() -> frozenset[str]:
    import transformers

    base = getattr(transformers, "PreTrainedConfig", None) or transformers.PretrainedConfig
    names = set(vars(base()))
    names.update(n for n in dir(base) if not n.startswith("__"))
    return frozenset(names)


def transformers_imported() -> bool:
    return "transformers" in sys.modules
