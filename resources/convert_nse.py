"""Build the shipped demo universe and daily history from ../shared/data/market/nse.

    .venv/bin/python resources/convert_nse.py [--source ../shared/data/market/nse]

Writes resources/universe/listings.csv, resources/history/nse_daily.csv.gz and
resources/history/corporate_actions.csv (see resources/README.md for what each holds).
Deterministic: the same source gives byte-identical output (gzip without a timestamp).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import statistics
import sys
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

from exchange_server.marketdata.corporate_actions import (
    CorporateAction,
    DailyBar,
    adjust,
    detect,
    save,
)

RESOURCES = Path(__file__).resolve().parent
YAHOO_FROM = date(2020, 1, 1)  # where the adjusted Yahoo series takes over from daily_raw

# Splits and bonus issues inside daily_raw (2017-01 .. 2022-02), each one found by
# ``detect`` in the raw prices (the evidence column) and confirmed as a real action. Gaps
# ``detect`` also reports but which are not share-count changes are left out on purpose:
# the March 2020 crash days, ITC 2017-07-18 (cess hike), GRASIM 2017-07-19 (the Aditya
# Birla Capital demerger: value leaves the company, the share count does not change).
KNOWN_ACTIONS: dict[tuple[str, str], str] = {
    ("BPCL", "2017-07-13"): "bonus",  # 1:2
    ("BRITANNIA", "2018-11-29"): "split",  # face value 2 -> 1
    ("EICHERMOT", "2020-08-24"): "split",  # face value 10 -> 1
    ("HCLTECH", "2019-12-05"): "bonus",  # 1:1
    ("HDFCBANK", "2019-09-19"): "split",  # face value 2 -> 1
    ("ICICIBANK", "2017-06-20"): "bonus",  # 1:10
    ("INFY", "2018-09-04"): "bonus",  # 1:1
    ("IOC", "2018-03-15"): "bonus",  # 1:1
    ("JSWSTEEL", "2017-01-04"): "split",  # face value 10 -> 1
    ("LT", "2017-07-13"): "bonus",  # 1:2
    ("M&M", "2017-12-21"): "bonus",  # 1:1
    ("NTPC", "2019-03-19"): "bonus",  # 1:5
    ("POWERGRID", "2021-07-29"): "bonus",  # 1:3
    ("RELIANCE", "2017-09-07"): "bonus",  # 1:1
    ("TCS", "2018-05-31"): "bonus",  # 1:1
    ("UPL", "2019-07-02"): "bonus",  # 1:2
    ("WIPRO", "2017-06-13"): "bonus",  # 1:1
    ("WIPRO", "2019-03-06"): "bonus",  # 1:3
}

# Constituents missing from every shared metadata list (ISIN as listed by NSE).
EXTRA_METADATA = {
    "DIVISLAB": ("Divi's Laboratories Ltd.", "Healthcare", "INE361B01024"),
}
# The 2021 list's sector names, mapped onto NSE's current industry names.
OLD_SECTORS = {
    "AUTOMOBILE": "Automobile and Auto Components",
    "CEMENT & CEMENT PRODUCTS": "Construction Materials",
    "CONSTRUCTION": "Construction",
    "CONSUMER GOODS": "Fast Moving Consumer Goods",
    "ENERGY": "Oil Gas & Consumable Fuels",
    "FERTILISERS & PESTICIDES": "Chemicals",
    "FINANCIAL SERVICES": "Financial Services",
    "IT": "Information Technology",
    "METALS": "Metals & Mining",
    "PHARMA": "Healthcare",
    "SERVICES": "Services",
    "TELECOM": "Telecommunication",
}

# Instruments with no shared data: prices are illustrative levels (INR, late 2025), not
# market facts. symbol, name, class, exchange, sector, price dec, qty dec, tick, lot, band
# ppm, last close (price units), session.
OTHER_LISTINGS = (
    ("BTC-INR", "Bitcoin / Indian Rupee", "crypto", "CRYPTO", "Crypto", 0, 4, 1, 1, 200_000,
     8_000_000, "24x7"),
    ("ETH-INR", "Ether / Indian Rupee", "crypto", "CRYPTO", "Crypto", 1, 3, 1, 1, 200_000,
     3_000_000, "24x7"),
    ("SOL-INR", "Solana / Indian Rupee", "crypto", "CRYPTO", "Crypto", 2, 2, 1, 1, 200_000,
     1_500_000, "24x7"),
    ("GOLD", "Gold (INR per 10 g)", "commodity", "MCX", "Precious Metals", 0, 0, 1, 1, 60_000,
     130_000, "NSE"),
    ("SILVER", "Silver (INR per kg)", "commodity", "MCX", "Precious Metals", 0, 0, 1, 1, 60_000,
     160_000, "NSE"),
    ("CRUDEOIL", "Crude Oil (INR per barrel)", "commodity", "MCX", "Energy", 0, 0, 1, 1,
     100_000, 5_500, "NSE"),
)  # fmt: skip

LISTING_FIELDS = (
    "symbol",
    "name",
    "asset_class",
    "exchange",
    "currency",
    "sector",
    "isin",
    "price_decimals",
    "quantity_decimals",
    "tick_size",
    "lot_size",
    "band_ppm",
    "last_close",
    "last_close_date",
    "session",
    "source",
)
HISTORY_FIELDS = ("symbol", "date", "open", "high", "low", "close", "volume", "trades")


def paise(text: str) -> int:
    """A rupee amount (any number of decimals) as integer paise, half to even."""
    return int((Decimal(text) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def read_raw(path: Path) -> list[DailyBar]:
    bars = []
    with path.open(newline="") as stream:
        for row in csv.reader(stream):
            day = datetime.strptime(row[0], "%d%m%y").date()
            o, h, low, c = (paise(v) for v in row[1:5])
            bars.append(DailyBar(day, o, h, low, c, int(row[6]), int(row[7])))
    return sorted(bars, key=lambda bar: bar.day)


def read_yahoo(path: Path) -> list[DailyBar]:
    """Yahoo daily (Date,Adj Close,Close,High,Low,Open,Volume): the split-adjusted Close."""
    bars = []
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            if int(row["Volume"]) == 0:  # placeholder rows on holidays
                continue
            day = date.fromisoformat(row["Date"])
            o, h, low, c = (paise(row[k]) for k in ("Open", "High", "Low", "Close"))
            bars.append(DailyBar(day, o, max(h, o, c), min(low, o, c), c, int(row["Volume"])))
    return bars


def scale(bars: Iterable[DailyBar], factor: Fraction) -> list[DailyBar]:
    """Prices times ``factor``, volumes divided by it (a later split's adjustment)."""
    if factor == 1:
        return list(bars)
    return [
        DailyBar(
            b.day,
            round(b.open * factor),
            round(b.high * factor),
            round(b.low * factor),
            round(b.close * factor),
            round(b.volume / factor),
            b.trades,
        )
        for b in bars
    ]


def later_factor(symbol: str, raw: list[DailyBar], yahoo: list[DailyBar]) -> Fraction:
    """The adjustment Yahoo applies for actions after daily_raw ends, from the overlap.

    Both series cover 2020-01 .. 2022-02; their close ratio is one constant (say 1/2 for
    RELIANCE's 2024 bonus) when the raw series was adjusted right. A ratio that wanders
    means an action in the overlap is missing from KNOWN_ACTIONS: fail loudly.
    """
    closes = {bar.day: bar.close for bar in yahoo}
    ratios = [closes[b.day] / b.close for b in raw if b.day in closes and b.close]
    middle = statistics.median(ratios)
    factor = Fraction(middle).limit_denominator(20)
    if abs(float(factor) / middle - 1) > 1e-5:
        # Not a split ratio: Yahoo also scales for demergers (ITC Hotels, 2025). Keep the
        # factor to six decimals, which is well inside a paisa on these prices.
        factor = Fraction(Decimal(middle).quantize(Decimal("0.000001")))
    off = [r for r in ratios if abs(r / float(factor) - 1) > 0.01]
    if len(off) > len(ratios) // 50:
        raise SystemExit(f"{symbol}: Yahoo/raw ratio not constant ({len(off)} days off)")
    return factor


def read_metadata(source: Path) -> dict[str, tuple[str, str, str]]:
    """symbol -> (name, sector, ISIN), newest list first."""
    found: dict[str, tuple[str, str, str]] = {}
    folder = source / "metadata"
    for name in (
        "ind_nifty50list_asof-2026-06-21.csv",
        "ind_nifty50list_asof-2025-06-06.csv",
        "stock_metadata_kaggle-nifty50-2000-2021.csv",
    ):
        with (folder / name).open(newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                sector = OLD_SECTORS.get(row["Industry"], row["Industry"])
                found.setdefault(row["Symbol"], (row["Company Name"], sector, row["ISIN Code"]))
    found.update(EXTRA_METADATA)
    return found


def read_index(source: Path) -> list[DailyBar]:
    """NIFTY 50: NSE's own file to 2022-12-30, then Yahoo; index volume is left at 0."""
    bars: dict[date, DailyBar] = {}
    folder = source / "index"
    with (folder / "NIFTY50_2012-01-02_2022-12-30_niftyindex.csv").open(newline="") as stream:
        for row in csv.DictReader(stream):
            day = datetime.strptime(row[""], "%d/%m/%Y").date()
            o, h, low, c = (paise(row[k]) for k in ("Open", "High", "Low", "Close"))
            bars[day] = DailyBar(day, o, h, low, c, 0)
    with (folder / "NSEI_NIFTY50_2016-04-11_2026-04-10_yfinance.csv").open(newline="") as stream:
        rows = list(csv.reader(stream))[3:]  # three header rows
        for row in rows:
            day = date.fromisoformat(row[0])
            if day in bars:
                continue
            c, h, low, o = (paise(v) for v in row[1:5])
            bars[day] = DailyBar(day, o, max(h, o, c), min(low, o, c), c, 0)
    return [bars[day] for day in sorted(bars)]


def on_tick(price: int, tick: int) -> int:
    return max(tick, (price + tick // 2) // tick * tick)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--source", type=Path, default=RESOURCES.parent.parent / "shared/data/market/nse"
    )
    args = parser.parse_args()
    source: Path = args.source
    metadata = read_metadata(source)

    actions: list[CorporateAction] = []
    history: dict[str, list[DailyBar]] = {}
    for path in sorted((source / "daily_raw").glob("*.csv")):
        symbol = path.stem
        raw = read_raw(path)
        detected = {a.ex_date.isoformat(): a for a in detect(symbol, raw, min_gap=0.08)}
        mine = []
        for (known_symbol, ex_date), kind in KNOWN_ACTIONS.items():
            if known_symbol != symbol:
                continue
            if ex_date not in detected:
                raise SystemExit(f"{symbol} {ex_date}: listed action not found in the prices")
            found = detected[ex_date]
            mine.append(
                CorporateAction(symbol, found.ex_date, kind, found.new, found.old, found.evidence)
            )
        actions += mine
        adjusted = adjust(raw, mine)
        yahoo_path = source / "daily" / path.name
        if yahoo_path.exists():
            yahoo = read_yahoo(yahoo_path)
            factor = later_factor(symbol, adjusted, yahoo)
            if factor != 1:
                print(f"{symbol}: later actions scale history by {factor}", file=sys.stderr)
            early = [b for b in scale(adjusted, factor) if b.day < YAHOO_FROM]
            history[symbol] = early + [b for b in yahoo if b.day >= YAHOO_FROM]
        else:
            history[symbol] = adjusted
    history["NIFTY50"] = read_index(source)

    (RESOURCES / "history").mkdir(exist_ok=True)
    (RESOURCES / "universe").mkdir(exist_ok=True)
    save(RESOURCES / "history" / "corporate_actions.csv", actions)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HISTORY_FIELDS)
    for symbol in sorted(history):
        for b in history[symbol]:
            writer.writerow(
                [symbol, b.day.isoformat(), b.open, b.high, b.low, b.close, b.volume, b.trades]
            )
    # mtime=0: the same data gives the same bytes, so git sees no change on a rebuild.
    with (
        (RESOURCES / "history" / "nse_daily.csv.gz").open("wb") as raw_out,
        gzip.GzipFile(fileobj=raw_out, mode="wb", mtime=0, compresslevel=9) as out,
    ):
        out.write(text.getvalue().encode())

    with (RESOURCES / "universe" / "listings.csv").open("w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(LISTING_FIELDS)
        writer.writerow(
            [
                "NIFTY50", "NIFTY 50", "index", "NSE", "INR", "Index", "", 2, 0, 5, 1, 100_000,
                on_tick(history["NIFTY50"][-1].close, 5), history["NIFTY50"][-1].day, "NSE",
                "NSE/Yahoo index history",
            ]
        )  # fmt: skip
        for symbol in sorted(s for s in history if s != "NIFTY50"):
            name, sector, isin = metadata[symbol]
            last = history[symbol][-1]
            origin = "Yahoo daily" if (source / "daily" / f"{symbol}.csv").exists() else "NSE raw"
            writer.writerow(
                [
                    symbol, name, "equity", "NSE", "INR", sector, isin, 2, 0, 5, 1, 100_000,
                    on_tick(last.close, 5), last.day, "NSE", origin,
                ]
            )  # fmt: skip
        for (
            symbol,
            name,
            kind,
            exchange,
            sector,
            pd,
            qd,
            tick,
            lot,
            band,
            close,
            session,
        ) in OTHER_LISTINGS:
            writer.writerow(
                [
                    symbol, name, kind, exchange, "INR", sector, "", pd, qd, tick, lot, band,
                    close, "", session, "illustrative",
                ]
            )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
