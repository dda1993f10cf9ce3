"""The embedded stack, `hotline up` and the `hotline` command."""
