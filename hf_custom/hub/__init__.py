"""The embedded Hub-compatible server (the offline default, the target of upload tests).

See ``server.py`` for the object and the Xet note, ``storage.py`` for the on-disk layout.
Importing this package starts nothing; only the standard library is used.
"""

from hf_custom.hub.server import DEFAULT_MAX_BODY, HubServer
from hf_custom.hub.state import Account, Faults, Stats

__all__ = ["DEFAULT_MAX_BODY", "Account", "Faults", "HubServer", "Stats"]
