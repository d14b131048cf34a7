"""Reports: the audit trail for other tools (CSV, XLSX, OCSF, syslog)."""
