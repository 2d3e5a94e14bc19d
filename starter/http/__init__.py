"""The customer actions API: event intake, email and support webhooks, survey pages.

`create_app()` builds the FastAPI application; `serve()` runs it with uvicorn (`csflow api`).
"""
