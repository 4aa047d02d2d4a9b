"""What the researcher has: the GPT of gpt.py trained for a few steps the usual way.

    python examples/gpt_wrap/research_train.py --out /tmp/gpt_raw --steps 200

A plain training loop over the characters of a short text (ids = code point - 32, so the 96
printable ASCII characters); the targets are the inputs shifted by one, as GPT loops do. Writes
``gpt.pt`` (a ``state_dict()``) and prints the first and last loss as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt import GPT, GPTConfig

TEXT = (
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife. However little known the feelings or views of such a "
    "man may be on his first entering a neighbourhood, this truth is so well fixed in the minds "
    "of the surrounding families, that he is considered as the rightful property of some one or "
    "other of their daughters. "
)


def encode(text: str) -> torch.Tensor:
    return torch.tensor([min(max(ord(c) - 32, 0), 95) for c in text])


def batches(data: torch.Tensor, *, block: int, size: int, gen: torch.Generator):
    while True:
        starts = torch.randint(0, data.numel() - block - 1, (size,), generator=gen)
        x = torch.stack([data[s : s + block] for s in starts])
        y = torch.stack([data[s + 1 : s + block + 1] for s in starts])
        yield x, y


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = GPT(GPTConfig())
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    losses = []
    data = batches(encode(TEXT), block=32, size=8, gen=gen)
    for _ in range(args.steps):
        x, y = next(data)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / "gpt.pt")
    print(json.dumps({"first_loss": losses[0], "last_loss": losses[-1]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
