"""Learning how the research module's forward is called, from its signature and traced calls.

Every question is answered by running the module (in eval mode, on tiny random inputs) rather
than by guessing from names, whenever a run can decide it:

- layout: change batch element 0 of the token ids under each reading (batch-first or
  sequence-first) and see which output slice moves;
- causality: change the last token and see whether earlier positions move;
- mask convention: pad the last position of one row and compare with the same row truncated:
  the convention under which they agree is the module's (1 = keep, or True = padding);
- vocabulary: the ``nn.Embedding`` that receives the ids; logits when the output's last
  dimension is that vocabulary;
- targets: a ``targets``/``labels`` argument is called with token ids; a scalar in the output is
  the module's loss, kept for training only if a cross-entropy recomputation from the logits
  agrees with it (which also tells whether the module shifts the targets itself, and which
  ignore index it uses). Logits for the last position only without targets (a common inference
  shortcut) are recognised, and the wrapper then always passes targets to get every position;
- key/value cache: a causal LM's own cache is used by generate() only when decoding with it
  reproduces full forwards (:mod:`~hf_custom.wrapping.kvcache`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hf_custom.errors import InputError
from hf_custom.wrapping.kvcache import CacheArgs, CacheSpec, cache_arguments, read_cache
from hf_custom.wrapping.shapes import no_embedding

IDS_NAMES = (
    "input_ids",
    "ids",
    "token_ids",
    "tokens",
    "input_tokens",
    "idx",
    "src",
    "x",
    "input",
    "inputs",
)
TOKEN_NAMES = IDS_NAMES[:7]  # names that say token ids (not x, input, inputs)
MASK_NAMES = (
    "attention_mask",
    "padding_mask",
    "src_key_padding_mask",
    "key_padding_mask",
    "input_mask",
    "mask",
)
TARGET_NAMES = ("targets", "labels", "target", "label", "y", "tgt", "lm_labels")
MaskStyle = Literal["keep", "keep-bool", "pad"]
BATCH, SEQ = 2, 7  # distinct sizes so that the layout of every output is unambiguous


@dataclass(frozen=True)
class ForwardSpec:
    ids_arg: str
    ids_positional: bool  # the ids are the first parameter: pass them positionally
    mask_arg: str | None
    mask_style: MaskStyle | None  # None: the module takes no mask, or ignores it
    mask_required: bool
    input_seq_first: bool
    output_seq_first: bool
    output_path: tuple[str | int, ...]  # () tensor; (0,) first of a tuple; ("logits",) a key
    output_kind: Literal["hidden", "logits", "classes"]  # classes: one vector per text
    causal: bool
    width: int  # last dimension of the output
    vocab_size: int | None
    input_embedding: str | None  # dotted name of the nn.Embedding receiving the ids
    embedding_dim: int | None
    lm_head: str | None = None  # the module's own LM head, unused by forward (dotted name)
    targets_arg: str | None = None  # the module's own targets/labels argument
    last_only: bool = False  # without targets the module returns the last position's logits only
    loss_path: tuple[str | int, ...] | None = None  # where its loss is, given targets
    targets_output_path: tuple[str | int, ...] | None = None  # where the logits are, given targets
    loss_shift: bool = False  # the module shifts the targets itself (HF-style labels)
    ignore_index: int | None = None  # the target value its loss skips
    loss_note: str | None = None  # why the module's loss is not used, if it is not
    fixed_args: tuple[tuple[str, int], ...] = ()  # always passed (start_pos=0 outside generate)
    cache: CacheSpec | None = None  # the module's own key/value cache, proven exact
    cache_note: str | None = None  # why generate() runs without a cache, if it does


def read_forward(
    module: Any,
    *,
    vocab_hint: int | None,
    seq_first: bool | None = None,
    mask_style: str | None = None,
    lm_head_hint: str | None = None,
) -> ForwardSpec:
    """Learn how ``module.forward`` is called and what it returns (see the module docstring)."""
    import torch

    name = type(module).__name__
    cargs = cache_arguments(module)
    a = _arguments(module, cargs)
    embeddings, bound = _embeddings(module, vocab_hint, ids_name=a.ids.name)
    module.eval()
    gen = torch.Generator().manual_seed(0)
    low = 1 if bound > 2 else 0
    x = torch.randint(low, bound, (BATCH, SEQ), generator=gen)
    y = torch.randint(low, bound, (BATCH, SEQ), generator=gen)
    call = _Caller(module, a)
    traced = _trace(module, call, embeddings, x, y)
    path, out, t_path, last_only, pooled = _main_output(name, traced)
    call.dummy_targets = last_only  # the module needs targets to return every position
    base_mask = torch.ones(BATCH, SEQ, dtype=torch.long) if a.mask_required else None

    def run(ids_t: Any, mask_t: Any = None) -> Any:
        return _select(
            call(ids_t, mask_t if mask_t is not None else _layout_mask(base_mask, ids_t)), path
        )

    if pooled:  # one vector per text: batch-first, and each row its own text
        _check_rows(run, x, bound, name)
        in_sf, out_sf = False, False
    elif seq_first is None:
        in_sf, out_sf = _layout(run, x, bound)
    else:
        in_sf, out_sf = seq_first, seq_first
    width = int(out.shape[-1])
    emb_name, vocab, dim = _vocabulary(traced, embeddings, vocab_hint, width=width)
    lm_head = (
        None if pooled else _lm_head(module, out, vocab, hint=lm_head_hint, called=traced.called)
    )

    def hf(ids_bs: Any, mask_bs: Any = None, style: str | None = None) -> Any:
        ids_m = ids_bs.t() if in_sf else ids_bs
        mask_m = None if mask_bs is None or style is None else _convert_mask(mask_bs, style)
        o = run(ids_m, mask_m)
        return o.transpose(0, 1) if out_sf else o

    causal = not pooled and _is_causal(hf, x, bound)
    style = _mask_convention(hf, x, a, mask_style)
    loss: dict[str, Any] = {}
    if a.tgt is not None and t_path is not None and width == vocab and not (in_sf or pooled):
        loss = _loss_convention(call, x, y, traced.with_targets, t_path, base_mask)
    uses_targets = a.tgt is not None and bool(loss or last_only)
    cache, cache_note = None, None
    if causal and width == vocab:
        cache, cache_note = _kv_cache(
            call, module, cargs, x, plain=lambda: run(x), seq_first=in_sf or out_sf, mask=style
        )
    return ForwardSpec(
        fixed_args=a.fixed,
        cache=cache,
        cache_note=cache_note,
        targets_arg=a.tgt.name if (a.tgt is not None and uses_targets) else None,
        last_only=last_only,
        targets_output_path=t_path if uses_targets else None,
        loss_path=loss.get("path"),
        loss_shift=bool(loss.get("shift")),
        ignore_index=loss.get("ignore_index"),
        loss_note=loss.get("note"),
        ids_arg=a.ids.name,
        ids_positional=a.ids is a.params[0] and a.ids.kind != a.ids.KEYWORD_ONLY,
        mask_arg=a.mask.name if (a.mask is not None and style is not None) else None,
        mask_style=style,
        mask_required=a.mask_required,
        input_seq_first=in_sf,
        output_seq_first=out_sf,
        output_path=path,
        output_kind="classes" if pooled else "logits" if width == vocab else "hidden",
        causal=causal,
        width=width,
        vocab_size=vocab,
        input_embedding=emb_name,
        lm_head=lm_head,
        embedding_dim=dim,
    )


@dataclass(frozen=True)
class _Arguments:
    """The parameters of forward that wrap fills: the ids, and optionally a mask and targets."""

    params: tuple[inspect.Parameter, ...]
    ids: inspect.Parameter
    mask: inspect.Parameter | None
    tgt: inspect.Parameter | None
    fixed: tuple[tuple[str, int], ...] = ()  # required position arguments, 0 outside generate

    @property
    def mask_required(self) -> bool:
        return self.mask is not None and self.mask.default is inspect.Parameter.empty


def _arguments(module: Any, cargs: CacheArgs) -> _Arguments:
    sig = inspect.signature(module.forward)
    params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not params:
        raise InputError(
            f"{type(module).__name__}.forward takes no arguments",
            hint="wrap a module whose forward takes token ids",
        )
    by_name = {p.name: p for p in params}
    ids = next((by_name[n] for n in IDS_NAMES if n in by_name), params[0])
    mask = next((by_name[n] for n in MASK_NAMES if n in by_name and by_name[n] is not ids), None)
    if mask is None:  # pad_mask, src_mask, ...
        mask = next((p for p in params if "mask" in p.name.lower() and p is not ids), None)
    tgt = next(
        (by_name[n] for n in TARGET_NAMES if n in by_name and by_name[n] not in (ids, mask)), None
    )
    if tgt is not None and tgt.default is inspect.Parameter.empty:
        tgt = None  # a required argument wrap cannot tell the meaning of: refused below
    fixed: tuple[tuple[str, int], ...] = ()
    if cargs.position_required and cargs.position_arg not in (ids.name, getattr(mask, "name", "")):
        fixed = ((str(cargs.position_arg), 0),)  # start_pos: no tokens before these
    for p in params:
        if p.name in dict(fixed):
            continue
        if p not in (ids, mask, tgt) and p.default is inspect.Parameter.empty:
            raise InputError(
                f"{type(module).__name__}.forward needs `{p.name}`, which wrap cannot supply",
                hint="give it a default in the research module, or wrap a module whose forward "
                "takes only token ids and a mask",
            )
    return _Arguments(params=tuple(params), ids=ids, mask=mask, tgt=tgt, fixed=fixed)


def _embeddings(
    module: Any, vocab_hint: int | None, *, ids_name: str
) -> tuple[dict[str, Any], int]:
    """The module's ``nn.Embedding``s by name, and a bound on the token ids all of them accept."""
    import torch

    embeddings = {n: m for n, m in module.named_modules() if isinstance(m, torch.nn.Embedding)}
    bound = min(
        [m.num_embeddings for m in embeddings.values()] + ([vocab_hint] if vocab_hint else []),
        default=None,
    )
    if bound is None and ids_name in TOKEN_NAMES:  # token ids used some other way (one-hot)
        raise InputError(
            f"cannot tell the vocabulary size of {type(module).__name__}: it has no nn.Embedding",
            hint="pass --arg vocab_size=N",
        )
    if bound is None:
        raise no_embedding(module)
    return embeddings, bound


