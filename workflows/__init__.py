"""Customer lifecycle workflows: one module per workflow, plus the models they exchange."""
