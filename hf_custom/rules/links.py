"""Rules for links a checkpoint could use to make hf-custom read or leak files (HFC608-HFC649)."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC608",
        name="symlink-outside-checkpoint",
        severity=Severity.WARNING,
        summary="a symbolic link points outside the checkpoint: it is not followed and not published",
        fix="replace the link by a copy of the file (if the model needs it), or delete the link",
        explanation="""\
## What it does
Finds files and folders of the checkpoint that are symbolic links to something outside it. They
are never read, staged or uploaded.

## Why is this bad?
Following such a link would publish a file that is not part of the model, chosen by whoever
made the link: `vocab.txt -> /etc/passwd` or `README.md -> ~/.ssh/id_rsa` would put that
file's contents on the Hub. A file the model needs (config.json) is refused outright.

## Example
```
ckpt/README.md -> /etc/hostname
```

## How to fix
Copy the file into the checkpoint (`cp --remove-destination "$(readlink -f f)" f`) if the model
needs it, or delete the link.
""",
    )
)