class _Caller:
    """Calls the module's forward with ids, an optional mask and optional targets (no grad)."""

    def __init__(self, module: Any, a: _Arguments) -> None:
        self.module = module
        self.a = a
        self.dummy_targets = False  # set when the module needs targets to return every position

    def __call__(self, ids_t: Any, mask_t: Any = None, targets_t: Any = None, **extra: Any) -> Any:
        import torch

        a = self.a
        args: list[Any] = []
        kwargs: dict[str, Any] = dict(a.fixed)
        if a.ids.kind == a.ids.POSITIONAL_ONLY:
            args.append(ids_t)
        else:
            kwargs[a.ids.name] = ids_t
        if a.mask is not None and mask_t is not None:
            kwargs[a.mask.name] = mask_t
        if a.tgt is not None and targets_t is None and self.dummy_targets and not extra:
            targets_t = ids_t  # (not when decoding with a cache: the last position is enough)
        if a.tgt is not None and targets_t is not None:
            kwargs[a.tgt.name] = targets_t
        kwargs.update(extra)
        with torch.no_grad():
            return self.module(*args, **kwargs)


@dataclass(frozen=True)
class _Traced:
    first: Any  # the output without targets
    with_targets: Any  # the output given targets (None: no targets argument, or it failed)
    seen: Mapping[str, int]  # embeddings that received the ids
    called: frozenset[str]  # submodules forward called


