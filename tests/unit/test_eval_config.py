"""Eval configurations: the shipped files load, device overrides touch only what may differ by
device, and every mistake names the file, task and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.config import NoEvalConfig, eval_config_for, load_eval_configs
from workflows.paths import MODEL_SPECS_DIR
from workflows.registry.loader import load_registry
from workflows.registry.schema import RegistryError

TASK = """
models:
  - weights: org/model
    tasks:
      - task: my_task
        model_type: local-chat-completions
        output_type: generate_until
        dataset: shipped
        result_keys: ["exact_match,none"]
        unit: percent
        reference: {score: 50.0, source: "measured"}
        limits:
          smoke: {samples: 20, reference: {score: 45.0, source: "measured, first 20"}}
        devices:
          cpu: {max_concurrency: 2, limits: {smoke: {samples: 10}}}
"""


def write_config(folder: Path, text: str, name: str = "family.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_every_shipped_config_loads_and_names_a_registry_model() -> None:
    configs = load_eval_configs()
    repos = {spec.hf_repo for spec in load_registry(MODEL_SPECS_DIR).specs}
    assert set(configs) <= repos, set(configs) - repos
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in configs
    llama = configs["meta-llama/Llama-3.1-8B-Instruct"]
    published = {task.task: task.published.value for task in llama.tasks if task.published}
    assert published == {"gsm8k_cot_llama": 84.5, "ifeval": 80.4}


def test_device_overrides_change_limits_and_concurrency_only(tmp_path: Path) -> None:
    config = eval_config_for("org/model", "Model", write_config(tmp_path, TASK))
    plain, on_cpu = config.tasks[0], config.for_device("cpu").tasks[0]
    assert (plain.max_concurrency, on_cpu.max_concurrency) == (32, 2)
    assert plain.limits["smoke"].samples == 20 and on_cpu.limits["smoke"].samples == 10
    assert on_cpu.limits["smoke"].reference is None  # a new limit needs its own reference
    assert config.for_device("n150").tasks[0] == plain
    assert on_cpu.seed == plain.seed and on_cpu.num_fewshot == plain.num_fewshot


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("unit: percent", "unit: permille"), "task my_task: field 'unit': 'permille' is not one"),
        (("dataset: shipped", "datset: shipped"), "field 'datset': unknown field"),
        (("cpu: {max_concurrency: 2,", "cpu: {seed: 3, max_concurrency: 2,"), "field 'seed'"),
        (('["exact_match,none"]', '["exact_match"]'), "not an lm-eval key"),
        (("score: 50.0", "score: 150.0"), "field 'reference': 150.0 is above"),
        (("smoke: {samples: 20", "fast: {samples: 20"), "'fast' is not a limit mode"),
        (("samples: 20", "samples: 1.5"), "a fraction must be below 1"),
        (
            ("output_type: generate_until", "output_type: loglikelihood"),
            "local-chat-completions can only run generate_until",
        ),
    ],
)
def test_config_errors_name_file_task_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    folder = write_config(tmp_path, TASK.replace(*change))
    with pytest.raises(RegistryError) as raised:
        load_eval_configs(folder)
    assert "family.yaml" in raised.value.message and expected in raised.value.message


def test_one_weights_repo_is_configured_once(tmp_path: Path) -> None:
    write_config(tmp_path, TASK, "a.yaml")
    write_config(tmp_path, TASK, "b.yaml")
    with pytest.raises(RegistryError, match=r"already configured in a\.yaml"):
        load_eval_configs(tmp_path)


def test_a_model_without_config_is_told_where_configs_live(tmp_path: Path) -> None:
    with pytest.raises(NoEvalConfig) as raised:
        eval_config_for("org/other", "Other-Model", write_config(tmp_path, TASK))
    assert "Other-Model has no eval configuration" in raised.value.message
    assert str(tmp_path) in raised.value.message
