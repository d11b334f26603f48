"""The model registry: YAML under model_specs/ loaded into frozen ModelSpecs."""
