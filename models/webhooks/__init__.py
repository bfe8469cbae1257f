"""The webhooks wing: subscriptions, their destinations and the deliveries of events to
integrators. Imports core/, accounts/, places/ and custody/'s event rows."""
