"""A task sent from the web process runs in a real worker process."""

from django.test import Client

from shelfops.celery import ping

from .processes import wait_until


def test_task_sent_from_web_process_runs_in_worker(celery_worker, tmp_path):
    marker = tmp_path / "pong"
    ping.delay(str(marker))
    # The task creates the file and then writes it: wait for the content, not only the file.
    wait_until(lambda: marker.exists() and marker.read_text() == "pong", timeout=30,
               what="the worker to run the ping task")


def test_readyz_reports_database_and_broker(db):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"


def test_healthz(db):
    assert Client().get("/healthz").json() == {"status": "ok"}
