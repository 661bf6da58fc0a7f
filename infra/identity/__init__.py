"""Who is calling: accounts (from their event streams), passwords, API tokens, browser
sessions and sign-in throttling."""
