"""The generated code that drives a research module's own key/value cache in generate().

A ``Cache`` subclass carries what the module needs between decoding steps (the cache it returned,
and how many tokens it holds); the causal LM class runs only the new tokens when generate() asks
for the cache, and tells generate() not to build a ``DynamicCache`` the module could not use.
Pure: text in, text out (see :mod:`hf_custom.wrapping.codegen`).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hf_custom.wrapping.codegen import Design
    from hf_custom.wrapping.kvcache import CacheSpec


WIDTH = 88


def cache_class_name(d: Design) -> str:
    return f"{d.prefix}Cache"


def _path(path: tuple[str | int, ...] | None) -> str:
    return "".join(f'["{p}"]' if isinstance(p, str) else f"[{p}]" for p in path or ())


# module-level helpers of a cache whose batch rows can be reordered (beam search)
REORDER_HELPERS = [
    "def _reorder(state, index: torch.Tensor):",
    '    """`state` with the batch rows of every tensor in it taken at `index`."""',
    "    if isinstance(state, torch.Tensor):",
    "        return state.index_select(0, index.to(state.device)) if state.dim() else state",
    "    if isinstance(state, dict):",
    "        return {k: _reorder(v, index) for k, v in state.items()}",
    "    if isinstance(state, (list, tuple)):",
    "        return type(state)(_reorder(v, index) for v in state)",
    "    return state",
    "",
    "",
    "def _tensors(state):",
    "    if isinstance(state, torch.Tensor):",
    "        yield state",
    "    elif isinstance(state, dict):",
    "        for v in state.values():",
    "            yield from _tensors(v)",
    "    elif isinstance(state, (list, tuple)):",
    "        for v in state:",
    "            yield from _tensors(v)",
    "",
    "",
]


def render_cache_class(d: Design, c: CacheSpec) -> list[str]:
    """The module-level helpers: ``_reorder`` (a reorderable returned cache) and the cache."""
    name = cache_class_name(d)
    lines: list[str] = list(REORDER_HELPERS) if c.reorderable else []
    where = (
        "`state` is the cache it returns; `seen` counts the tokens in it."
        if c.style == "returned"
        else "The cache is inside the module (emptied for each new text); `seen` counts the "
        "tokens in it."
    )
    lines += [
        f"class {name}(Cache):",
        f'    """`{d.research_class}`\'s own key/value cache, carried through generate().',
        "",
        *textwrap.wrap(where, WIDTH - 4, initial_indent="    ", subsequent_indent="    "),
        '    """',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__(layers=[])",
        "        self.state = None",
        "        self.seen = 0",
        "",
        "    def get_seq_length(self, layer_idx: int = 0) -> int:",
        "        return self.seen",
        "",
        "    def reset(self) -> None:",
        "        self.state = None",
        "        self.seen = 0",
        "",
    ]
    if c.reorderable:
        lines += [
            "    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:",
            "        self.state = _reorder(self.state, beam_idx)",
            "",
            "    def batch_select_indices(self, indices: torch.Tensor) -> None:",
            "        self.state = _reorder(self.state, indices)",
            "",
            "    def batch_repeat_interleave(self, repeats: int) -> None:",
            "        rows = next(_tensors(self.state)).size(0)",
            "        self.state = _reorder(self.state, torch.arange(rows).repeat_interleave(repeats))",
            "",
            "    def crop(self, tokens_to_remove: int) -> None:",
            f'        raise NotImplementedError("{d.research_class}\'s cache cannot be cropped")',
        ]
        return lines
    why = (
        f"{d.research_class} keeps its cache inside the module"
        if c.style == "held"
        else f"reordering {d.research_class}'s cache was not proven exact"
    )
    return [
        *lines,
        "    def _unsupported(self, *args, **kwargs) -> None:",
        "        raise NotImplementedError(",
        *_string_lines(
            f"{why}: beam search, assisted and contrastive decoding need "
            "generate(..., use_cache=False)",
            12,
        ),
        "        )",
        "",
        "    reorder_cache = batch_select_indices = batch_repeat_interleave = crop = _unsupported",
    ]


