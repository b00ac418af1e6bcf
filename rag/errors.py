"""One exception type for problems the user caused or can fix; the CLI prints it as one line."""


class RagError(Exception):
    """A user-facing error whose message is a complete, single-line explanation."""
