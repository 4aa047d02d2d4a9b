"""Finding a research LM's own key/value cache, and proving that decoding with it is exact.

Research decoders keep a cache in one of three common ways:

- **returned**: forward takes the past (``past_key_values``, ``kv_cache``, ``past``, ...) and
  returns the updated cache beside the logits (a list of ``(k, v)`` per layer, a dict, ...);
- **held**: the module keeps the cache itself, switched on by a flag (``use_cache=True``) and
  emptied by a method (``reset_cache()``);
- **positioned**: the module keeps the cache itself and forward is told where the new tokens go
  (``start_pos``, as in the reference LLaMA code).

No convention is taken on trust: a candidate is adopted only when decoding a prompt token by
token with it gives the logits of a full forward on the same tokens, twice in a row (so that a
second ``generate`` starts clean), and a plain forward afterwards is unchanged. A returned cache
can also be reordered for beam search when reordering its batch rows is proven to reorder the
decoding.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

CACHE_ARGS = (
    "past_key_values",
    "past_key_value",
    "past",
    "kv_cache",
    "kv_caches",
    "cache",
    "caches",
    "past_kv",
    "past_kvs",
    "layer_past",
    "kvcache",
)
FLAG_ARGS = ("use_cache", "use_kv_cache", "kv_cache", "cache", "use_past", "enable_cache")
POSITION_ARGS = (
    "start_pos",
    "input_pos",
    "pos",
    "position",
    "offset",
    "start",
    "past_length",
    "pos_offset",
    "seqlen_offset",
    "position_offset",
    "start_position",
    "cur_pos",
)
RESET_NAMES = (
    "reset_cache",
    "reset_caches",
    "reset_kv_cache",
    "clear_cache",
    "clear_kv_cache",
    "reset_kv",
    "clear_kv",
    "reset_state",
)
PROMPT = 3  # tokens prefilled before decoding one at a time in the trial
ATOL = 1e-4
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class CacheArgs:
    """The forward parameters and methods that may belong to a cache (before any trial)."""

    cache_arg: str | None = None  # takes the past cache (default None)
    flag_arg: str | None = None  # a boolean switching the cache on
    position_arg: str | None = None  # the number of tokens already cached
    position_required: bool = False
    reset: str | None = None  # a method emptying a module-held cache

    @property
    def any(self) -> bool:
        return bool(self.cache_arg or self.flag_arg or self.position_arg)

    def names(self) -> frozenset[str]:
        return frozenset(n for n in (self.cache_arg, self.flag_arg, self.position_arg) if n)


@dataclass(frozen=True)
class CacheSpec:
    """How the wrapper drives the research module's own cache in generate()."""

    style: Literal["returned", "held"]
    cache_arg: str | None  # returned: the argument taking the past cache
    cache_path: Path | None  # returned: where the updated cache is in forward's output
    flag_arg: str | None  # passed True when decoding
    position_arg: str | None  # passed the number of tokens already cached
    position_tensor: bool  # the position is a tensor of positions (torch.arange), not an int
    reset: str | None  # held: method called before a new prompt
    logits_path: Path  # where the logits are in forward's output when decoding
    reorderable: bool  # beam search can reorder the cache's batch rows
    mask_arg: str | None = None  # the module's mask argument, passed when decoding
    mask_style: str | None = None  # its convention (keep, keep-bool, pad)
    mask_span: Literal["all", "new"] | None = None  # the mask covers past + new tokens, or new


def cache_arguments(module: Any) -> CacheArgs:
    """The cache-like parameters of ``module.forward`` and the reset method, by name and
    default (a flag has a boolean default, a past cache defaults to None)."""
    params = {
        p.name: p
        for p in inspect.signature(module.forward).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    flag = next((n for n in FLAG_ARGS if n in params and isinstance(params[n].default, bool)), None)
    cache = next(
        (n for n in CACHE_ARGS if n in params and n != flag and params[n].default is None), None
    )
    position = next((n for n in POSITION_ARGS if n in params), None)
    required = position is not None and params[position].default is inspect.Parameter.empty
    if position is not None and not required:
        default = params[position].default
        if not (default is None or (isinstance(default, int) and not isinstance(default, bool))):
            position = None  # not a count of cached tokens
    reset = next((n for n in RESET_NAMES if _no_arg_method(module, n)), None)
    return CacheArgs(
        cache_arg=cache,
        flag_arg=flag,
        position_arg=position,
        position_required=required,
        reset=reset,
    )


def _no_arg_method(module: Any, name: str) -> bool:
    fn = getattr(module, name, None)
    if not callable(fn) or isinstance(fn, type):
        return False
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in sig.parameters.values()
    )


