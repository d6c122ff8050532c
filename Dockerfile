FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY config config
COPY common common
COPY scheduling scheduling
COPY referrals referrals
COPY notifications notifications
COPY fhir fhir
COPY manage.py ./
RUN pip install --no-cache-dir -c requirements.lock . \
    && DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --create-home bridgeway
USER bridgeway
EXPOSE 8000
# config/gunicorn.py: bind :8000 (PORT), WEB_CONCURRENCY workers (3), access log to stdout
# with link tokens redacted.
CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application"]
