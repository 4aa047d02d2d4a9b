"""Repairs of custom code for the installed transformers (``hf-custom fix``).

:func:`plan_fixes` is pure (file bytes in, a :class:`FixPlan` out); :func:`fix_folder` writes a
repaired copy and proves it with the verifier. Rewrites are byte-span edits found with ``ast``.
"""

from hf_custom.fixing.engine import plan_fixes, repair_rules
from hf_custom.fixing.model import FileChange, FixPlan, Repair, Unrepaired

__all__ = ["FileChange", "FixPlan", "Repair", "Unrepaired", "plan_fixes", "repair_rules"]
