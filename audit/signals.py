"""Signals of the audit app. ``events_delivered`` is sent after delivery commits, with the IDs of the accounts
whose delivered events include a write or a failed call (a successful read changes nothing); the classroom
refreshes lab progress on it (audit does not know about labs)."""

from django.dispatch import Signal

events_delivered = Signal()  # sender: the delivery module; kwargs: account_ids (set[str])
