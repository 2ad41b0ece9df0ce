"""ShipBob (WMS): OAuth 2.0 with PKCE or a personal access token, fulfilment centres as warehouse locations,
inventory per fulfilment centre, shipments as outbound lines, Standard Webhooks."""
