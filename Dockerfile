# monitor: the news-monitoring service. Build: docker build -t monitor .
# Run: docker run -e SLACK_BOT_TOKEN=... -e REDIS_URL=redis://redis:6379/0 monitor
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/monitor --create-home monitor
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY rules /etc/monitor/rules
COPY deploy/feeds.example.yaml /etc/monitor/feeds.yaml
# The container's own config: deploy/monitor.example.yaml resolves its paths against the repository
# layout (../rules), so the image gets one for /etc/monitor. Mount your own over it (compose, k8s).
RUN printf '%s\n' \
    '# The image default: see docs/configuration.md. REDIS_URL replaces the store.' \
    'rules: rules' \
    'feeds: feeds.yaml' \
    'store: sqlite:/var/lib/monitor/monitor.db' \
    'metrics:' \
    '  listen: 0.0.0.0:9108' \
    > /etc/monitor/monitor.yaml
USER monitor
WORKDIR /var/lib/monitor
ENV MONITOR_CONFIG=/etc/monitor/monitor.yaml \
    PYTHONUNBUFFERED=1
# Prometheus metrics, /healthz and /readyz (metrics.listen in the config).
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4)"]
ENTRYPOINT ["monitor"]
CMD ["run"]
