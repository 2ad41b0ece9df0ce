FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
COPY shelfops ./shelfops
COPY inventory ./inventory
COPY integrations ./integrations
COPY sandbox ./sandbox
RUN pip install .
COPY . .
RUN SECRET_KEY=build FERNET_KEYS=ZmFrZS1rZXktZm9yLWNvbGxlY3RzdGF0aWMtb25seS0wMDA= VAR_DIR=/tmp/var \
    python manage.py collectstatic --noinput
RUN useradd --create-home shelfops && mkdir -p /app/var && chown shelfops /app/var
USER shelfops
EXPOSE 8000
CMD ["gunicorn", "shelfops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
