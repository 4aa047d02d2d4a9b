"""LTG-BERT from the research module alone: train the plain ``LtgBert`` for a few steps in plain
PyTorch (no transformers classes), and leave what a researcher has at that point:

    python examples/ltgbert_wrap/make_weights.py --out /tmp/ltgbert_raw

- ``ltgbert.pt``: the raw module's ``state_dict()`` (keys ``embedding.…``, ``layers.…``);
- ``args.json``: the constructor arguments it was built with;
- the tokenizer files.

Then two commands reach the Hub (see README.md next to this file):

    hf-custom wrap examples/ltgbert/ltgbert.py:LtgBert --out /tmp/ltgbert_hf \\
        --weights /tmp/ltgbert_raw/ltgbert.pt --tokenizer /tmp/ltgbert_raw \
        --name ltg-bert-wrapped --arg vocab_size=400 ...  (one --arg per args.json key)
    hf-custom publish /tmp/ltgbert_hf --repo-id you/ltg-bert-wrapped --endpoint local

The research module and the data helpers are those of examples/ltgbert (imported by path,
never copied).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.nn import functional as F

LTGBERT = Path(__file__).resolve().parents[1] / "ltgbert"
sys.path.insert(0, str(LTGBERT.parent))
from ltgbert.data import MaskedLMDataset, read_corpus, train_tokenizer  # noqa: E402
from ltgbert.ltgbert import LtgBert  # noqa: E402

RESEARCH_MODULE = LTGBERT / "ltgbert.py"
ARGS = {
    "hidden_size": 64,
    "num_layers": 2,
    "num_heads": 4,
    "intermediate_size": 128,
    "position_bucket_size": 16,
    "max_position_embeddings": 128,
}


def wrap_arguments(args: dict[str, int]) -> list[str]:
    """The ``--arg key=value`` options for ``hf-custom wrap``."""
    return [f"--arg={k}={v}" for k, v in sorted(args.items())]


def train(steps: int, seed: int) -> tuple[LtgBert, dict[str, int], object, list[float]]:
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    lines = read_corpus()
    tokenizer = train_tokenizer(lines)
    data = MaskedLMDataset(lines, tokenizer, seed=seed)
    args = {"vocab_size": len(tokenizer), **ARGS}
    model = LtgBert(**args)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)
    losses: list[float] = []
    model.train()
    while len(losses) < steps:
        for batch in loader:
            # the original code works sequence-first, with True marking padding
            hidden = model(batch["input_ids"].T, padding_mask=batch["attention_mask"] == 0)
            logits = model.classifier(hidden)  # (seq, batch, vocab)
            loss = F.cross_entropy(logits.flatten(0, 1), batch["labels"].T.flatten())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return model, args, tokenizer, losses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    opts.out.mkdir(parents=True, exist_ok=True)
    model, args, tokenizer, losses = train(opts.steps, opts.seed)
    torch.save(model.state_dict(), opts.out / "ltgbert.pt")
    (opts.out / "args.json").write_text(json.dumps(args, indent=2, sort_keys=True) + "\n")
    tokenizer.save_pretrained(opts.out)  # type: ignore[attr-defined]
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(json.dumps({"steps": len(losses), "first_loss": first, "last_loss": last}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
