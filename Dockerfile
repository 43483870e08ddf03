FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BREACHROOM_HOST=0.0.0.0 \
    BREACHROOM_PORT=3000

RUN groupadd --system breachroom && useradd --system --gid breachroom --home-dir /app breachroom
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY schedules ./schedules
COPY incident ./incident
COPY sandbox ./sandbox
RUN pip install . && mkdir -p /app/var && chown -R breachroom:breachroom /app/var

USER breachroom
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BREACHROOM_PORT','3000'), timeout=4).status == 200 else 1)"

# `serve` refuses to start on an old schema; run `breachroom migrate` once per release first.
ENTRYPOINT ["breachroom"]
CMD ["serve"]
