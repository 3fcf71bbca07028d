"""Credentials never reach a log line, whatever logger writes it (uvicorn's access log included)."""

import logging

from hazardloop.runtime.logs import RedactSecrets


def test_the_access_log_line_of_a_qr_form_keeps_the_path_and_drops_the_signature(caplog):
    logger = logging.getLogger("uvicorn.access")
    caplog.handler.addFilter(RedactSecrets())
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", "/f/refinery/bay-3?k=Zm9ybS1zaWc&lang=en", "1.1", 200)
    (record,) = caplog.records
    assert record.args[2] == "/f/refinery/bay-3?k=[redacted]&lang=en" and record.args[4] == 200
    assert "Zm9ybS1zaWc" not in caplog.text


def test_a_credential_in_the_message_itself_is_redacted(caplog):
    caplog.handler.addFilter(RedactSecrets())
    with caplog.at_level(logging.INFO):
        logging.getLogger("hazardloop.test").info("fetched https://intake/reports?access_token=eyJhbGciOi.x.y done")
    assert "eyJhbGciOi" not in caplog.text and "access_token=[redacted] done" in caplog.text
