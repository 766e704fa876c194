"""Back office: users and authentication (passwords, tokens, two-factor, API keys, mail)."""
