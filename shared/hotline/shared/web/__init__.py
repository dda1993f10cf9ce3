"""What every service's HTTP side shares: the app, dependencies, health, metrics, problems, auth."""
