"""One exception type for problems the user caused or can fix, and how any error is shown in one line."""


class RagError(Exception):
    """A user-facing error whose message is a complete, single-line explanation."""


def one_line(text: object, limit: int = 300) -> str:
    """Text with its whitespace runs (newlines too) made single spaces, cut to `limit` characters."""
    return " ".join(str(text).split())[:limit]


def describe(e: BaseException) -> str:
    """An unexpected exception as one line: its class and the first line of its message, or, when it has no
    message (Chroma's client re-raises a connect timeout as a bare ValueError), its cause's."""
    first = (str(e).strip().splitlines() or [""])[0]
    if not first and (cause := e.__cause__ or e.__context__) is not None:
        return one_line(f"{e.__class__.__name__} ({describe(cause)})")
    return one_line(f"{e.__class__.__name__}: {first}" if first else e.__class__.__name__)
