"""Plain Python building blocks, no Flask: crypto, API-key tokens, ids, passwords, throttle."""
