"""The results store's first schema: runs, benchmark points, eval scores, spec checks and the
verdict's checks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_ref() -> list[sa.Column[int]]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run",
            sa.Integer,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
    ]


def _interval(name: str) -> list[sa.Column[float]]:
    return [
        sa.Column(name, sa.Double),
        sa.Column(f"{name}_ci95_low", sa.Double),
        sa.Column(f"{name}_ci95_high", sa.Double),
    ]


def _runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(200), nullable=False, unique=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("device", sa.String(50), nullable=False),
        sa.Column("workflow", sa.String(50), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("ingested_at", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(50), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("blockers", sa.Integer, nullable=False),
        *(sa.Column(name, sa.String(300)) for name in ("model_id", "model_repo")),
        *(sa.Column(name, sa.String(100)) for name in ("impl", "inference_engine")),
        sa.Column("engine_version", sa.String(300)),
        sa.Column("model_status", sa.String(50)),
        *(
            sa.Column(name, sa.String(100))
            for name in ("spec_version", "tt_metal_commit", "vllm_commit")
        ),
        sa.Column("docker_image", sa.String(500)),
        sa.Column("engine_packages", sa.JSON),
        sa.Column("server_mode", sa.String(50)),
        sa.Column("runner_version", sa.String(50)),
        sa.Column("runner_git_sha", sa.String(64)),
        sa.Column("host", sa.JSON),
        sa.Column("requirements", sa.JSON),
        sa.Column("limit_samples_mode", sa.String(50)),
        sa.Column("command", sa.Text),
    )
    op.create_index("runs_model_device", "runs", ["model", "device", "started_at"])


def _benchmark_points() -> None:
    op.create_table(
        "benchmark_points",
        *_run_ref(),
        sa.Column("kind", sa.String(20), nullable=False),
        *(sa.Column(name, sa.Integer, nullable=False) for name in ("isl", "osl", "concurrency")),
        *(sa.Column(name, sa.Integer) for name in ("num_prompts", "completed", "failed")),
        *_interval("mean_ttft_ms"),
        *_interval("mean_tpot_ms"),
        *_interval("tput_user"),
        *_interval("output_throughput"),
        *(
            sa.Column(name, sa.Double)
            for name in (
                "p99_ttft_ms",
                "mean_e2el_ms",
                "request_throughput",
                "total_token_throughput",
                "cached_share",
            )
        ),
        sa.Column("repeats", sa.Integer),
        sa.Column("interval_method", sa.Text),
        sa.Column("tool", sa.String(100)),
        sa.Column("window", sa.JSON),
    )


def _checks() -> None:
    op.create_table(
        "eval_scores",
        *_run_ref(),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("status", sa.String(50)),
        *_interval("score"),
        sa.Column("unit", sa.String(50)),
        sa.Column("n_samples", sa.Integer),
        sa.Column("reference", sa.Double),
        sa.Column("tolerance", sa.Double),
        sa.Column("limit_mode", sa.String(50)),
    )
    op.create_table(
        "spec_checks",
        *_run_ref(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(50)),
        sa.Column("duration_s", sa.Double),
        sa.Column("attempts", sa.Integer),
        sa.Column("message", sa.Text),
    )
    op.create_table(
        "verdict_checks",
        *_run_ref(),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(50), nullable=False),
        sa.Column("marginal", sa.Boolean, nullable=False),
        sa.Column("message", sa.Text),
    )


def upgrade() -> None:
    _runs()
    _benchmark_points()
    _checks()


def downgrade() -> None:
    for table in ("verdict_checks", "spec_checks", "eval_scores", "benchmark_points", "runs"):
        op.drop_table(table)
