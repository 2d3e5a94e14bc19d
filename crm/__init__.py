"""CRM store: SQLModel tables, engine/sessions and Alembic migrations (activity side only)."""
