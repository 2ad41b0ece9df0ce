# gunicorn reads this file from the working directory (the Dockerfile's /app, docker-compose's web service).
# The access log goes through a logger class that redacts OAuth query values and credential headers.
logger_class = "integrations.console.gunicorn.RedactingLogger"
