"""Run in a fresh process by the KV-cache wrap tests: load a wrapped folder with
AutoModelForCausalLM, generate greedily with and without the cache, and compare with the research
module's own ``generate`` (built from the original file with the same weights). JSON on stdout.

Usage: python cache_child.py FOLDER RESEARCH_FILE CLASS
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def main() -> None:
    folder, research_file, cls_name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    spec = importlib.util.spec_from_file_location(research_file.stem, research_file)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[research_file.stem] = mod
    spec.loader.exec_module(mod)
    # the original class, built from the original file with the wrapper's own arguments (the
    # vendored copy of the file is a different module object: patch its class to the original)
    modeling = sys.modules[type(model).__module__]
    vendored = modeling.__dict__
    for name in list(vendored):
        if getattr(vendored[name], "__name__", None) == cls_name and isinstance(
            vendored[name], type
        ):
            vendored[name] = getattr(mod, cls_name)
    for name, value in list(vars(mod).items()):
        if isinstance(value, type) and name in vendored and name != cls_name:
            vendored[name] = value  # config dataclasses
    research = modeling.build_research_model(model.config)
    assert type(research) is getattr(mod, cls_name)
    state = load_file(str(folder / "model.safetensors"))
    research.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    research.eval()

    lengths: list[int] = []
    model.model.register_forward_pre_hook(
        lambda _m, args, kwargs: lengths.append(
            int((args[0] if args else next(iter(kwargs.values()))).shape[1])
        ),
        with_kwargs=True,
    )
    gen = torch.Generator().manual_seed(1)
    vocab = model.config.vocab_size
    report: dict[str, object] = {"class": type(model).__name__}
    for i, shape in enumerate(((2, 5), (1, 3))):  # the second generate must start clean
        ids = torch.randint(1, vocab, shape, generator=gen)
        with torch.no_grad():
            own = research.generate(ids.clone(), 8)
            lengths.clear()
            cached = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False
            )
            cached_lengths = list(lengths)
            plain = model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=8,
                do_sample=False,
                use_cache=False,
            )
        report[f"run{i}"] = {
            "research": own.tolist(),
            "cached": cached.tolist(),
            "plain": plain.tolist(),
            "cached_lengths": cached_lengths,
        }
    ids = torch.randint(1, vocab, (1, 4), generator=gen)
    with torch.no_grad():
        try:
            beams = model.generate(ids, max_new_tokens=5, num_beams=3, do_sample=False)
            report["beam_cached"] = beams.tolist()
        except NotImplementedError as exc:
            report["beam_error"] = str(exc)
        report["beam_plain"] = model.generate(
            ids, max_new_tokens=5, num_beams=3, do_sample=False, use_cache=False
        ).tolist()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