def _trace(module: Any, call: _Caller, embeddings: Mapping[str, Any], x: Any, y: Any) -> _Traced:
    """Call forward without targets (and with them, if it takes targets), recording which
    submodules run and which embedding receives the ids."""
    import torch

    seen: dict[str, int] = {}
    hooks = [
        m.register_forward_pre_hook(_recorder(name, x, seen)) for name, m in embeddings.items()
    ]
    called: set[str] = set()
    for name, m in module.named_modules():
        if name:
            hooks.append(m.register_forward_pre_hook(_called(name, called)))
    full_keep = torch.ones(BATCH, SEQ, dtype=torch.long)
    required = call.a.mask_required
    with_targets = None
    try:
        if call.a.tgt is not None:  # the call with targets returns every position (and a loss)
            with_targets = _try(lambda: call(x, full_keep if required else None, y))
            if with_targets is None and required:
                with_targets = _try(lambda: call(x, full_keep.bool(), y))
        first = _try(lambda: call(x, full_keep if required else None))
        if first is None and required:
            first = _try(lambda: call(x, full_keep.bool()))
        if first is None:
            raise InputError(
                f"{type(module).__name__}.forward failed on token ids of shape ({BATCH}, {SEQ})",
                hint="check that the module takes a LongTensor of token ids",
            )
    finally:
        for h in hooks:
            h.remove()
    return _Traced(first=first, with_targets=with_targets, seen=seen, called=frozenset(called))


