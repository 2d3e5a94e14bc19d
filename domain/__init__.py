"""Customer-success domain: boundary models (`domain.models`) and per-segment playbook
configuration (`domain.segments`)."""
