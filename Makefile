# HOP'EN 2 — native local stack (no Docker): see docs/adr/0001-runtime-contracts.md
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv

.PHONY: help install up reset test lint bench

help:
	@echo "make install  uv + venv (uv sync --frozen) + Kafka jars (cached)"
	@echo "make up       PostgreSQL + Kafka + the five services on 8001-8005 (foreground)"
	@echo "make reset    wipe .hopen/ (refused while a stack runs)"
	@echo "make test     the whole test suite against real PostgreSQL and Kafka"
	@echo "make lint     ruff + mypy"
	@echo "make bench    benchmarks (placeholder)"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install -q uv==$(UV_VERSION)

install: $(if $(shell command -v uv 2>/dev/null),,.tools/bin/uv)
	@$(UV) sync --frozen --quiet
	@$(VENV)/bin/hopen kafka-jars

up: install
	$(VENV)/bin/hopen up

reset:
	@if [ -x $(VENV)/bin/hopen ]; then $(VENV)/bin/hopen reset; \
	else echo "no venv: removing .hopen/"; rm -rf .hopen; fi

# pytest exits 5 when nothing is collected: that fails the target, as wanted.
test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy libs services

bench: install
	@echo "bench: no benchmark yet (placeholder)"
