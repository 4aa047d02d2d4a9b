"""Verification child, part 3: inputs per modality and model family, built from the config.

Text models get ids that avoid the special tokens, an attention mask, a padded second row
(when the config has a pad token), the eos token at the end of each row (heads that pool on eos
need exactly one per row), and 3-D ids for multiple choice; encoder-decoder models get
``decoder_input_ids`` that begin with the decoder start token. Vision models get ``pixel_values``
from ``image_size`` and ``num_channels``; audio models ``input_values`` (a waveform) or
``input_features`` (mel features). The main input is the one whose first axis is the batch.
"""

from __future__ import annotations

import inspect
from typing import Any

MAIN_INPUTS = ("input_ids", "pixel_values", "input_values", "input_features")


def config_int(config: Any, *names: str) -> int | None:
    for n in names:
        try:
            v = getattr(config, n, None)
        except Exception:
            v = None
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def config_id(config: Any, name: str) -> int | None:
    """A token id of the config (0 allowed; the first of a list)."""
    try:
        v = getattr(config, name, None)
    except Exception:
        return None
    if isinstance(v, (list, tuple)) and v:
        v = v[0]
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def main_input(inputs: dict[str, Any]) -> Any:
    return next(inputs[k] for k in MAIN_INPUTS if k in inputs)


def model_config(model: Any, config: Any) -> Any:
    """The config the loaded model runs with: a head may change its own copy (a decoder-only
    ``XForCausalLM`` of an encoder-decoder family sets ``is_encoder_decoder = False``)."""
    return getattr(model, "config", None) or config


def is_encoder_decoder(model: Any, config: Any) -> bool:
    """Whether ``model`` runs as an encoder-decoder: what its own config says (generate reads
    the same flag), or a forward that takes ``decoder_input_ids``."""
    own = getattr(model_config(model, config), "is_encoder_decoder", None)
    params = inspect.signature(model.forward).parameters
    return "decoder_input_ids" in params or (own is True and _var_kw(params))


def _var_kw(params: Any) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def decoder_start(config: Any) -> int:
    for name in ("decoder_start_token_id", "pad_token_id", "bos_token_id"):
        v = config_id(config, name)
        if v is not None:
            return v
    return 0


def build_inputs(model: Any, config: Any, auto_class: str) -> tuple[dict[str, Any] | None, str]:
    """Inputs the forward accepts, built from the config; (None, reason) when unknown."""
    params = inspect.signature(model.forward).parameters
    var_kw = _var_kw(params)
    if "pixel_values" in params:
        inputs, why = _vision(config)
    elif "input_values" in params:
        inputs, why = _audio_values(config, params)
    elif "input_features" in params:
        inputs, why = _audio_features(config)
    elif "input_ids" not in params and not var_kw:
        return None, "forward takes none of " + ", ".join(MAIN_INPUTS)
    else:
        return _text(model, config, auto_class, params, var_kw=var_kw)
    if inputs is not None and is_encoder_decoder(model, config):
        # speech / vision encoder-decoders: the decoder needs its own ids (a forward without
        # them fails, or raises a misleading "both decoder_input_ids and inputs_embeds")
        dec = decoder_ids(model, config, batch=int(main_input(inputs).shape[0]))
        if dec is None:
            return None, "no vocab_size in the config for the decoder's input ids"
        inputs["decoder_input_ids"] = dec
    return inputs, why


def decoder_ids(model: Any, config: Any, *, batch: int, seq: int = 4) -> Any:
    """Decoder input ids that begin with the decoder start token, the rest drawn past the
    special tokens; None without a vocabulary size."""
    import torch

    vocab = config_int(model_config(model, config), "vocab_size") or config_int(
        config, "vocab_size"
    )
    if vocab is None:
        emb = _output_embeddings(model)
        vocab = getattr(emb, "out_features", None) or getattr(emb, "num_embeddings", None)
    if not vocab:
        return None
    specials = _specials(config, vocab)
    low = max(specials) + 1 if specials and max(specials) < vocab // 2 else 0
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(low, vocab, (batch, seq), generator=gen)
    ids[:, 0] = decoder_start(model_config(model, config))
    return ids


def _specials(config: Any, vocab: int) -> set[int]:
    return {
        v
        for n in ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")
        if (v := config_id(config, n)) is not None and v < vocab
    }