Call = Callable[..., Any]  # call(ids, **extra_kwargs) -> the module's raw output


Mask = tuple[str, str, str] | None  # (argument, convention, span)


def read_cache(
    call: Call,
    module: Any,
    args: CacheArgs,
    x: Any,
    plain: Callable[[], Any],
    *,
    mask: tuple[str, str] | None = None,
) -> CacheSpec | None:
    """The first cache convention under which token-by-token decoding of ``x`` reproduces the
    (batch, seq, vocab) logits of a plain forward (``plain()``), or None."""
    import torch

    if not args.any or x.size(1) <= PROMPT:
        return None
    full = plain()
    masks: list[Mask] = [None] if mask is None else [(*mask, "all"), (*mask, "new")]
    candidates = [s for m in masks for s in _candidates(call, module, args, x, mask=m)]
    for spec in candidates:
        if not (_decodes(call, module, spec, x, full) and _decodes(call, module, spec, x, full)):
            continue
        after = _try(plain)  # a forward without the cache is not changed by decoding
        if after is None or not torch.allclose(after, full, atol=ATOL):
            continue
        if spec.style == "returned":
            spec = replace(spec, reorderable=_reorders(call, spec, x, full))
        if spec.reset:
            getattr(module, spec.reset)()  # leave no trial tokens in the module's cache
        return spec
    return None


def _candidates(call: Call, module: Any, args: CacheArgs, x: Any, *, mask: Mask) -> list[CacheSpec]:
    """Conventions worth a trial: a returned cache at each place of the prefill's output
    that could hold one, then a module-held cache (flag, position, reset)."""
    out: list[CacheSpec] = []
    styles: list[tuple[str, str | None]] = [("returned", args.cache_arg)] if args.cache_arg else []
    if args.flag_arg or args.position_arg:
        styles.append(("held", None))
    for tensor_pos in (False, True) if args.position_arg else (False,):
        for style, cache_arg in styles:
            first = _prefill(call, module, args, x, style=style, tensor_pos=tensor_pos, mask=mask)
            logits = None if first is None else _logits_path(first, x.size(0), PROMPT)
            if logits is None:
                continue
            paths = _state_paths(first, exclude=logits) if style == "returned" else [None]
            out += [
                CacheSpec(
                    style=style,  # type: ignore[arg-type]
                    cache_arg=cache_arg,
                    cache_path=path,
                    flag_arg=args.flag_arg,
                    position_arg=args.position_arg,
                    position_tensor=tensor_pos,
                    reset=args.reset if style == "held" else None,
                    logits_path=logits,
                    reorderable=False,
                    mask_arg=mask[0] if mask else None,
                    mask_style=mask[1] if mask else None,
                    mask_span=mask[2] if mask else None,  # type: ignore[arg-type]
                )
                for path in paths
            ]
    return out


def _prefill(
    call: Call, module: Any, args: CacheArgs, x: Any, *, style: str, tensor_pos: bool, mask: Mask
) -> Any:
    """The output of the trial's first call (the prompt), None if the call fails."""
    ids = x[:, :PROMPT]
    kwargs = _kwargs(args.flag_arg, args.position_arg, tensor_pos, 0, ids, mask=mask)
    if style == "returned":
        kwargs[str(args.cache_arg)] = None
    elif args.reset:
        _try(getattr(module, args.reset))
    return _try(lambda: call(ids, **kwargs))


def _spec_kwargs(spec: CacheSpec, seen: int, ids: Any) -> dict[str, Any]:
    mask = None
    if spec.mask_arg and spec.mask_style and spec.mask_span:
        mask = (spec.mask_arg, spec.mask_style, spec.mask_span)
    return _kwargs(spec.flag_arg, spec.position_arg, spec.position_tensor, seen, ids, mask=mask)


def _kwargs(
    flag: str | None,
    position: str | None,
    tensor_pos: bool,
    seen: int,
    ids: Any,
    *,
    mask: Mask = None,
) -> dict[str, Any]:
    import torch

    kwargs: dict[str, Any] = {}
    if mask is not None:  # nothing is padding
        arg, style, span = mask
        n = ids.size(1) + (seen if span == "all" else 0)
        keep = torch.ones(ids.size(0), n, dtype=torch.long)
        kwargs[arg] = {"keep": keep, "keep-bool": keep.bool()}.get(style, keep == 0)
    if flag:
        kwargs[flag] = True
    if position:
        n = ids.size(1)
        kwargs[position] = torch.arange(seen, seen + n) if tensor_pos else seen
    return kwargs