def _main_output(
    name: str, traced: _Traced
) -> tuple[tuple[str | int, ...], Any, tuple[str | int, ...] | None, bool, bool]:
    """(path to the main tensor, that tensor, its path given targets, last position only,
    one vector per text rather than per token)."""
    import torch

    path, out = _main_tensor(traced.first)
    last_only = False
    t_path: tuple[str | int, ...] | None = None
    if traced.with_targets is not None:
        t_path, t_out = _main_tensor(traced.with_targets)
        short_path, short = _main_tensor(traced.first, seq=1)
        if (
            path is None
            and t_path is not None
            and short_path is not None
            and torch.allclose(short[:, -1], t_out[:, -1], atol=1e-5)
        ):
            last_only = True
            path, out = t_path, t_out
    if path is None:
        p_path, p_out = _pooled(traced.first)
        if p_path is not None:
            return p_path, p_out, None, False, True
        raise InputError(
            f"{name}.forward returned no (batch, seq, features) tensor",
            hint="wrap needs a vector per token (hidden states or logits) or one per text (class "
            "scores): wrap the part of the model that returns them",
        )
    return path, out, t_path, last_only, False


def _pooled(out: Any) -> tuple[tuple[str | int, ...] | None, Any]:
    """The first (batch, n) float tensor of an output: one vector per text (class scores)."""
    import torch

    def ok(t: Any) -> bool:
        return (
            isinstance(t, torch.Tensor)
            and t.is_floating_point()
            and t.dim() == 2
            and t.size(0) == BATCH
        )

    if ok(out):
        return (), out
    if isinstance(out, Mapping):
        keys = [k for k in ("logits",) if k in out] + [k for k in out if k != "logits"]
        return next((((k,), out[k]) for k in keys if ok(out[k])), (None, None))
    if isinstance(out, (tuple, list)):
        return next((((i,), t) for i, t in enumerate(out) if ok(t)), (None, None))
    return None, None


def _check_rows(run: Callable[..., Any], x: Any, bound: int, name: str) -> None:
    """Refuse a (batch, n) output unless changing text 0 changes row 0 only."""
    d = _changed(run(_bump(x, bound, (0, slice(None)))), run(x))
    if not (bool(d[0].any()) and not bool(d[1:].any())):
        raise InputError(
            f"{name}.forward returns a (batch, {int(run(x).shape[-1])}) tensor whose rows are "
            "not one per text",
            hint="wrap needs a vector per token (hidden states or logits) or one per text",
        )


