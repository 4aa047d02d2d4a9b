"""Verification child, part 3: the tokenizer checks."""

# ruff: noqa: PTH109
# (os.path throughout: this script runs in other interpreters and stays plain and portable)
from __future__ import annotations

import os
import re
import tempfile
from typing import Any

from child_diagnose import FAILED, PASSED, SAMPLE_TEXT, SKIPPED, Reporter, diagnose
from child_model import Row


def verify_tokenizer(
    rep: Reporter, ref: Any, *, staged: str, raw_config: dict[str, Any], vocab_limit: int | None
) -> None:
    from transformers import AutoTokenizer

    name = ref if isinstance(ref, str) else next((r for r in ref if r), "")
    row = Row("AutoTokenizer", name.split(".")[-1] if name else "")
    row.forward = SKIPPED
    row.save = SKIPPED
    rep.write("step", auto_class="AutoTokenizer", step="load")
    try:
        tok = AutoTokenizer.from_pretrained(staged, trust_remote_code=True)
    except Exception as exc:
        row.loaded = FAILED
        row.details.append(
            diagnose(rep, exc, where="loading AutoTokenizer", cls_name=row.class_name)
        )
        row.emit(rep)
        return
    row.loaded = PASSED
    row.class_name = type(tok).__name__
    rep.write("step", auto_class="AutoTokenizer", step="round-trip")
    try:
        row.forward, d = tokenizer_round_trip(rep, tok)
        row.details.append(d)
        ok_special = special_tokens_agree(rep, tok, raw_config)
        ok_vocab = vocab_fits(rep, tok, vocab_limit)
        if not (ok_special and ok_vocab):
            row.forward = FAILED
        with tempfile.TemporaryDirectory(prefix="tok-", dir=os.getcwd()) as tmp:
            tok.save_pretrained(tmp)
            again = AutoTokenizer.from_pretrained(tmp, trust_remote_code=True)
        same = again(SAMPLE_TEXT)["input_ids"] == tok(SAMPLE_TEXT)["input_ids"]
        row.save = PASSED if same else FAILED
        if not same:
            rep.finding(
                "HFC520",
                f"{row.class_name}: save_pretrained then from_pretrained encodes the sample text "
                "differently",
            )
    except Exception as exc:
        row.forward = FAILED
        row.details.append(
            diagnose(rep, exc, where="checking the tokenizer", cls_name=row.class_name)
        )
    row.emit(rep)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _same(a: str, b: str, *, lower: bool) -> bool:
    """Equal up to whitespace (decoders differ in spacing around punctuation) and case."""
    a, b = re.sub(r"\s+", "", a), re.sub(r"\s+", "", b)
    return a == b or (lower and a.lower() == b.lower())


def _vocab_text(tok: Any, n: int = 16) -> str:
    """Text made of ``n`` ordinary vocabulary entries spread over the id range."""
    special = set(getattr(tok, "all_special_ids", ()) or ())
    ids = sorted(
        i
        for t, i in tok.get_vocab().items()
        if i not in special and not t.startswith("##")  # WordPiece continuations decode glued
    )
    step = max(1, len(ids) // n)
    return str(tok.decode(ids[::step][:n], skip_special_tokens=True))


def tokenizer_round_trip(rep: Reporter, tok: Any) -> tuple[str, str]:
    """decode(encode(text)) gives the text back (up to whitespace and lower-casing).

    When the sample has words the vocabulary does not know (small vocabularies), the round trip
    is judged on text made of the vocabulary's own entries instead.
    """
    ids = tok(SAMPLE_TEXT)["input_ids"]
    back = tok.decode(ids, skip_special_tokens=True)
    lower = bool(getattr(tok, "do_lower_case", False)) or back == back.lower()
    if back == SAMPLE_TEXT or _norm(back) == _norm(SAMPLE_TEXT):
        return PASSED, f"{len(ids)} ids"
    if _same(back, SAMPLE_TEXT, lower=lower):
        return PASSED, f"{len(ids)} ids (equal up to whitespace or case)"
    unk = getattr(tok, "unk_token_id", None)
    if unk is not None and unk in ids:
        text = _vocab_text(tok)
        again = tok.decode(tok(text)["input_ids"], skip_special_tokens=True)
        if text.strip() and _same(again, text, lower=lower):
            return PASSED, "sample has unknown words; vocabulary text round-trips"
        sample, back = text, again
    else:
        sample = SAMPLE_TEXT
    why = " (the sample has unknown tokens)" if unk is not None and unk in ids else ""
    rep.finding(
        "HFC518",
        f"{type(tok).__name__}: decode(encode(text)) does not give the text back{why}: "
        f"{sample[:120]!r} -> {back[:120]!r}",
        severity="warning",
    )
    return PASSED, "lossy round trip"


SPECIAL = ("pad_token_id", "bos_token_id", "eos_token_id", "unk_token_id", "sep_token_id",
           "cls_token_id", "mask_token_id")  # fmt: skip


def special_tokens_agree(rep: Reporter, tok: Any, raw_config: dict[str, Any]) -> bool:
    ok = True
    for attr in SPECIAL:
        want = raw_config.get(attr)
        if want is None:
            continue
        have = getattr(tok, attr, None)
        wanted = want if isinstance(want, list) else [want]
        if have is None:
            token = tok.convert_ids_to_tokens(wanted[0]) if isinstance(wanted[0], int) else None
            rep.finding(
                "HFC519",
                f"config.json sets {attr}={want} but the tokenizer has no "
                f"{attr.replace('_id', '')} (id {wanted[0]} is {token!r} in its vocabulary)",
                path="config.json",
                severity="warning",
            )
            continue
        if have not in wanted:
            rep.finding(
                "HFC519",
                f"config.json sets {attr}={want} but the tokenizer's "
                f"{attr.replace('_id', '')} {getattr(tok, attr.replace('_id', ''), None)!r} "
                f"has id {have}",
                path="config.json",
            )
            ok = False
    return ok


def vocab_fits(rep: Reporter, tok: Any, vocab_limit: int | None) -> bool:
    if not vocab_limit:
        return True
    size = len(tok)
    ids = list(tok.get_vocab().values())
    top = max(ids) if ids else -1
    if size > vocab_limit or top >= vocab_limit:
        rep.finding(
            "HFC521",
            f"the tokenizer has {size} tokens (highest id {top}) but the embedding matrix has "
            f"{vocab_limit} rows: ids beyond it crash the model",
            fix="resize the embeddings (model.resize_token_embeddings(len(tokenizer))) and "
            "re-save, or remove the added tokens",
        )
        return False
    return True


# --------------------------------------------------------------------------------------------
# Modes
