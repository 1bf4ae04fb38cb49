# One image per service, built from the same recipe: docker build --build-arg SERVICE=financement ...
# Same install as the native stack (uv, frozen lock), same process (uvicorn factory), same
# settings (<SERVICE>_* environment variables): see docs/adr/0001-runtime-contracts.md.
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
ARG SERVICE
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The workspace needs every member's pyproject to resolve the lock; only SERVICE is installed.
COPY pyproject.toml uv.lock ./
COPY libs/common libs/common
COPY services services
# Editable like the native stack: a service reads its data/ and migrations/ next to its code.
RUN uv sync --frozen --no-dev --package hopen-${SERVICE}

FROM python:3.11-slim
ARG SERVICE
ENV SERVICE=${SERVICE} PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 hopen
COPY --from=build /app/.venv /app/.venv
COPY --from=build /src /src
WORKDIR /src/services/${SERVICE}
USER hopen
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=12 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/ready').status != 200)"
# Migrate, then serve; the referentiel's compose command also loads the demo data.
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn hopen_${SERVICE}.main:create_app --factory --host 0.0.0.0 --port 8000"]
