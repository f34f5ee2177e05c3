"""One module per agent command; each exposes a plain function doing the work."""

# What `iap requests --status` accepts (the request lifecycle of the control API).
REQUEST_STATUSES = ("pending", "approved", "denied", "expired", "abandoned", "cancelled")
