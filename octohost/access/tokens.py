"""Comparing a secret a client sent with the one we hold, in constant time and for any text.

``hmac.compare_digest`` refuses str arguments with non-ASCII characters (TypeError), and a header,
cookie or query parameter may carry any byte. Comparing the UTF-8 bytes instead makes such a value
what it is: a wrong credential.
"""

import hmac


def same_secret(given, expected) -> bool:
    """True if ``given`` (whatever a client sent, possibly None) equals the secret ``expected``."""
    if not isinstance(given, str) or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
