"""The protocol's names and error codes, as the server imports them (see docs/protocol.md).

They are declared once in the stdlib-only `panggil_protocol` package, which the display and the
counter client install without Flask; this module only re-exports them.
"""

from panggil_protocol import *  # noqa: F403
