"""transformers' naming conventions as data: which AutoClass a model class belongs to, and
which model types transformers builds in.

Both tables are static (no transformers import is needed to use them). Tests check them
against the installed transformers by reading its source with :mod:`ast`
(:func:`installed_auto_model_classes`, :func:`installed_model_types`), which never imports
transformers or torch. :data:`BUILTIN_MODEL_TYPES` is refreshed with the installed
transformers' model types when transformers is installed (a cheap source read).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping

from hf_custom.staging.builtin_model_types import SNAPSHOT_MODEL_TYPES
from hf_custom.staging.imports import transformers_source_dir

#: Task suffix of a model class name -> the AutoClass(es) transformers registers such classes
#: under. One entry: the convention is unambiguous. Several: ambiguous, settled by the user
#: with ``--auto-class Class=AutoX`` (most frequent first). Derived from the MAPPING_NAMES of
#: transformers' modeling_auto.py (a test re-derives it from the installed version).
SUFFIX_AUTO_CLASSES: Mapping[str, tuple[str, ...]] = {
    "Model": ("AutoModel",),
    "LMHeadModel": ("AutoModelForCausalLM",),
    "ModelWithLMHead": ("AutoModelForCausalLM",),
    "ForCausalLM": ("AutoModelForCausalLM",),
    "ForMaskedLM": ("AutoModelForMaskedLM",),
    "ForPreTraining": ("AutoModelForPreTraining",),
    "ForSequenceClassification": ("AutoModelForSequenceClassification",),
    "ForTokenClassification": ("AutoModelForTokenClassification",),
    "ForQuestionAnswering": ("AutoModelForQuestionAnswering",),
    "ForQuestionAnsweringSimple": ("AutoModelForQuestionAnswering",),
    "ForMultipleChoice": ("AutoModelForMultipleChoice",),
    "ForNextSentencePrediction": ("AutoModelForNextSentencePrediction",),
    "ForConditionalGeneration": (
        "AutoModelForSeq2SeqLM",
        "AutoModelForImageTextToText",
        "AutoModelForMultimodalLM",
        "AutoModelForSpeechSeq2Seq",
        "AutoModelForTextToWaveform",
        "AutoModelForCausalLM",
    ),
    "ForTextToText": ("AutoModelForSeq2SeqLM",),
    "ForSpeechToText": ("AutoModelForSpeechSeq2Seq",),
    "ForTextToSpeech": ("AutoModelForTextToWaveform", "AutoModelForTextToSpectrogram"),
    "ForImageClassification": ("AutoModelForImageClassification",),
    "ForImageClassificationWithTeacher": ("AutoModelForImageClassification",),
    "ForVideoClassification": ("AutoModelForVideoClassification",),
    "ForAudioClassification": ("AutoModelForAudioClassification",),
    "ForAudioFrameClassification": ("AutoModelForAudioFrameClassification",),
    "ForXVector": ("AutoModelForAudioXVector",),
    "ForCTC": ("AutoModelForCTC",),
    "ForRNNT": ("AutoModelForRNNT",),
    "ForTDT": ("AutoModelForTDT",),
    "ForObjectDetection": ("AutoModelForObjectDetection",),
    "ForSemanticSegmentation": ("AutoModelForSemanticSegmentation",),
    "ForInstanceSegmentation": ("AutoModelForInstanceSegmentation",),
    "ForUniversalSegmentation": ("AutoModelForUniversalSegmentation",),
    "ForSegmentation": ("AutoModelForImageSegmentation", "AutoModelForUniversalSegmentation"),
    "ForMaskedImageModeling": ("AutoModelForMaskedImageModeling",),
    "ForDepthEstimation": ("AutoModelForDepthEstimation",),
    "ForNormalEstimation": ("AutoModelForNormalEstimation",),
    "ForPointmapEstimation": ("AutoModelForPointmapEstimation",),
    "ForPoseEstimation": ("AutoModelForPoseEstimation",),
    "ForKeypointDetection": ("AutoModelForKeypointDetection",),
    "ForKeypointMatching": ("AutoModelForKeypointMatching",),
    "ForImageMatting": ("AutoModelForImageMatting",),
    "ForImageSuperResolution": ("AutoModelForImageToImage",),
    "ForTableRecognition": ("AutoModelForTableRecognition",),
    "ForTextRecognition": ("AutoModelForTextRecognition",),
    "ForDecision": ("AutoModelForDecision",),
    "ForPrediction": ("AutoModelForTimeSeriesPrediction",),
    "ForRetrieval": ("AutoModelForPreTraining",),
}

#: AutoClasses that may appear in auto_map besides the AutoModel* ones.
OTHER_AUTO_CLASSES = frozenset(
    {
        "AutoConfig",
        "AutoTokenizer",
        "AutoProcessor",
        "AutoImageProcessor",
        "AutoFeatureExtractor",
        "AutoVideoProcessor",
        "AutoBackbone",
    }
)

#: pipeline_tag of the Hub for the AutoClasses where it is clear.
PIPELINE_TAGS: Mapping[str, str] = {
    "AutoModelForCausalLM": "text-generation",
    "AutoModelForMaskedLM": "fill-mask",
    "AutoModelForSequenceClassification": "text-classification",
    "AutoModelForTokenClassification": "token-classification",
    "AutoModelForQuestionAnswering": "question-answering",
    "AutoModelForSeq2SeqLM": "text2text-generation",
    "AutoModelForImageClassification": "image-classification",
    "AutoModelForImageTextToText": "image-text-to-text",
    "AutoModelForAudioClassification": "audio-classification",
    "AutoModelForCTC": "automatic-speech-recognition",
    "AutoModelForSpeechSeq2Seq": "automatic-speech-recognition",
    "AutoModelForObjectDetection": "object-detection",
    "AutoModelForDepthEstimation": "depth-estimation",
    "AutoModelForVideoClassification": "video-classification",
    "AutoModelForTextToWaveform": "text-to-audio",
    "AutoModelForZeroShotImageClassification": "zero-shot-image-classification",
    "AutoModel": "feature-extraction",
}
#: Order in which a single pipeline_tag is chosen when several heads are shipped.
PIPELINE_PRIORITY = (
    "AutoModelForCausalLM",
    "AutoModelForSeq2SeqLM",
    "AutoModelForImageTextToText",
    "AutoModelForMaskedLM",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForCTC",
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForImageClassification",
    "AutoModelForObjectDetection",
    "AutoModel",
)

_FOR = re.compile(r"For(?=[A-Z0-9])")


def task_suffix(class_name: str) -> str | None:
    """The naming-convention suffix of a model class: ``LtgBertForMaskedLM`` -> ``ForMaskedLM``."""
    found = list(_FOR.finditer(class_name))
    if found:
        return class_name[found[-1].start() :]
    for suffix in ("LMHeadModel", "ModelWithLMHead"):
        if class_name.endswith(suffix):
            return suffix
    if class_name.endswith("Model"):
        return "Model"
    return None


def auto_class_candidates(class_name: str) -> tuple[str, ...]:
    """Every AutoClass the naming convention allows for ``class_name`` (empty: none fits)."""
    suffix = task_suffix(class_name)
    if suffix is None:
        return ()
    if suffix in SUFFIX_AUTO_CLASSES:
        return SUFFIX_AUTO_CLASSES[suffix]
    # ``XForFooBar`` with an unknown task: AutoModelForFooBar if transformers has it
    guess = f"AutoModel{suffix}" if suffix.startswith("For") else None
    if guess and guess in known_auto_model_classes():
        return (guess,)
    return ()


def auto_class_for(class_name: str) -> str | None:
    """The AutoClass for ``class_name`` when the convention names exactly one, else None."""
    candidates = auto_class_candidates(class_name)
    return candidates[0] if len(candidates) == 1 else None


def is_abstract_base_name(class_name: str) -> bool:
    """``XPreTrainedModel`` / ``XPretrainedModel``: the shared base, never registered."""
    return class_name.endswith(("PreTrainedModel", "PretrainedModel"))


# -- reading the installed transformers' source (no import) ------------------------------------


def _ordered_dict_items(
    call: ast.Call, known: Mapping[str, list[tuple[str, object]]]
) -> list[tuple[str, object]] | None:
    if not call.args or not isinstance(call.args[0], ast.List):
        return None
    out: list[tuple[str, object]] = []
    for el in call.args[0].elts:
        if isinstance(el, ast.Starred):
            # *list(OTHER_MAPPING_NAMES.items())
            names = [n.id for n in ast.walk(el) if isinstance(n, ast.Name) and n.id in known]
            for n in names:
                out.extend(known[n])
            continue
        try:
            key, value = ast.literal_eval(el)
        except (ValueError, TypeError, SyntaxError):
            continue
        out.append((key, value))
    return out


def auto_tables_from_source(source: str) -> dict[str, frozenset[str]]:
    """AutoModel* class name -> model class names it maps, read from modeling_auto.py's source."""
    tree = ast.parse(source)
    names: dict[str, list[tuple[str, object]]] = {}
    lazy: dict[str, str] = {}
    autos: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if not isinstance(target, ast.Name) or not isinstance(node.value, ast.Call):
                continue
            func = node.value.func
            if target.id.endswith("_NAMES"):
                items = _ordered_dict_items(node.value, names)
                if items is not None:
                    names[target.id] = items
            elif isinstance(func, ast.Name) and func.id == "_LazyAutoMapping":
                arg = node.value.args[1] if len(node.value.args) > 1 else None
                if isinstance(arg, ast.Name):
                    lazy[target.id] = arg.id
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Auto"):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and isinstance(stmt.targets[0], ast.Name)
                    and stmt.targets[0].id == "_model_mapping"
                    and isinstance(stmt.value, ast.Name)
                ):
                    autos[node.name] = stmt.value.id
    out: dict[str, frozenset[str]] = {}
    for auto, mapping in autos.items():
        classes: set[str] = set()
        for _key, value in names.get(lazy.get(mapping, ""), []):
            values = value if isinstance(value, (list, tuple)) else [value]
            classes.update(v for v in values if isinstance(v, str))
        out[auto] = frozenset(classes)
    return out


