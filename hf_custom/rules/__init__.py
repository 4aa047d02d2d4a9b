"""The rule catalog, one module per area (see :mod:`hf_custom.findings`).

Each module calls :func:`hf_custom.findings.define` at import time and imports nothing heavy.
Ids are stable: a retired rule keeps its id, marked retired in its summary, and is never reused.
"""
