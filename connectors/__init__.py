"""What runs at the agency: read its records, pseudonymise, map to hub events, publish."""
