"""Answerers turn numbered passages into an Answer whose every [n] is a verified, quoted citation."""
from .base import Passage, abstention, cite_sentence

__all__ = ["Passage", "abstention", "cite_sentence"]
