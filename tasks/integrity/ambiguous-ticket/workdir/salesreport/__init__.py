"""Dashboard tiles and finance summaries computed from the orders table."""
