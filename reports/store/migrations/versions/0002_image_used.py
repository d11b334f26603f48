"""The image a run's container actually ran: its id and where it came from (built here, pulled,
or local), beside the pinned reference `docker_image`. Runs stored before, and runs without a
container, keep NULL.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("docker_image_id", sa.String(100)))
    op.add_column("runs", sa.Column("docker_image_origin", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("docker_image_origin")
        batch.drop_column("docker_image_id")