def _vocabulary(
    traced: _Traced, embeddings: Mapping[str, Any], vocab_hint: int | None, *, width: int
) -> tuple[str | None, int, int | None]:
    """(the embedding receiving the ids, the vocabulary size, the embedding width)."""
    emb_name = next(iter(traced.seen), None)
    emb = embeddings.get(emb_name) if emb_name else None
    vocab = emb.num_embeddings if emb is not None else vocab_hint
    if vocab is None:
        raise InputError(
            "cannot tell the vocabulary size: no nn.Embedding receives the token ids",
            hint="pass --arg vocab_size=N",
        )
    dim = emb.embedding_dim if emb is not None else None
    if width == vocab and dim == vocab:
        raise InputError(
            "cannot tell logits from hidden states: the vocabulary and the hidden size are equal",
            hint="give them different values with --arg (e.g. --arg vocab_size=N) for the wrap",
        )
    return emb_name, vocab, dim


def _lm_head(
    module: Any, out: Any, vocab: int, *, hint: str | None, called: frozenset[str]
) -> str | None:
    """The module's own LM head when forward returns hidden states (``--lm-head`` or found)."""
    if int(out.shape[-1]) == vocab or hint == "none":
        return None
    lm_head = hint or _unused_lm_head(module, out, vocab, set(called))
    if hint and not _is_lm_head(module, hint, out, vocab):
        raise InputError(
            f"--lm-head {hint}: no submodule of that name maps the hidden states to {vocab} logits",
            hint="pass the attribute path of the module's own language-modeling head, or "
            "--lm-head none for a new one",
        )
    return lm_head


def _mask_convention(
    hf: Callable[..., Any], x: Any, a: _Arguments, requested: str | None
) -> MaskStyle | None:
    """How the mask argument marks padding (None: no mask argument, or it is ignored)."""
    if a.mask is None:
        return None
    style = (
        requested
        if requested not in (None, "auto")
        else _mask_style(hf, x, a.mask.name, optional=not a.mask_required)
    )
    return None if style == "ignore" else style  # type: ignore[return-value]


def _kv_cache(
    call: _Caller,
    module: Any,
    cargs: CacheArgs,
    x: Any,
    *,
    plain: Callable[[], Any],
    seq_first: bool,
    mask: str | None,
) -> tuple[CacheSpec | None, str | None]:
    """The module's own cache for generate(), or why generate() reruns the whole text."""
    if not cargs.any:
        return None, None
    if seq_first:
        why = "the module puts the sequence first: wrap drives its cache only for batch-first"
        return None, f"{why} modules (use_cache false)"
    mask_arg = call.a.mask.name if (call.a.mask is not None and mask is not None) else None
    spec = read_cache(
        lambda ids, **kw: call(ids, **kw),
        module,
        cargs,
        x,
        plain,
        mask=(mask_arg, mask) if mask_arg and mask else None,
    )
    if spec is None:
        names = ", ".join(f"`{n}`" for n in sorted(cargs.names()))
        return None, (
            f"forward takes {names}, but no cache convention decodes token by token to the "
            "logits of a full forward: generate() reruns the whole text (use_cache false)"
        )
    return spec, None


def _recorder(name: str, x: Any, seen: dict[str, int]) -> Callable[..., None]:
    def hook(_m: Any, inputs: tuple[Any, ...]) -> None:
        t = inputs[0] if inputs else None
        if t is None or getattr(t, "shape", None) is None:
            return
        if tuple(t.shape) == (BATCH, SEQ) and bool((t == x).all()):
            seen.setdefault(name, 0)
        elif tuple(t.shape) == (SEQ, BATCH) and bool((t == x.t()).all()):
            seen.setdefault(name, 1)

    return hook


def _called(name: str, called: set[str]) -> Callable[..., None]:
    def hook(_m: Any, _inputs: Any) -> None:
        called.add(name)

    return hook


