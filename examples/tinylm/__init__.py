"""TinyLM example: a character-level decoder with its own tokenizer class."""
