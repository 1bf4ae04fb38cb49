# HOP'EN 2 — native local stack (no Docker): see docs/adr/0001-runtime-contracts.md
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
# The pinned uv of the project, whatever else the machine has: the lock is read the same way.
UV := .tools/bin/uv
VENV := .venv

.PHONY: help install up reset test lint bench

help:
	@echo "make install  uv + venv (uv sync --frozen) + Kafka jars + SeaweedFS weed + oidc-provider (cached)"
	@echo "make up       PostgreSQL + Kafka + the five services on 8001-8005 (foreground)"
	@echo "make reset    wipe .hopen/ (refused while a stack runs)"
	@echo "make test     the whole test suite against real PostgreSQL and Kafka"
	@echo "make lint     ruff + mypy"
	@echo "make bench    the benchmarks of bench/ (figures in the README)"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install -q uv==$(UV_VERSION)

install: $(UV)
	@$(UV) sync --frozen --quiet
	@$(VENV)/bin/hopen kafka-jars
	@$(VENV)/bin/hopen seaweedfs-bin
	@$(VENV)/bin/hopen oidc-install

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
	$(VENV)/bin/mypy libs/common/src $(wildcard services/*/src)

bench: install
	$(VENV)/bin/python bench/latence_amorcage.py --decisions 100
