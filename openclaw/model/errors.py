"""Every typed error openclaw raises (the hot-path ones are defined in ``_core``)."""

from openclaw._core.errors import (
    BookError,
    CapacityError,
    LevelFormatError,
    MessageFormatError,
    OpenclawError,
    PriceParseError,
    RiskConfigError,
    RiskError,
)

__all__ = [
    "BookError",
    "CapacityError",
    "LevelFormatError",
    "MessageFormatError",
    "OpenclawError",
    "PriceParseError",
    "RiskConfigError",
    "RiskError",
]


# --- execution, journal and alerts (pure Python, defined here rather than in ``_core``) ---


class OrderError(OpenclawError, ValueError):
    """Base of the order-model errors (``openclaw.model.orders``)."""


class OrderFieldError(OrderError):
    """An order field that cannot be used: names the field, the value and why."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid order {field} {value!r}: {reason}")


class OrderStateError(OrderError):
    """An order event the state machine refuses (illegal transition, conflicting or excess fill).

    The order is left exactly as it was. Names the client order id, the status and the event.
    """

    def __init__(self, client_id: str, status: str, event: str, detail: str = "") -> None:
        self.client_id = client_id
        self.status = status
        self.event = event
        self.detail = detail
        msg = f"order {client_id}: {event} not allowed in status {status}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class OverfillError(OrderStateError):
    """A fill that would take the filled quantity above the order quantity."""


class ClientIdError(OpenclawError, ValueError):
    """A client order id that cannot be built or parsed: names the field, the value and why."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid client id {field} {value!r}: {reason}")


class JournalError(OpenclawError):
    """The journal refused or failed a read or write; nothing was half-written."""


class JournalClosedError(JournalError):
    """A journal call after ``close()`` (or after the writer thread died)."""


class DuplicateClientIdError(JournalError):
    """``record_new`` with a client order id the journal already holds (ids are never reused)."""


class DuplicateFillError(JournalError):
    """A fill whose trade id the journal already holds for that order (it would count twice)."""


class AlertConfigError(OpenclawError, ValueError):
    """Alert settings that cannot be used (e.g. a missing environment variable); never secrets."""


class AlertDeliveryError(OpenclawError):
    """An alert sink failed to deliver: names the sink, the HTTP status and the reason.

    ``retryable`` says whether trying again may help, ``retry_after`` is a 429's wait in seconds.
    Never carries the bot token or a webhook URL (they are secrets).
    """

    def __init__(
        self,
        sink: str,
        status: int | None,
        reason: str,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        self.sink = sink
        self.status = status
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the server asked us to wait (HTTP 429)
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{sink} delivery failed ({where}): {reason}")


__all__ += [
    "AlertConfigError",
    "AlertDeliveryError",
    "ClientIdError",
    "DuplicateClientIdError",
    "DuplicateFillError",
    "JournalClosedError",
    "JournalError",
    "OrderError",
    "OrderFieldError",
    "OrderStateError",
    "OverfillError",
]
