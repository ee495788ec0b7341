"""summarise: structured, grounded summaries of diplomatic news."""
