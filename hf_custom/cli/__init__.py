"""The command-line layer: thin click commands over the library (house rule 1: only this prints)."""
