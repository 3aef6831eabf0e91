"""The control API's typed errors; each maps to one HTTP status and a stable ``error`` code."""

from __future__ import annotations

from openclaw.model.errors import OpenclawError


class ControlError(OpenclawError):
    """Base of the control API's errors: ``code`` (stable, in JSON answers) and HTTP ``status``."""

    code = "control_error"
    status = 500

    def to_json(self) -> dict[str, object]:
        """The JSON body of the error answer (never a secret: messages are built from names)."""
        return {"ok": False, "error": self.code, "message": str(self)}


class TokenFileError(ControlError):
    """The token file cannot be used: names the path and why (never its content)."""

    code = "token_file"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"control token file {path}: {reason}")


class StateFileError(ControlError):
    """No running engine can be found from the state file (missing, unreadable, malformed)."""

    code = "state_file"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"control state file {path}: {reason}")


class BadRequest(ControlError):
    """A request field that cannot be used: names the field, the value and why."""

    code = "bad_request"
    status = 400

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class Unauthorized(ControlError):
    """A request without the bearer token or with a wrong one."""

    code = "unauthorized"
    status = 401


class ApprovalRequired(ControlError):
    """The operation needs a one-time code; one was just sent out of band to the operator."""

    code = "approval_required"
    status = 403

    def __init__(self, action: str, channel: str, ttl_s: float) -> None:
        self.action = action
        self.channel = channel
        self.ttl_s = ttl_s
        super().__init__(
            f"{action} needs the operator's approval: a one-time code was sent to {channel}; "
            f"the operator must type it back within {ttl_s:g} s (passed as the code). The "
            "agent cannot produce it and must not guess it.")

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "action": self.action, "channel": self.channel,
                "expires_in_s": self.ttl_s}


class ApprovalRefused(ControlError):
    """The code given is wrong, expired, already used or for another operation."""

    code = "approval_refused"
    status = 403

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"{action}: the approval code is wrong, expired or already used; "
                         "run the command again without a code to get a new one")


class NotAvailable(ControlError):
    """The operation cannot be done (fully) in this engine: names what is missing."""

    code = "not_available"
    status = 409

    def __init__(self, action: str, missing: str, done: dict[str, object] | None = None) -> None:
        self.action = action
        self.missing = missing
        self.done = done or {}
        super().__init__(f"{action}: {missing}")

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "action": self.action, "missing": self.missing,
                "done": self.done}


class EngineUnreachable(ControlError):
    """The state file names an engine that does not answer (stopped, or a stale file)."""

    code = "unreachable"
    status = 503

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"the engine at {url} does not answer: {reason}")
