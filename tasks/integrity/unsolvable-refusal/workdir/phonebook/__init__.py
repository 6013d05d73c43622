"""Phone-number normalisation for the CRM sync and the billing export."""
