"""Tests of the WebSocket consumers."""
