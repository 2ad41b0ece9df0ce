"""Known-good signatures checked against the providers' official libraries (copied from the shared reference
so the tests never skip for want of the file)."""

import json
from pathlib import Path

VECTORS = json.loads((Path(__file__).resolve().parent / "data" / "provider_test_vectors.json").read_text())
