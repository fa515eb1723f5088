"""Errors shared by the emulator's backend (raises them) and protocol layer (renders them)."""


class ApiError(Exception):
    """An API error as the cloud reports it: HTTP status, error code and message."""

    def __init__(self, status, code, message):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status = int(status)
        self.code = code
        self.message = message


def missing_parameter(name):
    return ApiError(400, "MissingParameter",
                    'The input parameter "%s" that is mandatory for processing this request is not supplied.' % name)


def invalid_parameter(name, detail=None):
    msg = 'The specified parameter "%s" is not valid.' % name
    if detail:
        msg += " " + detail
    return ApiError(400, "InvalidParameter", msg)
