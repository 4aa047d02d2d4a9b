from hf_custom.cli.main import entry

entry()
