"""The store's tables, as SQLAlchemy Core sees them (the migrations create them: a test checks
that the two agree). One row per run; its benchmark points, eval scores, spec checks and the
verdict's checks in tables of their own, each row tied to its run."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def _run_ref() -> sa.Column[int]:
    return sa.Column(
        "run", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True
    )


def _interval(name: str) -> tuple[sa.Column[float], sa.Column[float], sa.Column[float]]:
    """A figure and its 95% interval."""
    return (
        sa.Column(name, sa.Double),
        sa.Column(f"{name}_ci95_low", sa.Double),
        sa.Column(f"{name}_ci95_high", sa.Double),
    )


runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(200), nullable=False, unique=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("device", sa.String(50), nullable=False),
    sa.Column("workflow", sa.String(50), nullable=False),
    sa.Column("started_at", sa.String(32), nullable=False),  # from the run id: sorts as text
    sa.Column("ingested_at", sa.String(32), nullable=False),
    sa.Column("verdict", sa.String(50), nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("blockers", sa.Integer, nullable=False),
    sa.Column("model_id", sa.String(300)),
    sa.Column("model_repo", sa.String(300)),
    sa.Column("impl", sa.String(100)),
    sa.Column("inference_engine", sa.String(100)),
    sa.Column("engine_version", sa.String(300)),
    sa.Column("model_status", sa.String(50)),
    sa.Column("spec_version", sa.String(100)),
    sa.Column("tt_metal_commit", sa.String(100)),
    sa.Column("vllm_commit", sa.String(100)),
    sa.Column("docker_image", sa.String(500)),  # the spec's pinned reference
    sa.Column("docker_image_id", sa.String(100)),  # the image that ran (sha256:...), if one did
    sa.Column("docker_image_origin", sa.String(500)),  # built here / pulled / local, in words
    sa.Column("engine_packages", sa.JSON),
    sa.Column("server_mode", sa.String(50)),
    sa.Column("runner_version", sa.String(50)),
    sa.Column("runner_git_sha", sa.String(64)),
    sa.Column("host", sa.JSON),
    sa.Column("requirements", sa.JSON),
    sa.Column("limit_samples_mode", sa.String(50)),
    sa.Column("command", sa.Text),
    sa.Index("runs_model_device", "model", "device", "started_at"),
)

benchmark_points = sa.Table(
    "benchmark_points",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _run_ref(),
    sa.Column("kind", sa.String(20), nullable=False),  # benchmark or stress_test
    sa.Column("isl", sa.Integer, nullable=False),
    sa.Column("osl", sa.Integer, nullable=False),
    sa.Column("concurrency", sa.Integer, nullable=False),
    sa.Column("num_prompts", sa.Integer),
    sa.Column("completed", sa.Integer),
    sa.Column("failed", sa.Integer),
    *_interval("mean_ttft_ms"),
    *_interval("mean_tpot_ms"),
    *_interval("tput_user"),
    *_interval("output_throughput"),
    sa.Column("p99_ttft_ms", sa.Double),
    sa.Column("mean_e2el_ms", sa.Double),
    sa.Column("request_throughput", sa.Double),
    sa.Column("total_token_throughput", sa.Double),
    sa.Column("cached_share", sa.Double),
    sa.Column("repeats", sa.Integer),
    sa.Column("interval_method", sa.Text),
    sa.Column("tool", sa.String(100)),
    sa.Column("window", sa.JSON),
)

eval_scores = sa.Table(
    "eval_scores",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _run_ref(),
    sa.Column("task", sa.String(200), nullable=False),
    sa.Column("status", sa.String(50)),
    *_interval("score"),
    sa.Column("unit", sa.String(50)),
    sa.Column("n_samples", sa.Integer),
    sa.Column("reference", sa.Double),
    sa.Column("tolerance", sa.Double),
    sa.Column("limit_mode", sa.String(50)),
)

spec_checks = sa.Table(
    "spec_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _run_ref(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(50)),
    sa.Column("duration_s", sa.Double),
    sa.Column("attempts", sa.Integer),
    sa.Column("message", sa.Text),
)

verdict_checks = sa.Table(
    "verdict_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _run_ref(),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("category", sa.String(100), nullable=False),
    sa.Column("outcome", sa.String(50), nullable=False),
    sa.Column("marginal", sa.Boolean, nullable=False),
    sa.Column("message", sa.Text),
)
