"""Start the web UI: `python app.py` (host/port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)."""
import sys

from rag.errors import RagError
from rag.ui.app import serve

if __name__ == "__main__":
    try:
        sys.exit(serve())
    except RagError as e:
        print(f"rag: error: {e}", file=sys.stderr)
        sys.exit(2)
