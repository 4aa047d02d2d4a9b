"""Both bundled examples load on the v4 line too: ``doctor CHECKPOINT --load`` with a real
transformers 4.57 interpreter verifies the copy publish would stage (every AutoClass loads,
weights equal, forward, generate, save). It failed before: tinylm passed ``cache=`` to
BaseModelOutputWithPast (v4 calls it past_key_values); ltgbert imported
``transformers.initialization`` (v5 only), saved its tokenizer as TokenizersBackend (a v5 name)
and left its tied decoder random in three classes (v4 ties through get_output_embeddings)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def v4_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The transformers 4.57 interpreter, in the same shared folder as tests/matrix builds it
    (one build per run, whichever test asks first; the builder's lock serialises workers)."""
    pytest.importorskip("torch")
    from hf_custom.envs import parse_specs, resolve_targets

    base = tmp_path_factory.getbasetemp()
    parent = base.parent if base.name.startswith("popen-gw") else base
    home = parent / "matrix-hf-home"
    home.mkdir(exist_ok=True)
    (v4,) = resolve_targets(parse_specs(["4.57"]), root=home / "hf-custom" / "envs")
    assert v4.version.startswith("4.57") and v4.python is not None
    return v4.python


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("example", ["tinylm", "ltgbert"])
def test_example_verifies_under_transformers_4_57(
    example: str, request: pytest.FixtureRequest, v4_python: str
) -> None:
    from hf_custom.diagnosis import doctor

    checkpoint = request.getfixturevalue(f"{example}_checkpoint")
    report = doctor(checkpoint, load=True, python=v4_python)
    verify = report.verify
    assert verify is not None and verify.environment["transformers"].startswith("4.57")
    assert verify.ok, [f.message for f in verify.findings if f.severity.value == "error"]
    models = [r for r in verify.rows if r.auto_class.startswith("AutoModel")]
    assert models and all(r.loaded == "passed" and r.forward == "passed" for r in models)
    assert all(r.weights_equal == "passed" for r in models)
