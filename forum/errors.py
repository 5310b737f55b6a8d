"""Domain exceptions raised by services; views turn them into pages and status codes."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "", **fields: str) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields  # field name -> message, for form errors


class InvalidInput(DomainError):
    status = 400


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
