# Real servers for the tests (Kafka, Elasticsearch, OpenSearch on 127.0.0.1);
# the main Makefile includes this fragment. See docs/testing.md.
#
#   make testenv-up                              all three (a no-op if they run)
#   make testenv-up TESTENV=kafka,elasticsearch  only those
#   make testenv-up KAFKA_BROKERS=3              a three-broker Kafka cluster
#   make testenv-up TESTENV=kafka-faults         only the fault tests' own 3-node cluster
#   make testenv-up ES_NODES=2                   also es-faults, the fault tests' 2-node Elasticsearch
#   make testenv-status
#   make testenv-down                            stop them all, remove their data
#
# Addresses land in .testenv/env, which the Go helpers in sdk/sdktest/testenv read.

TESTENV_SH := $(dir $(lastword $(MAKEFILE_LIST)))testenv.sh
# Empty means "the script's default": every server (kafka-faults too), one broker.
TESTENV ?=
KAFKA_BROKERS ?=
ES_NODES ?=

.PHONY: testenv-up testenv-down testenv-status

testenv-up:
	@TESTENV="$(TESTENV)" KAFKA_BROKERS="$(KAFKA_BROKERS)" ES_NODES="$(ES_NODES)" bash $(TESTENV_SH) up

testenv-down:
	@bash $(TESTENV_SH) down

testenv-status:
	@bash $(TESTENV_SH) status
