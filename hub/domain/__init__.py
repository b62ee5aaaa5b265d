"""Pure aggregates and their events: no I/O, no clock; every time arrives with its command."""
