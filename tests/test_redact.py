import logging

from mamdl.redact import RedactingFilter, redact, register_secret


def test_registered_secret_and_shapes_are_masked():
    register_secret("s3cr3t-cookie-value")
    text = "cookie s3cr3t-cookie-value; Cookie: mam_id=abcdef123; http://x/announce?passkey=deadbeef&x=1 /tracker.php/abc123/announce"
    out = redact(text)
    for leaked in ("s3cr3t-cookie-value", "abcdef123", "deadbeef", "abc123"):
        assert leaked not in out


def test_log_records_and_tracebacks_are_redacted(caplog):
    register_secret("another-secret-1234")
    logger = logging.getLogger("mamdl.test")
    handler_filter = RedactingFilter()
    try:
        raise RuntimeError("failed with another-secret-1234")
    except RuntimeError:
        record = logger.makeRecord("x", logging.ERROR, __file__, 1, "value %s", ("another-secret-1234",), None)
        import sys

        record.exc_info = sys.exc_info()
    handler_filter.filter(record)
    assert "another-secret-1234" not in record.getMessage()
    assert "another-secret-1234" not in (record.exc_text or "")
