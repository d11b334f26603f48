"""RunConfig: what the user asked for, parsed and checked for flags that contradict each other."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from reports.store.url import BASELINE, is_baseline
from workflows.dispatch import (
    RENDERS_REPORT,
    RUNS_EVALS,
    RUNS_LOAD,
    RUNS_SWEEP,
    does,
    workflows_that,
)
from workflows.errors import UsageError
from workflows.registry.frozen import EMPTY, FrozenMap, freeze
from workflows.servers.image_reference import check_image_reference
from workflows.workflow_args import WorkflowArgs, check_runner_args, parse_workflow_args

if TYPE_CHECKING:
    from workflows.registry.model_spec import ModelSpec


RESERVED_SERVER_ARGS = frozenset(
    {
        "model",
        "tt_device",
        "device",
        "engine",
        "impl",
        "no_auth",
        "disable_trace_capture",
        "service_port",
        "port",
        "host",
    }
)


@dataclass(frozen=True)
class RunConfig:
    model: str
    device: str
    workflow: str
    impl: str | None = None
    engine: str | None = None  # picks among a model's specs by inference engine
    local_server: bool = False
    docker_server: bool = False
    server_url: str | None = None
    service_port: int = 8000
    service_port_given: bool = False  # --service-port on the command line (SERVICE_PORT is not)
    bind_host: str = "127.0.0.1"
    bind_host_given: bool = False  # --bind-host on the command line (it moves a started server)
    interactive: bool = False
    workflow_args: WorkflowArgs = field(default_factory=lambda: MappingProxyType({}))
    dev_mode: bool = False
    override_docker_image: str | None = None
    device_ids: tuple[int, ...] = ()
    override_tt_config: FrozenMap = field(default_factory=lambda: EMPTY)
    vllm_override_args: FrozenMap = field(default_factory=lambda: EMPTY)
    disable_trace_capture: bool = False
    reset_venvs: bool = False
    no_auth: bool = False
    verbose: bool = False
    host_weights_dir: Path | None = None
    host_volume: Path | None = None
    host_hf_cache: Path | None = None
    print_docker_cmd: bool = False
    limit_samples_mode: str | None = None
    eval_samples: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: EMPTY)
    requirements: Path | None = None  # release: a deployment's own targets
    compare_to: Path | None = None  # release: a previous run to compare with
    command: str = ""  # the command line as typed (secrets masked), for the record
    runtime_model_spec_json: Path | None = None  # run this spec instead of the registry's
    rerun_of: str | None = None  # the run folder this run repeats
    ci_mode: bool = False  # evals default to the ci-nightly limit; no host software check
    skip_system_sw_validation: bool = False  # no tt-smi check of firmware and KMD
    percentile_report: bool = False  # the load generator prints percentiles
    concurrency_sweeps: bool = False  # the sweep's levels: powers of two up to the maximum
    repeat: int | None = None  # measurements per load point (--repeat N)
    repeat_evals: int | None = None  # runs of each sampled eval task (--repeat-evals N)

    @property
    def starts_server(self) -> bool:
        return self.local_server or self.docker_server


def parse_json_object(flag: str, text: str | None) -> FrozenMap:
    if text is None:
        return EMPTY
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{flag}: not valid JSON ({error.msg} at column {error.colno}); "
            "write an object such as '{\"key\": 1}'"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f"{flag}: expected a JSON object such as '{{\"key\": 1}}', got {text}")
    return freeze(value)  # type: ignore[no-any-return]


LIMIT_MODES = ("smoke", "ci-commit", "ci-nightly", "ci-long", "full")  # full: no limit


def parse_limit_mode(text: str | None) -> str | None:
    if text is None:
        return None
    mode = text.strip().lower().replace("_", "-")
    if mode not in LIMIT_MODES:
        raise UsageError(f"--limit-samples-mode: '{text}' is not one of {', '.join(LIMIT_MODES)}")
    return mode


def parse_eval_samples(text: str | None) -> Mapping[str, tuple[int, ...]]:
    """'{"task": [0, 3]}' -> {"task": (0, 3)}: the sample ids to evaluate, per task."""
    value = parse_json_object("--eval-samples", text)
    chosen = {}
    for task, ids in value.items():
        if not isinstance(ids, tuple) or not ids or not all(_is_index(i) for i in ids):
            raise UsageError(
                f"--eval-samples: task {task} needs a non-empty list of sample ids (numbers "
                f"from 0), got {json.dumps(_plain(ids))}"
            )
        chosen[str(task)] = tuple(ids)
    return MappingProxyType(chosen)


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_device_ids(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        ids = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(
            f"--device-id: expected comma-separated numbers like 0,1, got '{text}'"
        ) from None
    if any(i < 0 for i in ids) or len(set(ids)) != len(ids):
        raise UsageError(f"--device-id: ids must be distinct and >= 0, got '{text}'")
    return ids


def normalise_server_url(url: str) -> str:
    candidate = url if "://" in url else f"http://{url}"
    parsed = urlparse(candidate)
    if "@" in parsed.netloc:
        raise UsageError(_credentials_refused(parsed.scheme, parsed.netloc))
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"--server-url: '{url}' is not an http(s) URL like http://host:8000")
    path = parsed.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{parsed.scheme}://{parsed.netloc}{path}"


def _credentials_refused(scheme: str, netloc: str) -> str:
    """Why a URL with user:password@ is refused, without the user or the password."""
    shown = f"{scheme}://***@{netloc.rpartition('@')[2]}"
    return (
        f"--server-url: {shown} carries credentials, which are never sent nor stored; pass the "
        "URL without them and set API_KEY (or JWT_SECRET) for the server's bearer token"
    )


def check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise UsageError(f"--service-port: {port} is not a TCP port (1-65535)")
    return port


def validate(config: RunConfig) -> RunConfig:
    """Reject flag combinations that make no sense, naming the flags that conflict."""
    for check in (
        _server_modes,
        _override_keys,
        _docker_flags,
        _started_server_flags,
        _eval_flags,
        _report_flags,
        _load_flags,
        _runner_args,
    ):
        check(config)
    return config


def _runner_args(config: RunConfig) -> None:
    check_runner_args(config.workflow_args)


LLAMA_CPP_SERVER_ARGS = ("max_model_len", "max_num_seqs")  # what llama.cpp's flags can honour


def validate_for_spec(config: RunConfig, spec: ModelSpec) -> None:
    """Flags the spec's device or engine cannot honour are refused, not silently dropped."""
    _device_flags(config, spec.device.is_tenstorrent)
    if config.local_server and spec.device.value == "gpu":
        raise UsageError(
            "--local-server does not run gpu specs: use --docker-server (the upstream vLLM "
            "image) or start vLLM yourself and pass --server-url"
        )
    if config.dev_mode and spec.device.value == "gpu":
        raise UsageError(
            f"--dev-mode: {spec.model_name} on gpu runs the pinned image {spec.docker_image}, "
            "which has no development image and takes no mounted sources; drop --dev-mode"
        )
    if spec.inference_engine.value != "llama_cpp":
        return
    ignored = sorted(set(config.vllm_override_args) - set(LLAMA_CPP_SERVER_ARGS))
    if ignored:
        raise UsageError(
            f"--vllm-override-args: {spec.model_name} on {spec.device.value} is served by "
            f"llama.cpp, which cannot honour {', '.join(ignored)}; it takes "
            f"{' and '.join(LLAMA_CPP_SERVER_ARGS)}"
        )


