"""The steps of the publish pipeline, one module each (see hf_custom.staging.pipeline)."""
