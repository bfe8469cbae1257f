// SVG charts for the dashboard: stacked progress bars per area and a map-like plot of
// sites from their coordinates (no tiles, nothing from another server). Colours come
// from CSS classes (s-out-<stage>, s-back-<stage>), shared with the legends.

import { el, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 340; // viewBox units; the SVG scales to the card's width

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export const stageClass = (leg, stage) => `s-${leg === "outbound" ? "out" : "back"}-${stage}`;
export const stageName = (leg, stage) => t(`stage_${leg === "outbound" ? "out" : "back"}_${stage}`);

export function legend(container, leg, stages) {
  container.replaceChildren(
    ...stages.map((stage) => el("span", {}, el("i", { class: `swatch ${stageClass(leg, stage)}` }), stageName(leg, stage))),
  );
}

// One bar per row ({code, label, counts}), each the row's items split by stage, as a
// share of the row's total; tapping a row calls onPick(code).
export function bars(target, rows, leg, stages, onPick) {
  const rowHeight = 50; // a row is a tap target: at least 44 px on a phone's 310 px card
  target.setAttribute("viewBox", `0 0 ${WIDTH} ${rows.length * rowHeight}`);
  target.replaceChildren(
    ...rows.map((row, i) => {
      const total = stages.reduce((n, s) => n + row.counts[s], 0);
      const group = svg("g", { transform: `translate(0 ${i * rowHeight})`, class: onPick && row.code ? "pick" : "", "data-code": row.code ?? "" });
      // A row-sized target: the whole row is tapped, not just the text or the bar.
      group.append(svg("rect", { x: 0, y: 0, width: WIDTH, height: rowHeight, class: "hit" }));
      group.append(svg("text", { x: 0, y: 16, class: "bar-label" }, `${row.label} · ${total}`));
      let x = 0;
      for (const stage of stages) {
        const width = total ? (row.counts[stage] / total) * WIDTH : 0;
        if (width > 0) {
          group.append(
            svg(
              "rect",
              { x, y: 22, width, height: 16, class: stageClass(leg, stage) },
              svg("title", {}, `${stageName(leg, stage)}: ${row.counts[stage]}`),
            ),
          );
        }
        x += width;
      }
      if (!total) group.append(svg("rect", { x: 0, y: 22, width: WIDTH, height: 16, class: "s-none" }));
      if (onPick && row.code) group.addEventListener("click", () => onPick(row.code));
      return group;
    }),
  );
}

// The stage most of an area's items are in, as its CSS class ("s-none" for no items).
export function dominant(items) {
  let best = ["s-none", 0];
  for (const [leg, counts] of [["outbound", items.outbound], ["return", items.return]]) {
    for (const [stage, n] of Object.entries(counts)) if (n > best[1]) best = [stageClass(leg, stage), n];
  }
  return best[0];
}

// Sites placed by longitude and latitude (equirectangular, to scale), each coloured by
// its dominant stage and labelled with its name; tapping a dot (its target is a finger's
// width) opens that area. The area itself is the square.
const HIT = 7.5; // viewBox units: 15 of 100 is ≥ 44 px on a phone's 310 px wide map

export function map(target, site, areas, onPick) {
  const placed = areas.filter((a) => a.lat != null && a.lon != null);
  const all = site.lat != null ? [...placed, site] : placed;
  target.replaceChildren();
  if (!all.length) return;
  const lats = all.map((a) => a.lat);
  const lons = all.map((a) => a.lon);
  const squeeze = Math.cos((((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI) / 180);
  const span = Math.max((Math.max(...lons) - Math.min(...lons)) * squeeze, Math.max(...lats) - Math.min(...lats), 1e-6);
  const x = (lon) => 8 + ((lon - Math.min(...lons)) * squeeze * 84) / span;
  const y = (lat) => 8 + ((Math.max(...lats) - lat) * 84) / span;
  for (const area of placed) {
    const [cx, cy] = [x(area.lon), y(area.lat)];
    const dot = svg(
      "g",
      { class: "site pick", "data-code": area.code },
      svg("title", {}, `${area.name} (${area.code}): ${t("items_total", { n: area.items.total })}`),
      svg("circle", { cx, cy, r: HIT, class: "hit" }),
      svg("circle", { cx, cy, r: 2.4, class: dominant(area.items) }),
      svg("text", { x: cx, y: cy - 3.4, class: "site-name", "text-anchor": "middle" }, area.name),
    );
    dot.addEventListener("click", () => onPick(area.code));
    target.append(dot);
  }
  if (site.lat != null) {
    target.append(
      svg("rect", { x: x(site.lon) - 2, y: y(site.lat) - 2, width: 4, height: 4, class: "home" }, svg("title", {}, site.name)),
    );
  }
}