def _text(
    model: Any, config: Any, auto_class: str, params: Any, *, var_kw: bool
) -> tuple[dict[str, Any] | None, str]:
    import torch

    vocab = config_int(config, "vocab_size")
    if vocab is None:
        emb = _input_embeddings(model)
        vocab = getattr(emb, "num_embeddings", None)
    if not vocab:
        return None, "no vocab_size in the config"
    maxpos = config_int(config, "max_position_embeddings", "n_positions", "max_seq_len")
    seq = min(8, maxpos) if maxpos else 8
    specials = _specials(config, vocab)
    pad = config_id(config, "pad_token_id")
    pad = pad if pad is not None and pad < vocab else None
    eos = config_id(config, "eos_token_id")
    eos = eos if eos is not None and eos < vocab else None
    # batch 2 with a padded row needs a pad token (classification heads find the last token
    # through it); without one, a single row
    batch = 2 if pad is not None or auto_class != "AutoModelForSequenceClassification" else 1
    low = max(specials) + 1 if specials and max(specials) < vocab // 2 else 0
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(low, vocab, (batch, seq), generator=gen)
    if low == 0 and specials:  # specials spread over the vocabulary: replace any drawn
        for s in specials:
            ids[ids == s] = next(i for i in range(vocab) if i not in specials)
    mask = torch.ones_like(ids)
    if eos is not None and seq > 3:
        ids[:, -1] = eos
    if pad is not None and seq > 3 and batch > 1:
        ids[1, -2:] = pad
        mask[1, -2:] = 0
        if eos is not None:
            ids[1, -3] = eos
    if auto_class == "AutoModelForMultipleChoice":
        ids = ids[:, None, :].expand(batch, 2, seq).contiguous()
        mask = mask[:, None, :].expand(batch, 2, seq).contiguous()
    inputs: dict[str, Any] = {"input_ids": ids}
    if "attention_mask" in params or var_kw:
        inputs["attention_mask"] = mask
    if is_encoder_decoder(model, config) and auto_class not in (
        "AutoModelForSequenceClassification",
        "AutoModelForQuestionAnswering",
    ):
        dec = ids[..., : seq // 2].clone()
        dec[..., 0] = decoder_start(model_config(model, config))
        inputs["decoder_input_ids"] = dec
    return inputs, ""


def _image_size(config: Any) -> tuple[int, int] | None:
    v = getattr(config, "image_size", None)
    if isinstance(v, int) and v > 0:
        return v, v
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return int(v[0]), int(v[1])
    if isinstance(v, dict) and "height" in v and "width" in v:
        return int(v["height"]), int(v["width"])
    return None


def _vision(config: Any) -> tuple[dict[str, Any] | None, str]:
    import torch

    size = _image_size(config)
    if size is None:
        return None, "no image_size in the config"
    channels = config_int(config, "num_channels") or 3
    gen = torch.Generator().manual_seed(0)
    return {"pixel_values": torch.randn(2, channels, *size, generator=gen)}, ""


def _audio_values(config: Any, params: Any) -> tuple[dict[str, Any] | None, str]:
    import torch

    # enough samples for the feature encoder's convolutions to leave a few frames
    kernels = getattr(config, "conv_kernel", None) or [10]
    strides = getattr(config, "conv_stride", None) or [5]
    frames, length = 8, 0
    try:
        length = frames
        for k, s in reversed(list(zip(kernels, strides, strict=False))):
            length = (length - 1) * int(s) + int(k)
    except (TypeError, ValueError):
        length = 16000
    gen = torch.Generator().manual_seed(0)
    inputs = {"input_values": torch.randn(2, max(length, 400), generator=gen)}
    if "attention_mask" in params:
        inputs["attention_mask"] = torch.ones(2, inputs["input_values"].shape[1], dtype=torch.long)
    return inputs, ""


def _audio_features(config: Any) -> tuple[dict[str, Any] | None, str]:
    import torch

    mels = config_int(config, "num_mel_bins", "feature_size", "input_feat_per_channel")
    if mels is None:
        return None, "no num_mel_bins in the config"
    positions = config_int(config, "max_source_positions")
    length = 2 * positions if positions else 16  # Whisper-style encoders need exactly that
    gen = torch.Generator().manual_seed(0)
    return {"input_features": torch.randn(2, mels, length, generator=gen)}, ""


def _input_embeddings(model: Any) -> Any:
    try:
        return model.get_input_embeddings()
    except Exception:
        return None


def _output_embeddings(model: Any) -> Any:
    try:
        return model.get_output_embeddings()
    except Exception:
        return None
