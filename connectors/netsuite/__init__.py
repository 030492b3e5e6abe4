"""NetSuite: customers and items over SuiteTalk REST; the ERP's view of legal entities and credit."""
