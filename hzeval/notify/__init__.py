"""督办 notices by mail and group robot (``hzeval notify``): :mod:`.notices` chooses what is due and
records what was sent, :mod:`.compose` writes the messages, :mod:`.channels` delivers them."""

from hzeval.notify.notices import (
    NotifyResult,
    Outcome,
    backoff,
    contact_gaps,
    contact_problems,
    notified_items,
    publish_notified,
    raise_for_failures,
    send_notices,
    summary_line,
)

__all__ = [
    "NotifyResult",
    "Outcome",
    "backoff",
    "contact_gaps",
    "contact_problems",
    "notified_items",
    "publish_notified",
    "raise_for_failures",
    "send_notices",
    "summary_line",
]
