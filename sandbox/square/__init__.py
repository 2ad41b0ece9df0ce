"""Square stand-in (``{SANDBOX_URL}/square`` = ``https://connect.squareup.com``): OAuth, REST API, webhooks."""
