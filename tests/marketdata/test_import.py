"""`exchange-server import-bars`: common layouts, time zones, every kind of bad row,
all-or-nothing writes and idempotent re-import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from exchange_server.cli import main
from exchange_server.marketdata.candles import NS_PER_SECOND, CandleBar
from exchange_server.marketdata.history import HistoryStore
from exchange_server.marketdata.importer import (
    ImportFailed,
    ParseOptions,
    Scales,
    import_file,
    parse_file,
)

IST = ZoneInfo("Asia/Kolkata")


def ns(text: str, zone: ZoneInfo = IST) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()) * NS_PER_SECOND


def write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def parse(path: Path, **options: object) -> dict[str, list[CandleBar]]:
    return parse_file(path, ParseOptions(**options)).bars  # type: ignore[arg-type]


def test_yahoo_daily_with_adj_close_and_a_holiday_placeholder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Date,Adj Close,Close,High,Low,Open,Volume\n"
        "2026-04-23,1343.40,1343.40,1355.50,1340.70,1346.00,16385079\n"
        "2026-04-24,1327.80,1327.80,1345.90,1325.00,1340.00,11744802\n"
        "2026-04-25,1327.80,1327.80,1327.80,1327.80,1327.80,0\n",
    )
    report = parse_file(path, ParseOptions(symbol="reliance"))
    assert report.interval == "1d" and report.skipped == 1
    assert report.bars["RELIANCE"] == [
        CandleBar(ns("2026-04-23 00:00"), 134600, 135550, 134070, 134340, 16385079, 0),
        CandleBar(ns("2026-04-24 00:00"), 134000, 134590, 132500, 132780, 11744802, 0),
    ]


def test_nse_raw_without_header(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '"060917","1640.00","1650.00","1630.10","1645.40","1.0","1000","50"\n'
        '"070917","823.00","830.00","815.00","818.10","1.0","3000","90"\n',
    )
    bars = parse(path, symbol="RELIANCE")["RELIANCE"]
    assert bars[1] == CandleBar(ns("2017-09-07 00:00"), 82300, 83000, 81500, 81810, 3000, 90)


def test_one_minute_bars_with_date_time_and_symbol_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Symbol,Date,Time,Open,High,Low,Close,Volume\n"
        "SBIN,2017-09-26,09:16:00,258.40,258.50,257.40,257.60,107820.0\n"
        "SBIN,2017-09-26,09:17:00,257.50,257.50,256.80,257.10,121262.0\n"
        "ONGC,2017-09-26,09:16:00,170.00,170.50,169.80,170.10,5000\n",
    )
    report = parse_file(path, ParseOptions())
    assert report.interval == "1m"
    assert report.bars["SBIN"][0] == CandleBar(
        ns("2017-09-26 09:16"), 25840, 25850, 25740, 25760, 107820, 0
    )
    assert set(report.bars) == {"SBIN", "ONGC"}


def test_times_with_offsets_epochs_and_an_explicit_zone_agree(tmp_path: Path) -> None:
    expected = ns("2025-09-04 09:15")
    for cell in ("2025-09-04 03:45:00+00:00", "2025-09-04T03:45:00Z", "1756957500"):
        path = write(tmp_path, f"time,open,high,low,close\n{cell},1,2,1,2\n")
        assert parse(path, symbol="X", interval="1m")["X"][0].start == expected, cell
    # A naive time is read in --tz when given, else in the exchange's zone.
    path = write(tmp_path, "time,open,high,low,close\n2025-09-04 03:45,1,2,1,2\n")
    assert parse(path, symbol="X", interval="1m", timezone="UTC")["X"][0].start == expected
    utc_market = ParseOptions(symbol="X", interval="1m", scales=lambda s: Scales(timezone="UTC"))
    assert parse_file(path, utc_market).bars["X"][0].start == expected


def test_yfinance_three_header_rows_and_day_first_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Price,Close,High,Low,Open,Volume\nTicker,^NSEI,^NSEI,^NSEI,^NSEI,^NSEI\nDate,,,,,\n"
        "2026-04-10,24050.60,24074.05,23850.10,23900.55,0\n",
    )
    assert parse(path, symbol="NIFTY50")["NIFTY50"][0].close == 2405060
    path = write(
        tmp_path, ",Open,High,Low,Close,Volume\n02/01/2012,4640.20,4645.95,4588.05,4636.75,1\n"
    )
    assert parse(path, symbol="NIFTY50")["NIFTY50"][0].start == ns("2012-01-02 00:00")
    path = write(tmp_path, "Date,Open,High,Low,Close\n12/31/2018,1,2,1,2\n01/02/2019,1,2,1,2\n")
    assert parse(path, symbol="SPY")["SPY"][1].start == ns("2019-01-02 00:00")


BAD_ROWS = [
    ("2026-04-24,10,9,11,10,5", "high 9 is below low 11"),
    ("2026-04-24,-10,12,-11,10,5", "prices must be positive"),
    ("2026-04-24,10,12,9,13,5", "open and close must lie between low and high"),
    ("2026-04-24,10,12,9,11,-5", "must not be negative"),
    ("2026-04-24,10.001,12,9,11,5", "more than 2 decimals"),
    ("2026-04-24,ten,12,9,11,5", "not a number"),
    ("2026-13-45,10,12,9,11,5", "unreadable time"),
    ("2026-04-24,10,12,9", "expected 6 fields"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_line_number(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, f"date,open,high,low,close,volume\n2026-04-23,10,12,9,11,5\n{row}\n")
    with pytest.raises(ImportFailed) as failure:
        parse(path, symbol="X")
    assert [(p.line, message in p.message) for p in failure.value.problems] == [(3, True)]


def test_duplicate_timestamps_name_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "date,open,high,low,close\n2026-04-23,10,12,9,11\n2026-04-24,10,12,9,11\n"
        "2026-04-24,10,12,9,11\n",
    )
    with pytest.raises(ImportFailed, match="line 4: duplicate time: same candle as line 3"):
        parse(path, symbol="X")


def test_rounding_is_only_on_request(tmp_path: Path) -> None:
    path = write(tmp_path, "date,open,high,low,close\n2026-04-24,693.978515625,700,690,695\n")
    assert parse(path, symbol="X", rounding=True)["X"][0].open == 69398


def test_a_bad_file_changes_nothing_and_reimport_is_idempotent(
    tmp_path: Path, engine: Engine
) -> None:
    store = HistoryStore(engine)
    good = write(tmp_path, "date,open,high,low,close,volume\n2026-04-23,10,12,9,11,5\n"
                 "2026-04-24,11,13,10,12,6\n")  # fmt: skip
    first = import_file(store, good, ParseOptions(symbol="SBIN"))
    assert (first.new, first.replaced, first.unchanged) == (2, 0, 0)
    stored = store.bars("SBIN", "1d")
    again = import_file(store, good, ParseOptions(symbol="SBIN"))
    assert (again.new, again.replaced, again.unchanged) == (0, 0, 2)
    assert store.bars("SBIN", "1d") == stored
    assert set(store.sources("SBIN", "1d").values()) == {"import"}
    bad = write(tmp_path, "date,open,high,low,close,volume\n2026-04-24,99,99,99,99,1\n"
                "2026-04-25,10,9,11,10,5\n", "bad.csv")  # fmt: skip
    with pytest.raises(ImportFailed):
        import_file(store, bad, ParseOptions(symbol="SBIN"))
    assert store.bars("SBIN", "1d") == stored  # the good row of the bad file is not stored


def test_the_command_reports_and_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'exchange.db'}"
    good = write(
        tmp_path, "date,open,high,low,close,volume\n2026-04-24,1340,1345.9,1325,1327.8,9\n"
    )
    assert main(["--database", database, "import-bars", str(good), "--symbol", "RELIANCE"]) == 0
    out = capsys.readouterr()
    assert "RELIANCE: 1 1d candles" in out.out and "1 new" in out.out
    assert "100%" in out.err  # the progress line
    assert main(["--database", database, "import-bars", str(good), "--symbol", "RELIANCE"]) == 0
    assert "0 new, 0 replaced, 1 unchanged" in capsys.readouterr().out
    bad = write(tmp_path, "date,open,high,low,close\n2026-04-24,10,9,11,10\n", "bad.csv")
    assert main(["--database", database, "import-bars", str(bad), "--symbol", "X"]) == 1
    assert "line 2: high 9 is below low 11" in capsys.readouterr().err
    assert (tmp_path / "exchange-marketdata.db").exists()
