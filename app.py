"""Start the web UI: `python app.py` (host/port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)."""
import sys

from rag.errors import RagError
from rag.settings import offline_environment

if __name__ == "__main__":
    offline_environment()  # before rag.ui imports gradio, which imports huggingface_hub
    from rag.ui.app import serve

    try:
        sys.exit(serve())
    except RagError as e:
        print(f"rag: error: {e}", file=sys.stderr)
        sys.exit(2)
