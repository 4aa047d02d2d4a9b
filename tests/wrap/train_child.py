"""Run in a fresh process by the wrap tests: load a wrapped folder through every AutoClass of its
auto_map, fine-tune each head with transformers.Trainer for a few steps, report JSON on stdout.

Usage: python train_child.py FOLDER WORKDIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import transformers
from torch.utils.data import Dataset

AUTO = {
    "AutoModel": "base",
    "AutoModelForMaskedLM": "masked-lm",
    "AutoModelForCausalLM": "causal-lm",
    "AutoModelForSequenceClassification": "sequence-classification",
    "AutoModelForTokenClassification": "token-classification",
    "AutoModelForQuestionAnswering": "question-answering",
    "AutoModelForMultipleChoice": "multiple-choice",
}
CHOICES = 3


class Examples(Dataset):
    """Eight fixed sequences; the last row of each batch is padded at the end."""

    def __init__(self, task: str, vocab: int, seq: int = 8) -> None:
        gen = torch.Generator().manual_seed(0)
        self.rows = []
        for i in range(8):
            ids = torch.randint(1, vocab, (seq,), generator=gen)
            mask = torch.ones(seq, dtype=torch.long)
            if i % 4 == 3:
                mask[-2:] = 0
            row = {"input_ids": ids, "attention_mask": mask}
            if task == "masked-lm":
                labels = torch.full((seq,), -100)
                labels[::3] = ids[::3]
                row["labels"] = labels
            elif task == "causal-lm":
                row["labels"] = torch.where(mask == 1, ids, torch.tensor(-100))
            elif task == "sequence-classification":
                row["labels"] = torch.tensor(i % 2)
            elif task == "token-classification":
                row["labels"] = (ids % 2).masked_fill(mask == 0, -100)
            elif task == "question-answering":
                row["start_positions"] = torch.tensor(i % 3)
                row["end_positions"] = torch.tensor(i % 3 + 2)
            elif task == "multiple-choice":  # the right choice repeats its first token
                row["input_ids"] = torch.stack([ids.roll(c) for c in range(CHOICES)])
                row["input_ids"][i % CHOICES, 1] = row["input_ids"][i % CHOICES, 0]
                row["attention_mask"] = mask.expand(CHOICES, seq).clone()
                row["labels"] = torch.tensor(i % CHOICES)
            self.rows.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.rows[i]


def main(folder: str, workdir: str) -> None:
    transformers.logging.set_verbosity_error()
    config = transformers.AutoConfig.from_pretrained(folder, trust_remote_code=True)
    vocab = int(config.vocab_size)
    report: dict[str, object] = {"config": type(config).__name__}
    for auto_name in config.auto_map:
        if auto_name == "AutoConfig":
            continue
        task = AUTO[auto_name]
        model = getattr(transformers, auto_name).from_pretrained(folder, trust_remote_code=True)
        entry: dict[str, object] = {"class": type(model).__name__}
        data = Examples(task, vocab)
        out = model(
            **{k: torch.stack([data[0][k], data[1][k]]) for k in ("input_ids", "attention_mask")}
        )
        entry["output"] = type(out).__name__
        if task == "causal-lm":
            generated = model.generate(
                data[0]["input_ids"][None, :4], max_new_tokens=3, do_sample=False
            )
            entry["generated_shape"] = list(generated.shape)
        if task != "base":
            torch.manual_seed(0)
            args = transformers.TrainingArguments(
                output_dir=str(Path(workdir) / task),
                per_device_train_batch_size=4,
                max_steps=12,
                learning_rate=5e-3,
                logging_steps=1,
                save_strategy="no",
                report_to="none",
                use_cpu=True,
                disable_tqdm=True,
                seed=0,
            )
            trainer = transformers.Trainer(model=model, args=args, train_dataset=data)
            trainer.train()
            entry["losses"] = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        report[auto_name] = entry
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
