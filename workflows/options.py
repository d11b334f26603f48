"""The command line's options, declared once each (name, flags, kind, help), and the help
panels they are shown in. Standard library only: typer, which parses them
(workflows/cli_parser.py), is imported only when a command line is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

HINT = "see `python3 run.py --help`"
EXIT_CODES = (
    "exit codes: 0 ok (release, reports: accepted), 1 workflow failed, 2 usage, 3 setup "
    "(environment, weights, host, credentials), 4 server (not up, or exited during the "
    "workflow), 5 not accepted (release, reports: it ran, and a check blocks), 6 partial "
    "(release, reports: nothing blocks, but a narrowed release or a run that is not a release "
    "gets no release verdict), 7 regressed (--compare-to baseline: a figure worse than the "
    "baseline beyond its 95% interval), 130 interrupted"
)


@dataclass(frozen=True)
class Option:
    name: str  # the RunConfig field (or CLI-only setting) it fills
    flags: tuple[str, ...]
    help: str
    kind: type = str  # bool: a flag; int, str, Path: a value
    metavar: str | None = None
    many: bool = False  # one or more values


# The help's panels, in the order shown, and the options in each. "Options" is the panel typer
# shows first (with --help and the shell-completion options): the ones most runs need.
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Options",
        (
            "model",
            "device",
            "workflow",
            "workflow_args",
            "help_workflow_args",
            "server_url",
            "local_server",
            "docker_server",
            "no_auth",
            "list_models",
            "verbose",
            "json_output",
        ),
    ),
    (
        "Server bring-up",
        (
            "service_port",
            "bind_host",
            "impl",
            "engine",
            "host_weights_dir",
            "vllm_override_args",
            "interactive",
            "disable_trace_capture",
        ),
    ),
    (
        "Docker / Tenstorrent",
        (
            "dev_mode",
            "override_docker_image",
            "print_docker_cmd",
            "host_volume",
            "host_hf_cache",
            "device_id",
            "override_tt_config",
            "skip_system_sw_validation",
        ),
    ),
    (
        "Benchmarks and evals",
        (
            "concurrency_sweeps",
            "repeat",
            "percentile_report",
            "limit_samples_mode",
            "eval_samples",
            "repeat_evals",
        ),
    ),
    (
        "Reports",
        (
            "requirements",
            "compare_to",
            "run_dir",
            "merge",
            "ingest",
            "history",
            "baseline",
            "point",
            "metric",
            "db",
            "output_dir",
        ),
    ),
    ("Advanced", ("runtime_model_spec_json", "rerun", "model_specs_dir", "reset_venvs", "ci_mode")),
)

EXAMPLES = (
    "python3 run.py --list-models",
    "python3 run.py --model SmolLM2-135M-Instruct --device cpu --workflow release --local-server",
    "python3 run.py --model Llama-3.1-8B-Instruct --device n150 --workflow release --docker-server",
    "python3 run.py --model M --device D --workflow benchmarks --server-url http://HOST:8000 "
    '--workflow-args "concurrency=1,8"',
    "python3 run.py --workflow reports --run-dir workflow_logs/latest",
)


def panel_of(name: str) -> str:
    return next(title for title, names in PANELS if name in names)


def options(workflow_names: tuple[str, ...]) -> tuple[Option, ...]:
    return (
        Option("model", ("--model",), "Model name, e.g. Llama-3.1-8B-Instruct.", metavar="M"),
        Option(
            "device",
            ("--device",),
            "cpu, gpu, n150, n300, n150x4, p100, p150, p150x4, p150x8, p300, p300x2, t3k, galaxy, "
            "galaxy_t3k (one Galaxy tray: with --device-id, 8 ids); default: what tt-smi reports.",
            metavar="D",
        ),
        Option("workflow", ("--workflow",), f"One of: {', '.join(workflow_names)}.", metavar="W"),
        Option("impl", ("--impl",), "Implementation, when a model has several.", metavar="NAME"),
        Option(
            "engine",
            ("--engine",),
            "Inference engine (vllm, llama_cpp), when a model has several.",
            metavar="NAME",
        ),
        Option(
            "runtime_model_spec_json",
            ("--runtime-model-spec-json",),
            "Run this spec (a run's runtime_spec.json, or ModelSpec JSON), not the registry's.",
            Path,
            metavar="PATH",
        ),
        Option(
            "rerun",
            ("--rerun",),
            "Repeat a recorded run: its spec, workflow and settings; says what differs.",
            Path,
            metavar="RUN_DIR",
        ),
        Option("local_server", ("--local-server",), "Start the server on this host.", bool),
        Option("docker_server", ("--docker-server",), "Start it in its pinned Docker image.", bool),
        Option(
            "server_url",
            ("--server-url",),
            "Use a server that already runs at this URL.",
            metavar="URL",
        ),
        Option("service_port", ("--service-port",), "Port (default $SERVICE_PORT or 8000).", int),
        Option(
            "bind_host",
            ("--bind-host",),
            "Interface a started server listens on (127.0.0.1).",
            metavar="HOST",
        ),
        Option(
            "interactive", ("-it", "--interactive"), "Server in the foreground / a shell.", bool
        ),
        Option(
            "workflow_args",
            ("--workflow-args",),
            'Workflow settings, "k=v k2=v2"; --help-workflow-args W lists the keys W takes.',
            metavar="K=V",
        ),
        Option(
            "help_workflow_args",
            ("--help-workflow-args",),
            "Print the --workflow-args keys workflow W takes, and exit.",
            metavar="W",
        ),
        Option(
            "dev_mode", ("--dev-mode",), "With --docker-server: the spec's development image.", bool
        ),
        Option(
            "override_docker_image",
            ("--override-docker-image",),
            "With --docker-server: run this image.",
            metavar="IMAGE",
        ),
        Option(
            "device_id", ("--device-id",), "Tenstorrent device ids to use, e.g. 0,1.", metavar="IDS"
        ),
        Option(
            "override_tt_config",
            ("--override-tt-config",),
            "JSON merged into the tt config.",
            metavar="JSON",
        ),
        Option(
            "vllm_override_args",
            ("--vllm-override-args",),
            "JSON merged into the server args.",
            metavar="JSON",
        ),
        Option(
            "disable_trace_capture",
            ("--disable-trace-capture",),
            "Skip the warm-up requests.",
            bool,
        ),
        Option(
            "limit_samples_mode",
            ("--limit-samples-mode",),
            "Evals on a sample limit: smoke, ci-commit, ci-nightly, ci-long or full.",
            metavar="MODE",
        ),
        Option(
            "eval_samples",
            ("--eval-samples",),
            "Evals on chosen samples: '{\"task\": [0, 5]}'.",
            metavar="JSON",
        ),
        Option(
            "requirements",
            ("--requirements",),
            "release, reports: a deployment's own targets (YAML or JSON) instead of the "
            "registry's.",
            Path,
            metavar="FILE",
        ),
        Option(
            "compare_to",
            ("--compare-to",),
            "release, reports: a previous run folder or report.json to compare with; "
            "'baseline': the store's last accepted release, with a regression gate (exit 7).",
            Path,
            metavar="RUN",
        ),
        Option(
            "run_dir",
            ("--run-dir",),
            "reports: rebuild the report of this run folder (no server needed).",
            Path,
            metavar="DIR",
        ),
        Option(
            "merge",
            ("--merge",),
            "reports: one catalogue summary from these report.json files.",
            Path,
            metavar="REPORT",
            many=True,
        ),
        Option(
            "ingest",
            ("--ingest",),
            "reports: store these complete run folders in the results store (--db).",
            Path,
            metavar="RUN_DIR",
            many=True,
        ),
        Option(
            "history",
            ("--history",),
            "reports, with --model and --device: each stored run's figures, pins and verdict.",
            bool,
        ),
        Option(
            "baseline",
            ("--baseline",),
            "reports, with --model and --device: the last accepted release in the store.",
            bool,
        ),
        Option(
            "point",
            ("--point",),
            "reports --history: only this benchmark point, ISL,OSL,CONCURRENCY.",
            metavar="I,O,C",
        ),
        Option(
            "metric",
            ("--metric",),
            "reports --history: ttft (default), tpot, tput_user or tput.",
            metavar="NAME",
        ),
        Option(
            "db",
            ("--db",),
            "The results store's URL (sqlite:///FILE or postgresql://...; default "
            "$READINESS_DB_URL, else workflow_logs/results.db); given, every run stores itself.",
            metavar="URL",
        ),
        Option(
            "output_dir",
            ("--output-dir",),
            "reports --merge: where the summary goes (default workflow_logs/catalogue).",
            Path,
            metavar="DIR",
        ),
        Option(
            "ci_mode",
            ("--ci-mode",),
            "For CI machines: evals on the ci-nightly sample limit unless "
            "--limit-samples-mode says otherwise; no host software check.",
            bool,
        ),
        Option(
            "skip_system_sw_validation",
            ("--skip-system-sw-validation",),
            "Do not check the host's firmware and KMD (tt-smi) against the spec.",
            bool,
        ),
        Option(
            "percentile_report",
            ("--percentile-report",),
            "benchmarks, stress_tests, release: a table of TTFT/TPOT/ITL/E2EL percentiles.",
            bool,
        ),
        Option(
            "repeat",
            ("--repeat",),
            "benchmarks, stress_tests, release: measure each point N times (fresh prompts each "
            "time); each repeat's results are kept, the point's file summarises them with a 95% "
            "interval.",
            int,
            metavar="N",
        ),
        Option(
            "repeat_evals",
            ("--repeat-evals",),
            "evals, release: run each sampled eval task (temperature above 0) N times, a seed "
            "each; every run's score is kept and their mean judged with its 95% interval.",
            int,
            metavar="N",
        ),
        Option(
            "concurrency_sweeps",
            ("--concurrency-sweeps",),
            "benchmarks, release: concurrency 1, 2, 4, ... up to the device's maximum, and it.",
            bool,
        ),
        Option("reset_venvs", ("--reset-venvs",), "Remove the workflow environments first.", bool),
        Option(
            "no_auth",
            ("--no-auth",),
            "No authentication: a server the runner starts checks no token; with --server-url, "
            "send no token (even with JWT_SECRET or API_KEY set).",
            bool,
        ),
        Option("verbose", ("-v", "--verbose"), "Show debug output on the console.", bool),
        Option(
            "host_weights_dir",
            ("--host-weights-dir",),
            "Folder with the model's weights.",
            Path,
            metavar="DIR",
        ),
        Option(
            "print_docker_cmd", ("--print-docker-cmd",), "Print the `docker run` and exit.", bool
        ),
        Option(
            "host_volume", ("--host-volume",), "Bind-mount as the container's cache volume.", Path
        ),
        Option("host_hf_cache", ("--host-hf-cache",), "Mount this HF cache read-only.", Path),
        Option(
            "model_specs_dir",
            ("--model-specs-dir",),
            "Registry folder (default model_specs/).",
            Path,
        ),
        Option("list_models", ("--list-models",), "Print the registry and exit.", bool),
        Option(
            "json_output",
            ("--json",),
            "With --list-models, reports --history or --baseline: print JSON.",
            bool,
        ),
    )


def flag_of(name: str) -> str:
    """The command-line flag that sets option `name` (its longest spelling), as users type it."""
    for option in options(()):
        if option.name == name:
            return max(option.flags, key=len)
    return "--" + name.replace("_", "-")  # a setting with no flag of its own


def parse(argv: list[str], workflow_names: tuple[str, ...]) -> dict[str, Any] | None:
    """The options by name; None when the help (or a completion script) was printed."""
    from workflows.cli_parser import parse_with_typer  # typer only once there is argv to parse

    return parse_with_typer(argv, options(workflow_names))
