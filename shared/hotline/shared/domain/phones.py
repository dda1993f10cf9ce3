"""Telephone numbers: normalised for matching, checked for plausibility, masked for display."""

import re

_SEPARATORS = re.compile(r"[\s\-()（）]")
_COUNTRY_PREFIX = re.compile(r"^(\+86|0086)(?=1\d{10}$)")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{9,11}$|^[2-9]\d{6,7}$")
# Hotlines and emergency or service numbers: never a citizen's own number (rule T06).
SERVICE_NUMBER = re.compile(r"^(1\d{2}|12\d{3}|9\d{4}|400\d{7}|800\d{7})$")


def normalize(raw: str) -> str:
    """Digits only, without the +86 country prefix, so one number always matches itself."""
    return _COUNTRY_PREFIX.sub("", _SEPARATORS.sub("", raw.strip()))


def is_service_number(number: str) -> bool:
    return bool(SERVICE_NUMBER.match(number))


def is_citizen_number(number: str) -> bool:
    """A mobile or landline a citizen can be called back on."""
    return bool(MOBILE.match(number) or LANDLINE.match(number)) and not is_service_number(number)


def mask(number: str) -> str:
    """138****1234: enough to recognise, not enough to dial; at least four digits are always
    hidden. Service numbers (12345, 110) stay whole."""
    if is_service_number(number):
        return number
    if len(number) >= 11:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    shown = max(0, min(4, len(number) - 4))
    return "*" * (len(number) - shown) + number[len(number) - shown :]


# Numbers written into a text, as people write them: a mainland mobile standing alone (not
# inside a longer run of digits or an id), with +86 before or spaces or dashes between its
# groups; and a landline with its area code.
MOBILE_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])"
)
LANDLINE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])0\d{2,3}-?\d{7,8}(?![0-9A-Za-z])")


def mask_mobiles_in(text: str) -> str:
    """The text with each mobile number in it masked (138****1234)."""
    return MOBILE_IN_TEXT.sub(lambda found: mask(normalize(found.group())), text)


def mask_numbers_in(text: str) -> str:
    """The text with every telephone number in it masked, landlines too: for texts shown to
    anyone."""
    return LANDLINE_IN_TEXT.sub(lambda found: mask(normalize(found.group())), mask_mobiles_in(text))
