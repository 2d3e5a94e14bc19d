"""Programmatic API and `csflow` command line for backend engineers."""
