"""End-to-end tests against the real PostgreSQL and Redis servers, and real uvicorn processes."""
