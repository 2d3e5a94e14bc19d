"""What routes depend on, as FastAPI dependencies: the settings, the Temporal client and the
reply-token index, which `create_app` keeps on the application."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from domain.settings import Settings
from starter.http.reply_tokens import ReplyTokenIndex


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal(request: Request) -> Client:
    # Set by create_app (an injected client) or by the lifespan (a lazy connection).
    client: Client = request.app.state.temporal
    return client


def get_reply_index(request: Request) -> ReplyTokenIndex | None:
    index: ReplyTokenIndex | None = request.app.state.reply_index
    return index


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
ReplyIndexDep = Annotated[ReplyTokenIndex | None, Depends(get_reply_index)]
