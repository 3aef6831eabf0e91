"""What every simulated venue shares: the server base, the synthetic market and its clock, the
matching engine and accounts, the trading REST and WebSocket machinery."""
