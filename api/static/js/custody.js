// What the custody rules (models/custody/rules.py) expect next of a box, seen from the site
// of the person scanning: the scan types to offer, the likeliest first, and the
// counterparty it names. Only a suggestion: the rules judge every scan again.

// The custodians scan handoffs at their own site; escorts attest the truckloads they
// guard (pickup, delivery: of a truckload whose manifest they read) and report incidents.
const CUSTODIANS = new Set(["kpu", "ppk", "pps", "kpps"]);

// KPU, PPK, PPS, TPS codes of the box's outbound route (models/places/codes.py route_to).
export function routeTo(tps) {
  return [tps.slice(0, 5), tps.slice(0, 8), tps.slice(0, 13), tps];
}

export function scanningSite(session) {
  return session.role === "escort" ? null : session.jurisdiction;
}

export function scans(role) {
  if (role === "escort") return ["pickup", "delivery", "incident"];
  if (!CUSTODIANS.has(role)) return [];
  const all = ["dispatch", "receive", "seal", "store", "incident"];
  return role === "kpps" ? [...all, "open", "count", "reseal"] : all;
}

// {type, counterparty} expected of `site` for the item (null when its state is unknown).
// An escort counting the boxes of an open truckload attests them as they last attested it.
export function expected(item, site, role, truck = null) {
  if (role === "escort") return { type: truck ? (truck.counting ?? "pickup") : "incident", counterparty: null };
  if (!item) return { type: "receive", counterparty: null };
  const route = routeTo(item.destination);
  const here = route.indexOf(site);
  const step = item.leg === "return" ? -1 : 1;
  const next = route[here + step] ?? null;
  if (item.status === "in_transit") {
    if (item.dispatch_to === site) return { type: "receive", counterparty: item.custodian };
    if (item.custodian === site) return { type: "incident", counterparty: null }; // already sent on
    return { type: "receive", counterparty: item.custodian };
  }
  if (item.custodian !== site) return { type: "incident", counterparty: null };
  switch (item.status) {
    case "registered":
      return { type: "seal", counterparty: null };
    case "held":
      if (site === item.destination && item.leg === "outbound") return { type: "open", counterparty: null };
      return { type: "dispatch", counterparty: next };
    case "opened":
      return { type: "count", counterparty: null };
    case "counted":
      return { type: "reseal", counterparty: null };
    case "returned":
      return { type: "store", counterparty: null };
    default: // sealed, resealed
      return { type: "dispatch", counterparty: next };
  }
}