def decode(call: Call, module: Any, spec: CacheSpec, x: Any) -> Any:
    """(batch, seq - PROMPT + 1, vocab) logits: the prompt prefilled, then one token a call.
    Position i of the result predicts token PROMPT + i."""
    import torch

    state = None
    rows = []
    if spec.reset:
        getattr(module, spec.reset)()
    for seen in range(PROMPT - 1, x.size(1)):
        start = 0 if seen == PROMPT - 1 else seen
        ids = x[:, start : seen + 1]
        kwargs = _spec_kwargs(spec, start, ids)
        if spec.cache_arg:
            kwargs[spec.cache_arg] = state
        out = call(ids, **kwargs)
        rows.append(_select(out, spec.logits_path)[:, -1])
        if spec.cache_path is not None:
            state = _select(out, spec.cache_path)
    return torch.stack(rows, dim=1)


def _decodes(call: Call, module: Any, spec: CacheSpec, x: Any, full: Any) -> bool:
    import torch

    got = _try(lambda: decode(call, module, spec, x))
    want = full[:, PROMPT - 1 :]
    return (
        got is not None
        and tuple(got.shape) == tuple(want.shape)
        and bool(torch.allclose(got.float(), want.float(), atol=ATOL))
    )


def _reorders(call: Call, spec: CacheSpec, x: Any, full: Any) -> bool:
    """Beam search reorders the cache's batch rows with index_select on dimension 0: prove that
    doing so to the prefilled cache gives the decoding of the reordered batch."""
    import torch

    if x.size(0) < 2:
        return False
    order = torch.arange(x.size(0) - 1, -1, -1)

    def run() -> bool:
        ids = x[:, :PROMPT]
        kwargs = _spec_kwargs(spec, 0, ids)
        kwargs[str(spec.cache_arg)] = None
        out = call(ids, **kwargs)
        state = reorder(_select(out, spec.cache_path or ()), order)
        nxt = x[order, PROMPT : PROMPT + 1]
        kwargs = _spec_kwargs(spec, PROMPT, nxt)
        kwargs[str(spec.cache_arg)] = state
        got = _select(call(nxt, **kwargs), spec.logits_path)[:, -1]
        return bool(torch.allclose(got.float(), full[order, PROMPT].float(), atol=ATOL))

    return bool(_try(run))


def reorder(state: Any, index: Any) -> Any:
    """Every tensor of a nested cache with its batch rows (dimension 0) taken at ``index``."""
    import torch

    if isinstance(state, torch.Tensor):
        return state.index_select(0, index.to(state.device)) if state.dim() else state
    if isinstance(state, Mapping):
        return type(state)({k: reorder(v, index) for k, v in state.items()})  # type: ignore[call-arg]
    if isinstance(state, (list, tuple)):
        return type(state)(reorder(v, index) for v in state)
    return state


def _state_paths(out: Any, *, exclude: Path | None) -> list[Path]:
    """Places in a tuple or dict output that hold something other than the logits or a loss."""
    import torch

    def plausible(v: Any) -> bool:
        if v is None or isinstance(v, (bool, int, float, str)):
            return False
        return not (isinstance(v, torch.Tensor) and v.dim() == 0)

    if isinstance(out, Mapping):
        keys = sorted(out, key=lambda k: not any(w in str(k) for w in ("past", "cache", "present")))
        return [(k,) for k in keys if (k,) != exclude and plausible(out[k])]
    if isinstance(out, (tuple, list)):
        return [(i,) for i, v in enumerate(out) if (i,) != exclude and plausible(v)]
    return []


def _logits_path(out: Any, batch: int, seq: int) -> Path | None:
    """Where the (batch, seq or 1, vocab) logits are in an output."""
    import torch

    def ok(t: Any) -> bool:
        return (
            isinstance(t, torch.Tensor)
            and t.dim() == 3
            and t.is_floating_point()
            and t.size(0) == batch
            and t.size(1) in (seq, 1)
        )

    if ok(out):
        return ()
    if isinstance(out, Mapping):
        keys = [k for k in ("logits",) if k in out] + [k for k in out if k != "logits"]
        return next(((k,) for k in keys if ok(out[k])), None)
    if isinstance(out, (tuple, list)):
        return next(((i,) for i, t in enumerate(out) if ok(t)), None)
    return None


def _select(out: Any, path: Path) -> Any:
    for step in path:
        out = out[step]
    return out


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        return None
