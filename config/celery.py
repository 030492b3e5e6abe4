"""The Celery app: configured from Django settings (`CELERY_*`), tasks found in each app's tasks.py."""

import os

from celery import Celery
from celery.signals import worker_process_init

from mdm.gcpause import freeze_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mdm_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
worker_process_init.connect(freeze_heap)
