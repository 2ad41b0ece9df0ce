"""Celery: each task's log lines carry its task name and id (and whatever ids the task binds itself)."""

from celery.signals import task_postrun, task_prerun

from . import logs


@task_prerun.connect(weak=False)
def _bind_task(task_id=None, task=None, **kwargs):
    logs.clear()
    logs.bind_request(task_id or "")
    import structlog

    structlog.contextvars.bind_contextvars(task=getattr(task, "name", None))


@task_postrun.connect(weak=False)
def _clear_task(**kwargs):
    logs.clear()
