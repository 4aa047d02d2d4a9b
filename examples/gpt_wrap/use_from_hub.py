"""Use the published GPT by repo id, as anyone would: load, compare, fine-tune, generate.

    HF_ENDPOINT=... python examples/gpt_wrap/use_from_hub.py you/tiny-gpt /tmp/gpt_raw/gpt.pt

Loads ``AutoModelForCausalLM`` by repo id (trust_remote_code) and the plain research ``GPT``
with the raw weights, then checks that (1) the Hugging Face loss with ``labels`` equals the
research module's own loss with the shifted ``targets``, (2) greedy ``generate()`` equals the
research module's own ``generate(top_k=1)``, (3) a few ``transformers.Trainer`` steps lower the
loss, and (4) after training the two still generate the same text. Prints a JSON summary.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from torch.utils.data import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt import GPT, GPTConfig
from research_train import TEXT, encode


class Windows(Dataset):
    def __init__(self, block: int = 24) -> None:
        data = encode(TEXT)
        self.rows = [data[i : i + block] for i in range(0, data.numel() - block, block // 2)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.rows[i], "labels": self.rows[i]}


def decode(ids: torch.Tensor) -> str:
    return "".join(chr(int(i) + 32) for i in ids)


@torch.no_grad()
def compare(model: torch.nn.Module, research: GPT, prompt: torch.Tensor) -> dict[str, object]:
    model.eval()
    research.eval()
    ids = encode(TEXT[:40])[None]
    hf_loss = float(model(input_ids=ids, labels=ids).loss)
    _, own_loss = research(ids[:, :-1], ids[:, 1:])
    hf_text = model.generate(prompt, max_new_tokens=20, do_sample=False)
    own_text = research.generate(prompt, 20, top_k=1)
    return {
        "hf_loss": hf_loss,
        "research_loss": float(own_loss),
        "hf_generated": decode(hf_text[0]),
        "research_generated": decode(own_text[0]),
    }


def main(repo_id: str, raw_weights: str) -> int:
    transformers.logging.set_verbosity_error()
    model = transformers.AutoModelForCausalLM.from_pretrained(repo_id, trust_remote_code=True)
    research = GPT(GPTConfig())
    research.load_state_dict(torch.load(raw_weights, weights_only=True))
    prompt = encode("It is a truth")[None]
    report: dict[str, object] = {
        "class": type(model).__name__,
        "before": compare(model, research, prompt),
    }

    with tempfile.TemporaryDirectory() as tmp:
        args = transformers.TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=4,
            max_steps=12,
            learning_rate=3e-3,
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            disable_tqdm=True,
            seed=0,
        )
        trainer = transformers.Trainer(model=model, args=args, train_dataset=Windows())
        trainer.train()
    report["losses"] = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    research.load_state_dict(model.model.state_dict())  # the fine-tuned weights, back in GPT
    report["after"] = compare(model, research, prompt)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
