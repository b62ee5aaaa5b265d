"""Access: the API's keys, their roles, and the access log."""
