"""The results store: every complete run's metadata, figures and verdict in a database (a SQLite
file under workflow_logs/ by default, PostgreSQL by URL for a team), through SQLAlchemy Core, its
schema grown by the Alembic migrations shipped beside it. SQLAlchemy is imported only by the
modules that touch the database, never at the runner's start-up."""
