"""Qt widgets and dialogs. With ``app.py``, the only place that imports PySide6 or qasync."""
