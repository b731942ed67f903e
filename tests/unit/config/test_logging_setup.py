import logging
import threading

from hybridmcp_app.config.logging_setup import LogBuffer, LogEntry, configure_logging
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import LoggingSettings


def test_records_go_to_the_log_file_and_the_buffer(app_paths: AppPaths) -> None:
    buffer = configure_logging(app_paths, LoggingSettings())
    logging.getLogger("hybridmcp.library").info("indexed %d files", 12)
    logging.getLogger("hybridmcp.library").debug("not at INFO level")
    for handler in logging.getLogger("hybridmcp").handlers:
        handler.flush()
    text = app_paths.log_file.read_text()
    assert "INFO    hybridmcp.library: indexed 12 files" in text
    assert "not at INFO level" not in text
    assert [entry.logger for entry in buffer.entries()] == ["hybridmcp.library"]


def test_verbose_logs_debug_messages(app_paths: AppPaths) -> None:
    buffer = configure_logging(app_paths, LoggingSettings(), verbose=True)
    logging.getLogger("hybridmcp.x").debug("details")
    assert buffer.entries()[-1].level_name == "DEBUG"


def test_the_log_file_rotates_at_its_size_limit(app_paths: AppPaths) -> None:
    configure_logging(app_paths, LoggingSettings(max_file_kb=64, backup_count=2))
    line = "x" * 1000
    for _ in range(200):
        logging.getLogger("hybridmcp.spam").info(line)
    rotated = sorted(p.name for p in app_paths.log_dir.iterdir())
    assert rotated == ["hybridmcp.log", "hybridmcp.log.1", "hybridmcp.log.2"]


def test_configuring_twice_does_not_duplicate_handlers(app_paths: AppPaths) -> None:
    configure_logging(app_paths, LoggingSettings())
    configure_logging(app_paths, LoggingSettings())
    assert len(logging.getLogger("hybridmcp").handlers) == 2  # file + buffer


def test_listeners_hear_records_from_any_thread_until_they_unsubscribe() -> None:
    buffer = LogBuffer(capacity=3)
    heard: list[LogEntry] = []
    unsubscribe = buffer.subscribe(heard.append)
    logger = logging.getLogger("hybridmcp.test-buffer")
    logger.addHandler(buffer)
    logger.setLevel(logging.INFO)
    try:
        worker = threading.Thread(target=lambda: logger.warning("from a worker"))
        worker.start()
        worker.join()
        unsubscribe()
        for index in range(4):
            logger.info("after %d", index)
    finally:
        logger.removeHandler(buffer)
    assert [entry.text.split(": ", 1)[1] for entry in heard] == ["from a worker"]
    assert len(buffer.entries()) == 3  # capacity keeps the newest
