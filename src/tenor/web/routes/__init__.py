"""The console's routes: sign-in and shared pages, the staff console, borrower self-service."""
