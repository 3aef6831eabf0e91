"""The Binance simulator: ``server`` (WebSocket depth, REST, control API), ``rest`` (trading
REST), ``wsapi`` (trading WebSocket)."""