def _string_lines(text: str, indent: int) -> list[str]:
    """A long string literal as implicitly concatenated pieces that fit the line width."""
    pieces = textwrap.wrap(text, WIDTH - indent - 3, drop_whitespace=False)
    return [" " * indent + '"' + p.replace('"', '\\"') + '"' for p in pieces]


def render_run_cached(d: Design, c: CacheSpec) -> list[str]:
    """The causal LM's ``_run_cached`` (run the new tokens only) and the generate() switch."""
    from hf_custom.wrapping.codegen import _call

    f = d.forward
    name = cache_class_name(d)
    lines = [
        "    @classmethod",
        "    def _supports_default_dynamic_cache(cls) -> bool:",
        f"        # generate() gets the {name} forward returns, not a DynamicCache",
        "        return False",
        "",
        "    def _run_cached(",
        "        self,",
        "        input_ids: torch.Tensor,",
        "        cache: Cache | None,",
        "        attention_mask: torch.Tensor | None = None,",
        f"    ) -> tuple[torch.Tensor, {name}]:",
        f'        """Run `{d.research_class}` on the tokens that are not in `cache` yet."""',
        f"        if not isinstance(cache, {name}) or cache.seen == 0:",
        "            if cache is not None and cache.get_seq_length() > 0:",
        *_call(
            "raise ValueError",
            [f'"pass a cache {d.class_name("causal-lm")} returned, or none"'],
            16,
        ),
        f"            cache = {name}()",
    ]
    if d.plain_tensors:
        lines.append("        self._restore_plain_tensors()")
    if c.reset:
        lines.append(f"            self.model.{c.reset}()")
    args = ["input_ids" if f.ids_positional else f"{f.ids_arg}=input_ids"]
    if c.cache_arg:
        args.append(f"{c.cache_arg}=cache.state")
    if c.position_arg:
        if c.position_tensor:
            lines += [
                "        n = input_ids.size(1)",
                "        positions = torch.arange(cache.seen, cache.seen + n, device=input_ids.device)",
            ]
            args.append(f"{c.position_arg}=positions")
        else:
            args.append(f"{c.position_arg}=cache.seen")
    if c.flag_arg:
        args.append(f"{c.flag_arg}=True")
    if c.mask_arg and c.mask_span:
        lines += _mask_lines(c)
        args.append(f"{c.mask_arg}=mask")
    lines += _call("output = self.model", args, 8)
    if c.cache_path is not None:
        lines.append(f"        cache.state = output{_path(c.cache_path)}")
    return [
        *lines,
        "        cache.seen += input_ids.size(1)",
        f"        return output{_path(c.logits_path)}, cache",
    ]


def _mask_lines(c: CacheSpec) -> list[str]:
    """The mask the module takes when decoding: past and new tokens, or the new ones only."""
    if c.mask_span == "all":
        lines = [
            "        if attention_mask is None:  # nothing is padding",
            "            n = cache.seen + input_ids.size(1)",
            "            attention_mask = input_ids.new_ones(input_ids.size(0), n)",
            "        mask = attention_mask",
        ]
    else:
        lines = [
            "        if attention_mask is None:  # nothing is padding",
            "            attention_mask = torch.ones_like(input_ids)",
            "        mask = attention_mask[:, -input_ids.size(1) :]  # the new tokens'",
        ]
    convert = {"keep-bool": "mask.bool()", "pad": "mask == 0"}.get(c.mask_style or "keep")
    return [*lines, f"        mask = {convert}"] if convert else lines


def render_cache_switch(d: Design) -> list[str]:
    """The first lines of the causal LM's forward: decode with the cache when asked to."""
    from hf_custom.wrapping.codegen import _comment

    intro = _comment(
        f"generate() asks for the cache: run only the new tokens through {d.research_class}'s "
        "own cache (a forward without use_cache=True or a cache runs the whole text)",
        8,
    )
    return [
        *intro,
        "        if labels is None and (use_cache or cache is not None):",
        "            logits, cache = self._run_cached(input_ids, cache, attention_mask)",
        "            if return_dict is None:",
        "                return_dict = self.config.return_dict",
        "            if not return_dict:",
        "                return (logits, cache)",
        "            return CausalLMOutputWithPast(logits=logits, cache=cache)",
    ]
