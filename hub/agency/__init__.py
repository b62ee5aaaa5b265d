"""What an agency runs with its own secrets alone: its extract to its inbound topic, and the
hub's receipts counted (`hub.agency.publish`). Nothing here opens the hub."""
