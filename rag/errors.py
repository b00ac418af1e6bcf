"""One exception type for problems the user caused or can fix, and how any error is shown in one line."""


class RagError(Exception):
    """A user-facing error whose message is a complete, single-line explanation."""


def one_line(text: object, limit: int = 300) -> str:
    """Text with its whitespace runs (newlines too) made single spaces, cut to `limit` characters."""
    return " ".join(str(text).split())[:limit]


def describe(e: BaseException) -> str:
    """An unexpected exception as one line: its class and the first line of its message."""
    first = (str(e).strip().splitlines() or [""])[0]
    return one_line(f"{e.__class__.__name__}: {first}" if first else e.__class__.__name__)
