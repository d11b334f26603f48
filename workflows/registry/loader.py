"""Load the registry (model_specs/*.yaml) into frozen ModelSpecs, and look specs up by name.

Nothing happens at import time: `load_registry()` reads the YAML when it is called.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from workflows.errors import UsageError
from workflows.paths import MODEL_SPECS_DIR
from workflows.registry.model_spec import (
    Device,
    ModelSpec,
    model_name_of,
)
from workflows.registry.schema import RegistryError
from workflows.registry.templates import expand_template

# libyaml's safe loader where PyYAML was built with it (about 5x faster: every start reads
# the registry), else the pure-Python one; both accept exactly the same documents.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Registry:
    specs: tuple[ModelSpec, ...]

    def model_names(self) -> list[str]:
        return sorted({spec.model_name for spec in self.specs})

    def find(
        self, model: str, device: str, impl: str | None = None, engine: str | None = None
    ) -> ModelSpec:
        """The spec for (model, device[, impl][, engine]); errors suggest the nearest names."""
        name = self._canonical_model(model)
        wanted_device = _parse_device(device)
        for_model = [spec for spec in self.specs if spec.model_name == name]
        on_device = [spec for spec in for_model if spec.device is wanted_device]
        if not on_device:
            supported = sorted({spec.device.value for spec in for_model})
            raise UsageError(
                f"{name} does not run on device '{wanted_device.value}'; "
                f"supported devices: {', '.join(supported)}"
            )
        if engine is not None:
            on_device = _with_engine(name, wanted_device, on_device, engine)
        return _pick_impl(name, wanted_device, on_device, impl)

    def canonical_model(self, model: str) -> str:
        """The registry's name for `model` (case and repo prefix forgiven); else a UsageError
        suggesting the nearest."""
        return self._canonical_model(model)

    def _canonical_model(self, model: str) -> str:
        names = self.model_names()
        candidate = model_name_of(model)
        if candidate in names:
            return candidate
        by_lower = {n.lower(): n for n in names}
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
        raise UsageError(
            f"unknown model '{model}'{_suggest(candidate, names)}; "
            "run `python3 run.py --list-models` to see them all"
        )


def _parse_device(device: str) -> Device:
    try:
        return Device(device.lower())
    except ValueError:
        valid = [d.value for d in Device]
        raise UsageError(
            f"unknown device '{device}'{_suggest(device.lower(), valid)}; "
            f"valid devices: {', '.join(valid)}"
        ) from None


def _with_engine(name: str, device: Device, specs: list[ModelSpec], engine: str) -> list[ModelSpec]:
    """The specs served by `engine`; --impl or the default then picks among them."""
    engines = sorted({spec.inference_engine.value for spec in specs})
    chosen = [spec for spec in specs if spec.inference_engine.value == engine.lower()]
    if not chosen:
        raise UsageError(
            f"{name} on {device.value} has no inference engine '{engine}'"
            f"{_suggest(engine, engines)}; available: {', '.join(engines)}"
        )
    return chosen


def _pick_impl(name: str, device: Device, specs: list[ModelSpec], impl: str | None) -> ModelSpec:
    impls = sorted(spec.impl for spec in specs)
    if impl is not None:
        chosen = [spec for spec in specs if spec.impl == impl]
        if not chosen:
            raise UsageError(
                f"{name} on {device.value} has no implementation '{impl}'"
                f"{_suggest(impl, impls)}; available: {', '.join(impls)}"
            )
        return chosen[0]
    if len(specs) == 1:
        return specs[0]
    defaults = [spec for spec in specs if spec.default_impl]
    if len(defaults) == 1:
        return defaults[0]
    choices = ", ".join(f"{spec.impl} ({spec.inference_engine.value})" for spec in specs)
    raise UsageError(
        f"{name} on {device.value} has several implementations and no default among them; "
        f"pass --impl (or --engine) to pick one of: {choices}"
    )


def _suggest(word: str, choices: Iterable[str]) -> str:
    pool = list(choices)
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=1)]
    return f" (did you mean {close[0]}?)" if close else ""


def load_registry(directory: Path = MODEL_SPECS_DIR) -> Registry:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RegistryError(f"{directory}: no registry files (*.yaml) found")
    specs: list[ModelSpec] = []
    for path in files:
        specs.extend(_load_file(path))
    _reject_duplicates(specs)
    return Registry(tuple(specs))


def _load_file(path: Path) -> list[ModelSpec]:
    label = path.name
    try:
        document = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        raise RegistryError(f"{label}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("templates"), list):
        raise RegistryError(f"{label}: expected a top-level 'templates:' list")
    specs: list[ModelSpec] = []
    for index, raw in enumerate(document["templates"]):
        specs.extend(expand_template(raw, label, index))
    return specs


def _reject_duplicates(specs: list[ModelSpec]) -> None:
    seen: dict[tuple[str, Device, str], ModelSpec] = {}
    for spec in specs:
        key = (spec.model_name, spec.device, spec.impl)
        if key in seen:
            first = seen[key]
            raise RegistryError(
                f"{spec.source_file}: {spec.model_name} on {spec.device.value} with impl "
                f"'{spec.impl}' is already defined in {first.source_file}"
            )
        seen[key] = spec
