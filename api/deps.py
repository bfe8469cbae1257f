"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from models.logs import LOG_ID
from models.runtime import Runtime
from sqlalchemy.orm import Session


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A read session; endpoints that write open their own transaction."""
    with runtime.db.reads() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

LogIdPath = Annotated[
    str,
    Path(
        pattern=LOG_ID.pattern,
        description="The log's regency code, e.g. 53.03",
        examples=["53.03"],
    ),
]
