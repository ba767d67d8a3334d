"""Reference system under test: a flash-sale order pipeline (API -> Redis stream -> worker -> PostgreSQL)."""
