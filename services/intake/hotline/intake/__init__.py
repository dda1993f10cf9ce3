"""Receives the call centre's webhooks: call records (话单) and tickets (工单)."""
