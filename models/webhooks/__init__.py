"""The webhooks wing: subscriptions, their destinations and the deliveries of events to
integrators. Imports core/, accounts/, places/, the log wing (entries and their leaf
hashes, which deliveries carry) and custody/'s event and alert rows."""
