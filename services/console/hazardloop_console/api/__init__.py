"""The console's pages and sign-in routes: each reads a query or sends a command to its owning service, and renders the answer."""