def _is_lm_head(module: Any, name: str, hidden: Any, vocab: int) -> bool:
    import torch

    try:
        head = module.get_submodule(name)
        with torch.no_grad():
            logits = head(hidden)
    except Exception:
        return False
    return isinstance(logits, torch.Tensor) and tuple(logits.shape) == (*hidden.shape[:-1], vocab)


HEAD_WORDS = ("lm_head", "head", "classifier", "decoder", "mlm", "lm", "output", "proj")


def _unused_lm_head(module: Any, hidden: Any, vocab: int, called: set[str]) -> str | None:
    """A submodule forward never calls that turns the hidden states into vocabulary logits
    (research code often keeps its masked-LM head outside forward, as LTG-BERT does)."""
    unused = [n for n, _ in module.named_modules() if n and n not in called]
    top = [n for n in unused if not any(n.startswith(u + ".") for u in unused)]
    found = [n for n in top if _is_lm_head(module, n, hidden, vocab)]
    if not found:
        return None

    def rank(name: str) -> tuple[int, int]:
        leaf = name.rsplit(".", 1)[-1].lower()
        hits = [i for i, w in enumerate(HEAD_WORDS) if w in leaf]
        return (hits[0] if hits else len(HEAD_WORDS), name.count("."))

    return min(found, key=rank)


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        return None


def _loss_convention(
    call: Callable[..., Any], x: Any, y: Any, out: Any, path: tuple[str | int, ...], mask: Any
) -> dict[str, Any]:
    """Where the module's loss is, and whether a cross-entropy recomputation agrees with it:
    unshifted (the caller shifts, as GPT training loops do) or shifted inside the module."""
    import torch
    from torch.nn import functional as F

    lpath = _scalar_path(out)
    if lpath is None:
        return {"note": "the module returns no scalar loss given targets: wrap computes it"}
    logits = _select(out, path)
    loss = _select(out, lpath).float()
    v = logits.size(-1)
    plain = F.cross_entropy(logits.reshape(-1, v), y.reshape(-1))
    shifted = F.cross_entropy(logits[:, :-1].reshape(-1, v), y[:, 1:].reshape(-1))
    if torch.allclose(loss, plain, atol=1e-4):
        shift = False
    elif torch.allclose(loss, shifted, atol=1e-4):
        shift = True
    else:
        return {
            "note": f"the module's loss ({float(loss):.4f}) is not the cross-entropy of its "
            f"logits ({float(plain):.4f} unshifted, {float(shifted):.4f} shifted): wrap "
            "computes the loss itself"
        }
    for ignore in (-100, -1):
        y2 = y.clone()
        y2[0, 2:4] = ignore
        try:
            got = _select(call(x, mask, y2), lpath).float()
        except Exception:
            continue
        lg, tg = (logits[:, :-1], y2[:, 1:]) if shift else (logits, y2)
        want = F.cross_entropy(lg.reshape(-1, v), tg.reshape(-1), ignore_index=ignore)
        if torch.allclose(got, want, atol=1e-4):
            return {"path": lpath, "shift": shift, "ignore_index": ignore}
    return {"note": "the module's loss skips neither -100 nor -1 targets: wrap computes it"}


def _scalar_path(out: Any) -> tuple[str | int, ...] | None:
    import torch

    def ok(t: Any) -> bool:
        return isinstance(t, torch.Tensor) and t.dim() == 0 and t.is_floating_point()

    if isinstance(out, Mapping):
        keys = [k for k in ("loss",) if k in out] + [k for k in out if k != "loss"]
        return next(((k,) for k in keys if isinstance(k, str) and ok(out[k])), None)
    if isinstance(out, (tuple, list)):
        return next(((i,) for i, t in enumerate(out) if ok(t)), None)
    return None


