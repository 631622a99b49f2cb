"""The local mode: the platform's real services fetched from package registries and run under
supervisord on 127.0.0.1, with no container engine."""
