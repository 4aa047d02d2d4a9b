"""Verification child, part 5: the config value or input behind an exception.

A fork runs transformers' own code unchanged, so an exception raised there (or in torch, called
from there) says little about the model: what went wrong is usually a value of config.json.
:func:`config_cause` names it, in two ways:

- consistency relations every transformers model relies on, checked on the config the failing
  frames were using (``hidden_size`` divisible by ``num_attention_heads``, token ids inside the
  vocabulary, ...);
- otherwise, the config attributes the failing lines read (``config.X`` or ``self.X`` mirroring
  ``config.X``), walking the traceback from the innermost frame outwards through transformers'
  code and the model's files, with their values, and the shapes of the tensors those lines use.
"""

# ruff: noqa: PTH119
# (os.path throughout: this script runs in other interpreters and stays plain and portable)
from __future__ import annotations

import linecache
import os
import re
from typing import Any

_READ = re.compile(r"\b(?:self\.)?config\.(\w+)")
_SELF = re.compile(r"\bself\.(\w+)")
_NAME = re.compile(r"\b([A-Za-z_]\w*)\b")
_IDS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")


def _is_config(obj: Any) -> bool:
    try:
        from transformers import PretrainedConfig
    except ImportError:  # pragma: no cover - transformers always there in the child
        return False
    return isinstance(obj, PretrainedConfig)


def _int(config: Any, name: str) -> int | None:
    try:
        v = getattr(config, name, None)
    except Exception:
        return None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def broken_relations(config: Any) -> list[tuple[str, str]]:
    """(what is wrong, how to fix) for each relation between config values that fails."""
    out: list[tuple[str, str]] = []
    hidden = _int(config, "hidden_size")
    heads = _int(config, "num_attention_heads")
    kv = _int(config, "num_key_value_heads")
    head_dim = _int(config, "head_dim")
    if hidden and heads and not head_dim and hidden % heads:
        out.append(
            (
                f"config hidden_size={hidden} is not divisible by num_attention_heads={heads}",
                "set num_attention_heads to a divisor of hidden_size (or hidden_size to a "
                "multiple of it) in config.json",
            )
        )
    if heads and kv and heads % kv:
        out.append(
            (
                f"config num_attention_heads={heads} is not a multiple of num_key_value_heads={kv}",
                "set num_key_value_heads to a divisor of num_attention_heads in config.json",
            )
        )
    vocab = _int(config, "vocab_size")
    for name in _IDS:
        v = _int(config, name)
        if vocab and v is not None and not 0 <= v < vocab:
            out.append(
                (
                    f"config {name}={v} is outside the vocabulary (vocab_size={vocab})",
                    f"set {name} to the id of that token in the tokenizer (below {vocab}), "
                    "or vocab_size to the embedding's size",
                )
            )
    return out


def _frames(tb: Any) -> list[Any]:
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    return frames


def _ours(filename: str, staged: str) -> bool:
    """transformers' own code, or the model's files (a fork runs the copy)."""
    fn = filename.replace("\\", "/")
    return (
        "/transformers/" in fn
        or "/transformers_modules/" in fn
        or bool(staged and fn.startswith(staged + "/"))
    )


def _frame_config(frame: Any) -> Any:
    loc = frame.f_locals
    for name in ("config", "self"):
        obj = loc.get(name)
        if name == "self":
            obj = getattr(obj, "config", None) if obj is not None else None
        if _is_config(obj):
            return obj
    return None


def _where(filename: str, lineno: int) -> str:
    fn = filename.replace("\\", "/")
    if "/transformers/" in fn and "/transformers_modules/" not in fn:
        return f"transformers/{fn.split('/transformers/', 1)[1]}:{lineno}"
    return f"{os.path.basename(fn)}:{lineno}"


def line_reads(
    exc: BaseException, *, staged: str = "", depth: int = 4
) -> tuple[str, list[str], Any]:
    """(where, ["name=value", ...], config) for the innermost failing line (within the
    ``depth`` innermost frames of transformers or model code) that reads config values or uses
    tensors; ("", [], config or None) when none does. When the innermost frame of the model's
    own files names nothing on its failing line (a bare ``raise``), its function's config reads
    and the plain values on that line are the cause, before any outer caller's line."""
    import torch

    config = None
    seen = 0
    tried_function = False
    for tb in reversed(_frames(exc.__traceback__)):
        frame = tb.tb_frame
        code = frame.f_code
        if "/torch/" in code.co_filename.replace("\\", "/") or not _ours(code.co_filename, staged):
            continue
        seen += 1
        if seen > depth:
            break
        cfg = _frame_config(frame)
        config = config if config is not None else cfg
        text = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        if not text:
            continue
        facts: list[str] = []
        if cfg is not None:
            for attr in dict.fromkeys(_READ.findall(text)):
                if hasattr(cfg, attr):
                    facts.append(f"config.{attr}={getattr(cfg, attr)!r}")
            me = frame.f_locals.get("self")
            for attr in dict.fromkeys(_SELF.findall(text)):
                if attr == "config" or me is None or not hasattr(cfg, attr):
                    continue
                try:
                    mine = getattr(me, attr)
                except Exception:
                    continue
                if mine == getattr(cfg, attr):
                    facts.append(f"config.{attr}={mine!r}")
        for name in dict.fromkeys(_NAME.findall(text)):
            value = frame.f_locals.get(name)
            if isinstance(value, torch.Tensor):
                top = ""
                if value.numel() and not value.is_floating_point() and value.dtype != torch.bool:
                    top = f" (values up to {int(value.max())})"
                facts.append(f"{name} of shape {list(value.shape)}{top}")
        if facts:
            return f"{_where(code.co_filename, tb.tb_lineno)} `{text[:120]}`", facts[:6], config
        if not tried_function and _author(code.co_filename, staged):
            # the innermost frame of the model's own code names nothing on its failing line
            # (``raise ValueError(f"... {kind}")``): what its function read from the config
            # explains it, not an outer caller's line
            tried_function = True
            facts = _function_reads(frame, tb.tb_lineno, text, cfg)
            if facts:
                where = (
                    f"{_where(code.co_filename, tb.tb_lineno)} `{text[:120]}` in {code.co_name}()"
                )
                return where, facts[:6], config
    return "", [], config


