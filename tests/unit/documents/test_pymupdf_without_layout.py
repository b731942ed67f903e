"""PyMuPDF comes without its layout analysis (ONNX models) and Markdown extras, and still reads."""

import subprocess
import sys

PROBE = """
import sys
import psutil
import hybridmcp_app.documents.pymupdf_parser as parser
from hybridmcp_app.documents.pymupdf_without_layout import LEFT_OUT
loaded = [name for name in (*LEFT_OUT, "onnxruntime") if name in sys.modules]
import pymupdf
document = pymupdf.open()
document.new_page().insert_text((72, 72), "Otters hold hands.")
from pathlib import Path
parsed = parser.parse_paged(Path("otters.pdf"), document.tobytes(), kind="pdf", content_hash="h")
print(loaded, parsed.pages[0].text.strip())
import pymupdf.layout
"""


def test_pymupdf_is_imported_without_layout_models_and_still_reads_pdfs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    first_line = result.stdout.splitlines()[0] if result.stdout else result.stderr
    assert first_line == "[] Otters hold hands."
    # Outside the import, nothing else is refused: layout can still be imported on purpose.
    assert result.returncode == 0, result.stderr
