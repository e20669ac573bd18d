"""Real-time WebSocket consumers (DESIGN.md 4.4)."""
