"""graphql-transport-ws with persisted queries: a refused query gets an `error` message."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from api.http.persisted import PersistedQueries, Refused


class PersistedTransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    """Resolves a subscribe message's query by its hash before the operation starts."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        persisted: PersistedQueries | None = getattr(self.view, "persisted", None)
        payload = message.get("payload")
        if persisted is not None and isinstance(payload, dict) and self.connection_acknowledged:
            try:
                resolved = persisted.resolve(payload)
            except Refused as refused:
                error: ErrorMessage = {
                    "id": message["id"],
                    "type": "error",
                    "payload": [refused.formatted()],  # type: ignore[list-item]
                }
                await self.send_message(error)
                return
            message = {**message, "payload": {**payload, **resolved}}  # type: ignore[typeddict-item]
        await super().handle_subscribe(message)
