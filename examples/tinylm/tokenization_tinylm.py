"""A character-level tokenizer: one token per character, its vocabulary kept in vocab.json.

A "slow" (pure Python) tokenizer shipped as code next to the model: on the Hub it loads through
``AutoTokenizer.from_pretrained(repo, trust_remote_code=True)`` only if tokenizer_config.json
names it in ``auto_map``.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizer

ASCII = string.ascii_letters + string.digits + string.punctuation + " \n"
SPECIAL_TOKENS = {
    "pad_token": "<pad>",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
}


class TinyLMTokenizer(PreTrainedTokenizer):
    vocab_files_names = {"vocab_file": "vocab.json"}  # noqa: RUF012 (read by transformers)
    model_input_names = ["input_ids", "attention_mask"]  # noqa: RUF012

    def __init__(
        self,
        vocab_file: str,
        pad_token: str = "<pad>",
        bos_token: str = "<s>",
        eos_token: str = "</s>",
        unk_token: str = "<unk>",
        **kwargs: Any,
    ) -> None:
        # The vocabulary must exist before the base class asks for it.
        self.encoder: dict[str, int] = json.loads(Path(vocab_file).read_text(encoding="utf-8"))
        self.decoder = {index: token for token, index in self.encoder.items()}
        super().__init__(
            pad_token=pad_token,
            bos_token=bos_token,
            eos_token=eos_token,
            unk_token=unk_token,
            **kwargs,
        )

    @staticmethod
    def build_vocab(text: str) -> dict[str, int]:
        """Special tokens first (ids 0-3, as in TinyLMConfig), then printable ASCII and every other
        character of ``text``."""
        tokens = list(SPECIAL_TOKENS.values()) + sorted(set(text) | set(ASCII))
        return {token: index for index, token in enumerate(tokens)}

    @property
    def vocab_size(self) -> int:
        return len(self.encoder)

    def get_vocab(self) -> dict[str, int]:
        return {**self.encoder, **self.added_tokens_encoder}

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        return list(text)

    def _convert_token_to_id(self, token: str) -> int:
        return self.encoder.get(token, self.encoder[str(self.unk_token)])

    def _convert_id_to_token(self, index: int) -> str:
        return self.decoder.get(index, str(self.unk_token))

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def save_vocabulary(
        self, save_directory: str, filename_prefix: str | None = None
    ) -> tuple[str, ...]:
        name = (f"{filename_prefix}-" if filename_prefix else "") + self.vocab_files_names[
            "vocab_file"
        ]
        path = Path(save_directory) / name
        path.write_text(
            json.dumps(self.encoder, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return (str(path),)