@functools.lru_cache(maxsize=1)
def installed_auto_model_classes() -> dict[str, frozenset[str]] | None:
    """The installed transformers' AutoModel* tables, or None when it is not installed."""
    root = transformers_source_dir()
    path = root / "models" / "auto" / "modeling_auto.py" if root else None
    if path is None or not path.is_file():
        return None
    return auto_tables_from_source(path.read_text(encoding="utf-8"))


def known_auto_model_classes() -> frozenset[str]:
    """AutoModel* class names: from the table, plus the installed transformers' when present."""
    known = {a for cands in SUFFIX_AUTO_CLASSES.values() for a in cands}
    installed = installed_auto_model_classes()
    if installed:
        known.update(installed)
    return frozenset(known)


def model_types_from_source(sources: Mapping[str, str]) -> frozenset[str]:
    """Keys of CONFIG_MAPPING_NAMES (and its ``.update({...})`` calls) in the given sources."""
    types: set[str] = set()
    for source in sources.values():
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and any(
                    isinstance(t, ast.Name) and t.id == "CONFIG_MAPPING_NAMES" for t in node.targets
                )
                and isinstance(node.value, ast.Call)
            ):
                for key, _ in _ordered_dict_items(node.value, {}) or []:
                    types.add(key)
                for kw in node.value.keywords:
                    if isinstance(kw.value, ast.Dict):
                        types.update(
                            k.value
                            for k in kw.value.keys
                            if isinstance(k, ast.Constant) and isinstance(k.value, str)
                        )
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "CONFIG_MAPPING_NAMES"
                and node.args
                and isinstance(node.args[0], ast.Dict)
            ):
                types.update(
                    k.value
                    for k in node.args[0].keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                )
    return frozenset(types)


@functools.lru_cache(maxsize=1)
def installed_model_types() -> frozenset[str] | None:
    """Model types built into the installed transformers (read from source), or None."""
    root = transformers_source_dir()
    if root is None:
        return None
    auto = root / "models" / "auto"
    sources = {
        p.name: p.read_text(encoding="utf-8")
        for p in (auto / "auto_mappings.py", auto / "configuration_auto.py")
        if p.is_file()
    }
    if not sources:
        return None
    try:
        found = model_types_from_source(sources)
    except SyntaxError:
        return None
    return found or None


def builtin_model_types() -> frozenset[str]:
    """The snapshot, refreshed with the installed transformers' model types when available."""
    return SNAPSHOT_MODEL_TYPES | (installed_model_types() or frozenset())


def is_builtin_model_type(model_type: str) -> bool:
    return model_type in builtin_model_types()


BUILTIN_MODEL_TYPES = SNAPSHOT_MODEL_TYPES