def _conflict(first: str, second: str, why: str) -> UsageError:
    return UsageError(f"{first} and {second} cannot be used together: {why}")


def _server_modes(config: RunConfig) -> None:
    if config.local_server and config.docker_server:
        raise _conflict("--local-server", "--docker-server", "pick where the server runs")
    if config.server_url and config.starts_server:
        flag = "--local-server" if config.local_server else "--docker-server"
        raise _conflict("--server-url", flag, "--server-url uses a server that already runs")
    if config.server_url and config.host_weights_dir:
        raise _conflict("--server-url", "--host-weights-dir", "a remote server has its weights")
    if config.interactive and not config.starts_server:
        raise UsageError("-it/--interactive needs --local-server or --docker-server")


def _device_flags(config: RunConfig, is_tenstorrent: bool) -> None:
    if is_tenstorrent:
        return
    if config.device_ids:
        raise _conflict(
            "--device-id", f"--device {config.device}", "device ids select Tenstorrent cards"
        )
    if config.override_tt_config:
        raise _conflict(
            "--override-tt-config",
            f"--device {config.device}",
            "it configures tt-metal, which only Tenstorrent devices run",
        )


def _override_keys(config: RunConfig) -> None:
    reserved = sorted(
        RESERVED_SERVER_ARGS & {k.replace("-", "_") for k in config.vllm_override_args}
    )
    if reserved:
        raise UsageError(
            f"--vllm-override-args: {', '.join(reserved)} are set by the runner; "
            "use the matching run.py flag instead"
        )


def _docker_flags(config: RunConfig) -> None:
    for flag, value in (
        ("--print-docker-cmd", config.print_docker_cmd),
        ("--host-volume", config.host_volume),
        ("--host-hf-cache", config.host_hf_cache),
        ("--dev-mode", config.dev_mode),
        ("--override-docker-image", config.override_docker_image),
    ):
        if value and not config.docker_server:
            raise UsageError(f"{flag} needs --docker-server: it configures the container")
    if config.override_docker_image:
        check_image_reference(config.override_docker_image, "--override-docker-image")
    if config.dev_mode and config.override_docker_image:
        raise _conflict(
            "--dev-mode",
            "--override-docker-image",
            "both choose the image (the spec's development image, or the one given)",
        )


def _started_server_flags(config: RunConfig) -> None:
    """Flags that configure a server the runner starts mean nothing for one that already runs."""
    if config.starts_server:
        return
    where = f"--server-url {config.server_url}" if config.server_url else "an external server"
    for flag, value in (
        ("--override-tt-config", config.override_tt_config),
        ("--vllm-override-args", config.vllm_override_args),
        ("--bind-host", config.bind_host_given),
        ("--device-id", config.device_ids),
        ("--service-port", config.service_port_given and config.server_url),
    ):
        if value:
            raise UsageError(
                f"{flag} configures a server the runner starts; with {where} it would change "
                "nothing (use --local-server or --docker-server)"
            )


