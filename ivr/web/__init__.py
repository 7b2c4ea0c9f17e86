"""Web pieces that belong to no provider: health check, server, staff commands."""
