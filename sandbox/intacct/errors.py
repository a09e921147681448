"""Intacct's `errormessage/error[errorno, description, description2, correction]` bodies, and their exception.

Every error has a non-empty `description2`: the official Python SDK reads it unconditionally when it decodes the
Support ID, so an empty one would crash the client rather than surface the error.
"""

from dataclasses import dataclass

from sandbox.intacct.constants import ERR_BUSINESS, ERR_DUPLICATE, ERR_QUERY, ERR_ROLLED_BACK, ROLLED_BACK_TEXT


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    errorno: str
    description2: str
    description: str = ""
    correction: str = ""


class IntacctError(Exception):
    """A refusal: the errors to print and, for functions, whether the function counts as a failure."""

    def __init__(self, *errors: ErrorDetail) -> None:
        super().__init__("; ".join(error.description2 for error in errors))
        self.errors: tuple[ErrorDetail, ...] = errors


def business(description2: str, correction: str = "") -> ErrorDetail:
    return ErrorDetail(ERR_BUSINESS, description2, correction=correction)


def could_not_create(object_name: str, *causes: ErrorDetail) -> IntacctError:
    """A failed create: the causes, then the `Could not create … record!` trailer the real service appends."""
    return IntacctError(*causes, business(f"Could not create {object_name} record!"))


def invalid_reference(label: str, value: str) -> ErrorDetail:
    """The wording the real service uses per dimension (as seen in integrators' error parsers)."""
    wording = {
        "Vendor": f"Invalid Vendor '{value}' specified.",
        "Account": f"Account {value} is not valid",
        "Department": f"Department {value} is not valid",
        "Location": f"Location '{value}' is not valid",
        "Project": f"Invalid Project '{value}' specified.",
        "Customer": f"Customer '{value}' specified is not valid.",
        "Employee": f"The employee '{value}' is invalid.",
        "Item": f"Item ID '{value}' is not valid",
    }
    return business(wording.get(label, f"Invalid {label} '{value}' specified."), f"Use a valid {label.lower()}.")


def inactive_reference(label: str, value: str) -> ErrorDetail:
    if label == "Vendor":
        return business(f"The vendor '{value}' is inactive.", f"Activate the vendor {value}, then try again.")
    return business(f"{label} '{value}' is inactive.", f"Activate the {label.lower()} {value}, then try again.")


def missing_field(field: str, object_name: str) -> ErrorDetail:
    return business(f"Required field {field} is missing", f"Provide {field} for the {object_name}.")


def not_a_number(field: str, value: str) -> ErrorDetail:
    return business(f"{field} '{value}' is not a valid number.", "Send amounts as decimal strings, e.g. 125.40.")


def not_a_date(field: str, value: str) -> ErrorDetail:
    return business(f"{field} '{value}' is not a valid date.", "Use the format mm/dd/yyyy.")


def duplicate(label: str, value: str) -> ErrorDetail:
    return ErrorDetail(
        ERR_DUPLICATE,
        f"Another {label} with the given value(s) {value} already exists",
        correction="Use a unique value instead.",
    )


def query_failed(description2: str) -> IntacctError:
    return IntacctError(ErrorDetail(ERR_QUERY, description2))


def rolled_back() -> ErrorDetail:
    return ErrorDetail(ERR_ROLLED_BACK, ROLLED_BACK_TEXT)
