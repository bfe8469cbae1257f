"""The custody wing: ballot boxes and packages, their labels, the phones that scan them,
and how each scan moves a box.

- rules.py: the custody rules as a pure state machine (no database); replay.py runs
  them over a log alone for `jejak verify`.
- scans.py (a signed scan and its check), ingest.py (taking scans in), work.py (judging
  and recording them under the log's lock), handoffs.py (truckloads), alerts.py,
  events.py, items.py, labels.py, devices.py, overdue.py, device_gaps.py and
  pickups.py (the timed rules, on timers.py), and the readers' reports, stats and
  EPCIS export. Escorts' pickups and deliveries are scans too: rules.py judges them,
  handoffs.py shows them with their truckload.
- manifests.py: a truckload's manifest as a pure function of its dispatch entries (its
  digest, its signature, the receiver's comparison); truckloads.py reads a truckload
  from the log for its manifest, berita acara, receipt and public page.

May import core/, log/, places/ and accounts/; never webhooks/ or api/."""
