"""The directory: regions, houses, tenants, volunteers and partners; import, export and call routing."""
