# The service image: API and worker (docker-compose.yml runs both from it).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY domain domain
COPY contracts contracts
COPY db db
COPY activities activities
COPY workflows workflows
COPY api api
COPY console console
COPY cli cli
COPY observability observability
COPY webhooks webhooks
COPY worker.py settings.py ./
RUN pip install . && useradd --system oms
USER oms
EXPOSE 8000
CMD ["oms", "api"]
