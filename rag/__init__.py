"""rag: answers questions about news articles with cited, quoted evidence."""
from .errors import RagError
from .types import Answer, Chunk, Citation, Document, Hit, IndexReport

__all__ = ["RAG", "RagError", "Settings", "Answer", "Chunk", "Citation", "Document", "Hit", "IndexReport"]


def __getattr__(name):
    if name == "RAG":
        from .api import RAG

        return RAG
    if name == "Settings":  # imported on use, so `python -m rag.settings` runs the module once
        from .settings import Settings

        return Settings
    raise AttributeError(name)
