"""Messages and transports: SMTP mail (`smtp`), Apprise alerts (`apprise`) and the routing of
a finished run to them (`policy`). Knows nothing of Prefect, translators or the adapter.

Submodules are not imported here, so `flowport.notifiers.smtp` stays free of Apprise's
import cost.
"""
