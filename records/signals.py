"""Signals other apps listen to, so records never imports them.

``archive_collected`` (sender=Archive, archive=…) is sent after commit when a collection is
approved (R-COL-4): the CE app registers credits that were waiting for it (R-CE-12).
"""

from django.dispatch import Signal

archive_collected = Signal()
