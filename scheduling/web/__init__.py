"""Patient pages: find help, provider picker, booking, and the private manage link."""
