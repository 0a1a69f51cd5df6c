"""Text as readers see it: message catalogs, dates in their language, output hardening."""
