"""Accounts: the people who use the system and their roles."""
