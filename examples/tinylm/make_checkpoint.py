"""Train TinyLM on a short poem and leave a checkpoint folder the way a training loop does.

    python examples/tinylm/make_checkpoint.py --out examples/tinylm/checkpoint

The folder it leaves is deliberately *not* ready for the Hub (that is `hf-custom publish`'s job):

- the code: configuration_tinylm.py, modeling_tinylm.py and the tokenizer class in
  tokenization_tinylm.py;
- config.json and tokenizer_config.json as ``save_pretrained`` writes them for classes that were
  never registered: no ``auto_map`` in either, so AutoModel and AutoTokenizer cannot find the code;
- vocab.json, the tokenizer's vocabulary;
- ``last.ckpt``: a Lightning-style training checkpoint, ``{"state_dict": ..., "optimizer_states":
  ..., "global_step": ..., ...}``, whose weights are named as a ``torch.compile``-d model names them
  (``_orig_mod.model.embed_tokens.weight``), with the tied output matrix present under two names.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

# The model files import each other relatively (``from .configuration_tinylm import ...``), as
# they will on the Hub, so this folder is imported as the package ``tinylm``.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tinylm.configuration_tinylm import TinyLMConfig  # noqa: E402
from tinylm.modeling_tinylm import TinyLMForCausalLM  # noqa: E402
from tinylm.tokenization_tinylm import TinyLMTokenizer  # noqa: E402

CORPUS = HERE / "corpus.txt"
CODE_FILES = ("configuration_tinylm.py", "modeling_tinylm.py", "tokenization_tinylm.py")
PROMPT = "the lamp is lit and the "


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to create")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default: 300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def prepare_out(out: Path, *, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            raise SystemExit(f"error: {out} is not empty; pass --force to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def train(
    model: TinyLMForCausalLM,
    ids: torch.Tensor,
    *,
    steps: int,
    seed: int,
    window: int = 64,
    batch_size: int = 8,
) -> torch.optim.Optimizer:
    """Next-character prediction on random windows of the text."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(  # warm up, then anneal
        optimizer, max_lr=5e-3, total_steps=steps, pct_start=0.1
    )
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(ids) - window, (batch_size,), generator=generator)
        batch = torch.stack([ids[start : start + window] for start in starts.tolist()])
        loss = model(input_ids=batch, labels=batch, use_cache=False).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    return optimizer


def write_checkpoint(
    out: Path,
    model: TinyLMForCausalLM,
    tokenizer: TinyLMTokenizer,
    optimizer: torch.optim.Optimizer,
    *,
    steps: int,
) -> None:
    for name in CODE_FILES:
        shutil.copyfile(HERE / name, out / name)
    model.config.save_pretrained(out)
    tokenizer.save_pretrained(out)

    # The weights are named as the state_dict() of a torch.compile-d model names them (its wrapper
    # adds "_orig_mod."); compiling itself would cost more than this whole script on a CPU.
    state_dict = {f"_orig_mod.{name}": tensor for name, tensor in model.state_dict().items()}
    checkpoint = {
        "epoch": 0,
        "global_step": steps,
        "state_dict": state_dict,
        "optimizer_states": [optimizer.state_dict()],
        "hyper_parameters": json.loads(model.config.to_json_string()),
    }
    torch.save(checkpoint, out / "last.ckpt")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    prepare_out(args.out, force=args.force)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # fastest for a model this small, and the same result on every run

    text = CORPUS.read_text(encoding="utf-8")
    with_vocab = args.out / "vocab.json"
    with_vocab.write_text(json.dumps(TinyLMTokenizer.build_vocab(text), ensure_ascii=False))
    tokenizer = TinyLMTokenizer(str(with_vocab))
    config = TinyLMConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = TinyLMForCausalLM(config)
    ids = torch.tensor(tokenizer(text)["input_ids"])
    optimizer = train(model, ids, steps=args.steps, seed=args.seed)
    write_checkpoint(args.out, model, tokenizer, optimizer, steps=args.steps)

    prompt = tokenizer(PROMPT, return_tensors="pt")
    generated = model.generate(**prompt, max_new_tokens=40, do_sample=False)
    print(f"greedy sample: {tokenizer.decode(generated[0])!r}")
    print(f"checkpoint written to {args.out}")
    print(f"next: hf-custom publish {args.out} --dry-run --out /tmp/staged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
