# The production image: the portal without the provider sandbox or test tools (no [sandbox]/[test] extras, the
# sandbox/ package is left out by .dockerignore). It starts in production mode, which refuses to run until the
# environment (.env / docker-compose) gives every required setting; nothing secret is baked in.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Everything .dockerignore lets through (the apps, templates, static files; not sandbox/, tests/, bench/, .env),
# so an app added to the project is in the image without editing this file.
COPY . .
RUN pip install .
# Static files are collected in local mode into a throw-away var/ (its generated keys are deleted with it).
RUN VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput && rm -rf /tmp/build-var
RUN useradd --create-home shelfops && mkdir -p /app/var && chown shelfops /app/var
USER shelfops
ENV SHELFOPS_ENV=production
EXPOSE 8000
CMD ["gunicorn", "shelfops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