def _main_tensor(out: Any, seq: int = SEQ) -> tuple[tuple[str | int, ...] | None, Any]:
    import torch

    def ok(t: Any) -> bool:
        return (
            isinstance(t, torch.Tensor)
            and t.dim() == 3
            and t.is_floating_point()
            and tuple(t.shape[:2]) in ((BATCH, seq), (seq, BATCH))
        )

    if ok(out):
        return (), out
    if isinstance(out, Mapping):
        keys = [k for k in ("logits", "last_hidden_state", "hidden_states") if k in out]
        keys += [k for k in out if k not in keys]
        for k in keys:
            if isinstance(k, str) and ok(out[k]):
                return (k,), out[k]
    if isinstance(out, (tuple, list)):
        for i, t in enumerate(out):
            if ok(t):
                return (i,), t
    return None, None


def _select(out: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        out = out[step]
    return out


def _layout_mask(mask: Any, ids_t: Any) -> Any:
    if mask is None:
        return None
    import torch

    return torch.ones(ids_t.shape, dtype=mask.dtype)


def _changed(a: Any, b: Any) -> Any:
    d = (a - b).abs()
    return d.reshape(d.shape[0], d.shape[1], -1).amax(-1) > 1e-6


def _bump(x: Any, bound: int, index: Any) -> Any:
    y = x.clone()
    low = 1 if bound > 2 else 0
    y[index] = (y[index] - low + 1) % (bound - low) + low
    return y


def _layout(run: Callable[..., Any], x: Any, bound: int) -> tuple[bool, bool]:
    """(input sequence-first, output sequence-first) from where a change to one element lands."""
    base = run(x)
    for in_sf, index in ((False, (0, slice(None))), (True, (slice(None), 0))):
        d = _changed(run(_bump(x, bound, index)), base)
        if not bool(d.any()):
            continue
        only_dim0 = bool(d[0].any()) and not bool(d[1:].any())
        only_dim1 = bool(d[:, 0].any()) and not bool(d[:, 1:].any())
        batch = SEQ if in_sf else BATCH  # the size of the batch under this reading
        if only_dim0 and d.shape[0] == batch and d.shape[0] != d.shape[1]:
            return in_sf, False
        if only_dim1 and d.shape[1] == batch:
            return in_sf, True
    raise InputError(
        "cannot tell whether the module puts the batch or the sequence first",
        hint="pass --batch-first or --seq-first",
    )


def _is_causal(hf: Callable[..., Any], x: Any, bound: int) -> bool:
    base = hf(x)
    moved = _changed(hf(_bump(x, bound, (slice(None), -1))), base)
    return not bool(moved[:, :-1].any()) and bool(moved[:, -1].any())


def _convert_mask(mask_bs: Any, style: str) -> Any:
    if style == "keep":
        return mask_bs
    if style == "keep-bool":
        return mask_bs.bool()
    return mask_bs == 0


def _mask_style(hf: Callable[..., Any], x: Any, name: str, *, optional: bool) -> str:
    import torch

    mask = torch.ones(BATCH, SEQ, dtype=torch.long)
    mask[0, -1] = 0
    for style in ("keep", "keep-bool", "pad"):
        try:  # masks are (batch, seq) whatever the layout of the ids, as in nn.Transformer
            if optional:  # "nothing is padding" must mean the same as no mask at all
                same = hf(x, torch.ones(BATCH, SEQ, dtype=torch.long), style)
                if not torch.allclose(same, hf(x), atol=1e-5):
                    continue
            full = hf(x, mask, style)
            row0 = hf(x[:1, :-1], torch.ones(1, SEQ - 1, dtype=torch.long), style)
            row1 = hf(x[1:], torch.ones(1, SEQ, dtype=torch.long), style)
        except Exception:
            continue
        first = full[0, :-1] if full.dim() == 3 else full[0]  # a vector per token, or per text
        if torch.allclose(first, row0[0], atol=1e-5) and torch.allclose(
            full[1], row1[0], atol=1e-5
        ):
            return style
    raise InputError(
        f"cannot tell how `{name}` marks padding (no convention gives the same outputs as an "
        "unpadded input)",
        hint="pass --mask keep (1 = real token), --mask pad (True = padding) or --mask ignore",
    )