def _author(filename: str, staged: str) -> bool:
    """The model's own files (not transformers' code)."""
    fn = filename.replace("\\", "/")
    return "/transformers_modules/" in fn or bool(staged and fn.startswith(staged + "/"))


def _function_reads(frame: Any, lineno: int, text: str, cfg: Any) -> list[str]:
    """Plain values the failing line names (``kind='default'``), then the config values its
    function read before it (``config.rope_scaling={...}``)."""
    facts = []
    for name in dict.fromkeys(_NAME.findall(text)):
        value = frame.f_locals.get(name)
        if isinstance(value, (str, int, float, bool)) and len(repr(value)) <= 80:
            facts.append(f"{name}={value!r}")
    if cfg is None:
        return facts
    code = frame.f_code
    lines = (linecache.getline(code.co_filename, n) for n in range(code.co_firstlineno, lineno + 1))
    for attr in dict.fromkeys(a for line in lines for a in _READ.findall(line)):
        if hasattr(cfg, attr):
            value = repr(getattr(cfg, attr))
            facts.append(f"config.{attr}={value[:120]}")
    return facts


_SIGNATURE = re.compile(
    r"(?P<name>[A-Za-z_][\w.]*)\(\) (?P<what>got an unexpected keyword argument '(?P<arg>\w+)'"
    r"|missing \d+ required (?:positional|keyword-only) arguments?[^\n]*"
    r"|takes \d+ positional arguments? but \d+ (?:were|was) given"
    r"|got multiple values for argument '(?P<dup>\w+)')"
)


def _method_location(qualname: str, staged: str) -> str:
    """``file:line`` of ``Class.method`` (or a function) defined in the model's own files."""
    import inspect
    import sys

    owner, _, attr = qualname.rpartition(".")
    for mod in list(sys.modules.values()):
        path = str(getattr(mod, "__file__", "") or "")
        if not (str(getattr(mod, "__name__", "")).startswith("transformers_modules") or
                (staged and path.startswith(staged + os.sep))):  # fmt: skip
            continue
        obj = getattr(mod, owner, None) if owner else mod
        func = getattr(obj, attr, None) if obj is not None else None
        if func is None or not callable(func):
            continue
        try:
            src = inspect.getsourcefile(func) or ""
            if (
                not (staged and src.startswith(staged + os.sep))
                and "transformers_modules" not in src
            ):
                continue
            return f"{os.path.basename(src)}:{inspect.getsourcelines(func)[1]}"
        except (OSError, TypeError):
            continue
    return ""


def signature_cause(exc: BaseException, *, staged: str = "") -> tuple[str, str] | None:
    """A TypeError about arguments is a signature mismatch between the caller (often
    transformers) and the model's own override: (cause, fix) naming both, or None."""
    if not isinstance(exc, TypeError):
        return None
    m = _SIGNATURE.search(str(exc))
    if m is None:
        return None
    name = m.group("name")
    where = _method_location(name, staged)
    frames = _frames(exc.__traceback__)
    caller = ""
    if frames:
        tb = frames[-1]
        caller = _where(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    arg = m.group("arg") or m.group("dup")
    cause = (
        f"{name}(){f' ({where})' if where else ''} does not accept the call"
        f"{f' at {caller}' if caller else ''}: {m.group('what')}; the method's signature differs "
        "from the one its caller expects (an override of a transformers method written for "
        "another version?)"
    )
    fix = (
        f"give {name}() the signature of the method it overrides in the installed transformers"
        + (f" (accept `{arg}`, or `**kwargs`)" if arg else "")
    )
    return cause, fix


def config_cause(
    exc: BaseException, config: Any = None, *, staged: str = ""
) -> tuple[str, str] | None:
    """(cause, fix) naming the config value or input behind ``exc``, or None. A TypeError
    about arguments names the signature mismatch instead (:func:`signature_cause`)."""
    try:
        sig = signature_cause(exc, staged=staged)
    except Exception:  # never let the diagnosis itself fail
        sig = None
    if sig is not None:
        return sig
    try:
        where, facts, frame_config = line_reads(exc, staged=staged)
    except Exception:  # never let the diagnosis itself fail
        return None
    cfg = frame_config if frame_config is not None else config
    broken = broken_relations(cfg) if cfg is not None else []
    # a token id outside the vocabulary explains index errors, or a line that reads that id
    indexing = re.search(r"index|padding", str(exc), re.I) is not None
    broken = [
        b
        for b in broken
        if "outside the vocabulary" not in b[0]
        or indexing
        or any(f.startswith(f"config.{b[0].split()[1].split('=')[0]}=") for f in facts)
    ]
    if broken:
        what = "; ".join(b[0] for b in broken)
        related = [f for f in facts if f.split("=")[0].removeprefix("config.") in what]
        reads = f" (the failing line {where} reads {', '.join(related)})" if related else ""
        return what + reads, broken[0][1]
    if facts:
        names = [f.split("=")[0] for f in facts if f.startswith("config.")]
        fix = (
            f"check {', '.join(n.removeprefix('config.') for n in names)} in config.json: the "
            "failing line computes with them"
            if names
            else "check the shapes of the inputs named above against the config"
        )
        return f"the failing line {where} uses {', '.join(facts)}", fix
    return None
