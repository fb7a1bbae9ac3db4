"""Persistence: SQLAlchemy models, Alembic migrations, the event journal and its projections."""
