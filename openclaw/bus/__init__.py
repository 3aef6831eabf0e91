"""The bus: books, order intents and order events between processes on NATS (JetStream).

Services layer: ``codec`` (the binary book message), ``books`` (publisher and subscriber with the
local feed's states and counters), ``intents`` (strategy -> execution, exactly once by client
id), ``stream`` (order events and fills on a JetStream stream), ``server`` (the nats-server
binary and a local server). docs/bus.md has the subjects, layouts and guarantees.
"""
