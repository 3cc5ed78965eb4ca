"""Notifier: signs and delivers webhooks with retries, dead letters and a delivery log."""
