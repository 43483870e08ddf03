"""Socket Mode: the websocket Slack pushes envelopes over instead of HTTP requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from typing import Any

from aiohttp import WSMsgType, web

ACK_TIMEOUT = 3.0


class SocketHub:
    """Connection ids issued by apps.connections.open and the websockets behind them."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.base_url = ""
        self._issued: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/socket/{conn_id}", self.connect)]

    def issue_url(self) -> str:
        conn_id = secrets.token_hex(8)
        self._issued.add(conn_id)
        return f"{self.base_url.replace('http://', 'ws://', 1)}/socket/{conn_id}"

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def connect(self, request: web.Request) -> web.StreamResponse:
        conn_id = request.match_info["conn_id"]
        if conn_id not in self._issued:
            return web.Response(status=401, text="invalid connection id")
        self._issued.discard(conn_id)
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "sandbox", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                with contextlib.suppress(json.JSONDecodeError):
                    data = json.loads(msg.data)
                    future = self._pending.pop(str(data.get("envelope_id")), None)
                    if future is not None and not future.done():
                        future.set_result(data)
        finally:
            self._sockets.remove(ws)
        return ws

    async def deliver(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = ACK_TIMEOUT,
    ) -> dict[str, Any] | None:
        """Send one envelope and wait for its ack; None if nobody acked in time."""
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise RuntimeError("no Socket Mode client is connected to the sandbox")
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        await live[0].send_str(json.dumps(envelope))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self._pending.pop(envelope_id, None)

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
