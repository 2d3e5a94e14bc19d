"""Playbooks: one module per playbook (its workflow, its policy and its SPEC), listed in
`registry.py`; `launcher.py` is the journey's side. CONTRIBUTING.md says how to add one."""