def _load_flags(config: RunConfig) -> None:
    """Flags for the load generator need a workflow that runs it."""
    for flag, value, workflows in (
        ("--percentile-report", config.percentile_report, workflows_that(RUNS_LOAD)),
        ("--repeat", config.repeat is not None, workflows_that(RUNS_LOAD)),
        ("--concurrency-sweeps", config.concurrency_sweeps, workflows_that(RUNS_SWEEP)),
    ):
        if value and config.workflow not in workflows:
            raise UsageError(
                f"{flag} changes what the load generator does; the {config.workflow} workflow "
                f"runs none (use --workflow {' or '.join(workflows)})"
            )
    if config.repeat is not None and config.repeat < 1:
        raise UsageError(f"--repeat {config.repeat}: measure each point at least once (N >= 1)")
    chosen = "concurrency" in config.workflow_args or "benchmarks.concurrency" in (
        config.workflow_args
    )
    if config.concurrency_sweeps and chosen:
        raise _conflict(
            "--concurrency-sweeps",
            "--workflow-args concurrency=",
            "both choose the concurrency levels",
        )


def _report_flags(config: RunConfig) -> None:
    for flag, value in (
        ("--requirements", config.requirements),
        ("--compare-to", config.compare_to),
    ):
        if value and not does(config.workflow, RENDERS_REPORT):
            raise UsageError(
                f"{flag} changes the release report; the {config.workflow} workflow renders "
                "none (use --workflow release, or --workflow reports --run-dir on a run folder)"
            )
    if config.compare_to and not is_baseline(config.compare_to) and not config.compare_to.exists():
        raise UsageError(f"--compare-to {config.compare_to}: no such run folder or report.json")


def _eval_flags(config: RunConfig) -> None:
    if config.repeat_evals is not None and config.repeat_evals < 1:
        raise UsageError(f"--repeat-evals {config.repeat_evals}: run each task at least once")
    if config.limit_samples_mode and config.eval_samples:
        raise _conflict(
            "--limit-samples-mode",
            "--eval-samples",
            "a limit and chosen samples exclude each other",
        )
    for flag, value in (
        ("--limit-samples-mode", config.limit_samples_mode),
        ("--eval-samples", config.eval_samples),
        ("--repeat-evals", config.repeat_evals is not None),
    ):
        if value and not does(config.workflow, RUNS_EVALS):
            raise UsageError(
                f"{flag} sets what evals run; the {config.workflow} workflow runs none "
                f"(use --workflow {' or '.join(workflows_that(RUNS_EVALS))})"
            )


def config_from_options(options: Mapping[str, Any], default_port: Callable[[], int]) -> RunConfig:
    """The command line's options (by parameter name) as a RunConfig: each option is declared
    once, in `workflows/options.py`; here only those that need parsing are named."""
    names = {item.name for item in fields(RunConfig)}
    values = {name: value for name, value in options.items() if name in names}
    port = options["service_port"]
    values |= {
        "server_url": normalise_server_url(options["server_url"])
        if options["server_url"]
        else None,
        "service_port": check_port(port if port is not None else default_port()),
        "bind_host": options["bind_host"] or "127.0.0.1",
        "bind_host_given": options["bind_host"] is not None,
        "service_port_given": port is not None,
        "workflow_args": parse_workflow_args(options["workflow_args"]),
        "device_ids": parse_device_ids(options["device_id"]),
        "override_tt_config": parse_json_object(
            "--override-tt-config", options["override_tt_config"]
        ),
        "vllm_override_args": parse_json_object(
            "--vllm-override-args", options["vllm_override_args"]
        ),
        "limit_samples_mode": parse_limit_mode(options["limit_samples_mode"]) or _ci_limit(options),
        "eval_samples": parse_eval_samples(options["eval_samples"]),
    }
    for folder in (
        "host_weights_dir",
        "host_volume",
        "host_hf_cache",
        "requirements",
        "compare_to",
        "runtime_model_spec_json",
    ):
        values[folder] = options[folder].resolve() if options.get(folder) else None
    if is_baseline(options.get("compare_to")):
        values["compare_to"] = Path(BASELINE)  # the store's, not a folder named so
    return RunConfig(**values)


CI_LIMIT_MODE = "ci-nightly"


def _ci_limit(options: Mapping[str, Any]) -> str | None:
    """--ci-mode: the nightly limit for a workflow that runs evals, unless samples are chosen
    (a --limit-samples-mode given by the user wins, as it is read first)."""
    if not options.get("ci_mode") or options.get("eval_samples"):
        return None
    return CI_LIMIT_MODE if does(str(options.get("workflow")), RUNS_EVALS) else None


def config_summary(config: RunConfig) -> dict[str, Any]:
    """Every setting of the run, as JSON values (what `runtime_spec.json` records)."""
    return {item.name: _plain(getattr(config, item.name)) for item in fields(config)}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value
