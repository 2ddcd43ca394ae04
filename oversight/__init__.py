"""Oversight: KPIs per institution, department and month, the province view, and exports."""
