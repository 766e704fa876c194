"""Numpy analytics shared by the workstation's charts, alerts and the backtester.

Everything here is a pure function over float64 arrays (oldest first); positions without
enough history yet are NaN, so results line up index for index with their inputs.
"""

from exchange_server.analytics.indicators import (
    bollinger_bands,
    ema,
    heikin_ashi,
    macd,
    rsi,
    sma,
    vwap,
)

__all__ = ["bollinger_bands", "ema", "heikin_ashi", "macd", "rsi", "sma", "vwap"]
