"""Search records: requests to search an external system, their approval, and the outcome."""
