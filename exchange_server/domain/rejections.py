"""Machine-readable reasons for refusing a command, each with a human message."""

from enum import StrEnum


class Reject(StrEnum):
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    INSTRUMENT_EXISTS = "instrument_exists"
    INSTRUMENT_NOT_TRADABLE = "instrument_not_tradable"
    INVALID_INSTRUMENT = "invalid_instrument"
    INSTRUMENT_HALTED = "instrument_halted"
    INSTRUMENT_CANCEL_ONLY = "instrument_cancel_only"
    INSTRUMENT_POST_ONLY = "instrument_post_only"
    UNKNOWN_ACCOUNT = "unknown_account"
    ACCOUNT_EXISTS = "account_exists"
    INVALID_QUANTITY = "invalid_quantity"
    LOT_SIZE = "lot_size"
    INVALID_PRICE = "invalid_price"
    TICK_SIZE = "tick_size"
    PRICE_OUTSIDE_BAND = "price_outside_band"
    MAX_ORDER_QUANTITY = "max_order_quantity"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INSUFFICIENT_HOLDINGS = "insufficient_holdings"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    INVALID_TIME_IN_FORCE = "invalid_time_in_force"
    INVALID_EXPIRY = "invalid_expiry"
    INVALID_TRIGGER = "invalid_trigger"
    TRIGGER_ALREADY_CROSSED = "trigger_already_crossed"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    INVALID_CLIENT_ORDER_ID = "invalid_client_order_id"
    UNKNOWN_ORDER = "unknown_order"
    NOT_ORDER_OWNER = "not_order_owner"
    ORDER_NOT_OPEN = "order_not_open"
    MODIFY_NO_CHANGE = "modify_no_change"
    MODIFY_BELOW_FILLED = "modify_below_filled"
    INVALID_AMOUNT = "invalid_amount"
    UNKNOWN_ASSET = "unknown_asset"
    INVALID_FEES = "invalid_fees"
    INVALID_REFERENCE_PRICE = "invalid_reference_price"
    UNKNOWN_COMMAND = "unknown_command"
    INVALID_STATUS = "invalid_status"
    INVALID_SIDE = "invalid_side"
    INVALID_ORDER_TYPE = "invalid_order_type"
    INVALID_SELF_TRADE_PREVENTION = "invalid_self_trade_prevention"


MESSAGES: dict[Reject, str] = {
    Reject.UNKNOWN_INSTRUMENT: "No instrument with this symbol is listed",
    Reject.INSTRUMENT_EXISTS: "An instrument with this symbol is already listed",
    Reject.INSTRUMENT_NOT_TRADABLE: "This instrument cannot be traded (an index)",
    Reject.INVALID_INSTRUMENT: "The instrument definition is invalid",
    Reject.INSTRUMENT_HALTED: "Trading in this instrument is halted",
    Reject.INSTRUMENT_CANCEL_ONLY: "This instrument accepts cancellations only",
    Reject.INSTRUMENT_POST_ONLY: "This instrument accepts only orders that rest without matching",
    Reject.UNKNOWN_ACCOUNT: "No such account",
    Reject.ACCOUNT_EXISTS: "An account with this id already exists",
    Reject.INVALID_QUANTITY: "Quantity must be a positive whole number of quantity units",
    Reject.LOT_SIZE: "Quantity must be a multiple of the lot size",
    Reject.INVALID_PRICE: "Price must be positive",
    Reject.TICK_SIZE: "Price must be a multiple of the tick size",
    Reject.PRICE_OUTSIDE_BAND: "Price is outside the instrument's price band",
    Reject.MAX_ORDER_QUANTITY: "Quantity exceeds the maximum order quantity",
    Reject.MAX_ORDER_NOTIONAL: "Order value exceeds the maximum order value",
    Reject.INSUFFICIENT_FUNDS: "Not enough available cash for this order",
    Reject.INSUFFICIENT_HOLDINGS: "Not enough available holdings to sell",
    Reject.POST_ONLY_WOULD_CROSS: "A post-only order would have matched on arrival",
    Reject.INVALID_TIME_IN_FORCE: "This time in force is not allowed for this order type",
    Reject.INVALID_EXPIRY: "A GTD order needs an expiry time in the future",
    Reject.INVALID_TRIGGER: "Trigger price is missing, not positive or off-tick",
    Reject.TRIGGER_ALREADY_CROSSED: "The last traded price has already crossed the trigger",
    Reject.DUPLICATE_CLIENT_ORDER_ID: "This client order id was used for a different order",
    Reject.INVALID_CLIENT_ORDER_ID: "Client order ids are 1 to 64 printable characters",
    Reject.UNKNOWN_ORDER: "No such order",
    Reject.NOT_ORDER_OWNER: "The order belongs to another account",
    Reject.ORDER_NOT_OPEN: "The order is no longer open",
    Reject.MODIFY_NO_CHANGE: "The modification changes nothing",
    Reject.MODIFY_BELOW_FILLED: "The new quantity is not above the quantity already filled",
    Reject.INVALID_AMOUNT: "Amount must be a positive number within limits",
    Reject.UNKNOWN_ASSET: "No such asset",
    Reject.INVALID_FEES: "Fee rates must be between 0 and 1,000,000 parts per million",
    Reject.INVALID_REFERENCE_PRICE: "Reference price must be positive and on tick",
    Reject.UNKNOWN_COMMAND: "The exchange does not know this command",
    Reject.INVALID_STATUS: "Unknown trading status",
    Reject.INVALID_SIDE: "Side must be buy or sell",
    Reject.INVALID_ORDER_TYPE: "Order type must be market, limit, stop_market or stop_limit",
    Reject.INVALID_SELF_TRADE_PREVENTION: "Unknown self-trade prevention mode",
}


class Rejected(Exception):
    """Raised inside the domain to refuse a command; the exchange turns it into an event."""

    def __init__(self, reason: Reject, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {MESSAGES[reason]}{' (' + detail + ')' if detail else ''}")

    @property
    def message(self) -> str:
        return MESSAGES[self.reason] + (f" ({self.detail})" if self.detail else "")
