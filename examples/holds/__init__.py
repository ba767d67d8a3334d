"""Inventory holds: HTTP API -> Redis (stock, Lua) -> Redis stream -> worker -> PostgreSQL."""
