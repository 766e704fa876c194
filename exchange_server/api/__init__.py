"""The exchange's public face: REST under ``/api/v1`` and the WebSocket stream at ``/ws``."""
