"""What the staging steps share: the fixed :class:`StageContext` and the growing :class:`Artefacts`.

A step is a function ``step(ctx, art) -> art``: it reads the context and the artefacts of the
steps before it and returns the artefacts with its own filled in (``dataclasses.replace``) and
its findings appended. Steps write only into ``ctx.staging``; the source is only ever read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding
from hf_custom.staging.options import PublishOptions, StageOptions

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.codeinfo import CodePackage
    from hf_custom.diagnosis import DoctorReport
    from hf_custom.fixing import FixPlan
    from hf_custom.inventory import Inventory
    from hf_custom.remote import Endpoint, UploadResult
    from hf_custom.staging.card import CardPlan
    from hf_custom.staging.code import CodePlan
    from hf_custom.staging.config import Change, ConfigResult
    from hf_custom.staging.result import StageResult
    from hf_custom.staging.tokenizer import TokenizerPlan
    from hf_custom.verification import ExpectedKeys, VerifyReport
    from hf_custom.verification.matrix import MatrixReport
    from hf_custom.weights import ConvertResult

#: A JSON object as read from config.json.
JSONObject = Mapping[str, object]


@dataclass(frozen=True)
class StageContext:
    """The fixed inputs of one staging run."""

    src: Path  # the checkpoint folder (resolved; read only)
    out: Path  # where the staged folder is installed when complete
    staging: Path  # the temporary folder the steps write into
    options: StageOptions
    transformers_version: str | None = None  # of the environment staging runs in
    on_event: EventSink | None = None

    def log(self, message: str, *, level: Literal["info", "warning"] = "info") -> None:
        emit(self.on_event, Log(message, level=level))


@dataclass(frozen=True)
class Artefacts:
    """What the steps produced so far. Each field is filled by the step named in its comment."""

    inventory: Inventory | None = None  # read
    config_in: JSONObject = field(default_factory=dict)  # read: config.json as found
    # read: False for a folder without config.json that may be tokenizer-only (config decides)
    has_config: bool = True
    weight_names: tuple[str, ...] | None = None  # read: tensor names (None: no weights)
    code: CodePlan | None = None  # code (files possibly edited by config: model_type rename)
    package: CodePackage | None = None  # code: static facts of the staged code
    config_plan: ConfigResult | None = None  # config
    fixes: FixPlan | None = None  # fix: the repairs (source paths); applied when ``fixed``
    fixed: bool = False  # fix: --fix applied them to the code plan
    config: JSONObject = field(default_factory=dict)  # config, then keys/tokenizer/weights
    tokenizer: TokenizerPlan | None = None  # tokenizer
    expected: Mapping[str, ExpectedKeys] = field(default_factory=dict)  # keys
    weights: ConvertResult | None = None  # weights
    card: CardPlan | None = None  # card
    checks: DoctorReport | None = None  # checks
    changes: tuple[Change, ...] = ()  # every step's changes, in order
    findings: tuple[Finding, ...] = ()  # every step's findings, in order
    steps: tuple[str, ...] = ()  # names of the steps that ran

    def add(
        self,
        *,
        findings: Iterable[Finding] = (),
        changes: Iterable[Change] = (),
    ) -> Artefacts:
        return replace(
            self,
            findings=(*self.findings, *findings),
            changes=(*self.changes, *changes),
        )


Step = Callable[[StageContext, Artefacts], Artefacts]


@dataclass(frozen=True)
class PublishContext:
    """The fixed inputs of the steps after staging (verify, upload, ...)."""

    staged: StageResult
    options: PublishOptions
    endpoint: Endpoint | None = None  # None for a dry run
    on_event: EventSink | None = None

    def log(self, message: str, *, level: Literal["info", "warning"] = "info") -> None:
        emit(self.on_event, Log(message, level=level))


@dataclass(frozen=True)
class PublishArtefacts:
    """What the publish steps produced; ``refused`` stops the later steps (they return as is)."""

    verify: VerifyReport | None = None  # verify
    upload: UploadResult | None = None  # upload
    matrix: MatrixReport | None = None  # matrix: one column per transformers version
    config: JSONObject | None = None  # verify: the staged config.json when it changed it
    findings: tuple[Finding, ...] = ()
    refused: str | None = None  # why nothing was uploaded
    steps: tuple[str, ...] = ()

    def add(self, *, findings: Iterable[Finding] = ()) -> PublishArtefacts:
        return replace(self, findings=(*self.findings, *findings))


PublishStep = Callable[[PublishContext, PublishArtefacts], PublishArtefacts]

T = TypeVar("T")


def need(value: T | None, what: str) -> T:
    """``value``, which an earlier step must have produced (a bug in the step list otherwise)."""
    if value is None:
        raise RuntimeError(f"step order: {what} is needed but no earlier step produced it")
    return value


__all__ = [
    "Artefacts",
    "JSONObject",
    "PublishArtefacts",
    "PublishContext",
    "PublishStep",
    "StageContext",
    "Step",
    "need",
]
