// The dashboard's reports of an area: its custody report (PDF, a regency's whole), the
// custody held there and every event (CSV), its TPS' completeness (PDF, CSV), the day's
// convoy sheet (PDF), the return reconciliation and the orphans (PDF, CSV). The API
// wants the signed-in person's token, which a plain link does not carry: each link
// fetches its file and hands it over.

import { call, words } from "./api.js";
import { el, t } from "./i18n.js";

const LEVELS_WITH_A_REPORT = new Set([5, 8, 13]); // regency, district, village codes' lengths

export function reportLinks(area, name, log) {
  const links = [];
  const label = name ? `${name} (${area})` : area;
  if (LEVELS_WITH_A_REPORT.has(area.length)) {
    links.push([t("report_custody_pdf", { area: label }), `/api/v1/reports/custody.pdf?site=${area}`, `berita-acara-${area}.pdf`]);
  }
  links.push([t("report_custody_csv", { area: label }), `/api/v1/export/custody.csv?site=${area}`, `custody-${area}.csv`]);
  links.push([t("report_events_csv", { area: label }), `/api/v1/export/events.csv?log=${log}&site=${area}`, `events-${area}.csv`]);
  links.push([t("report_completeness_pdf", { area: label }), `/api/v1/completeness/report.pdf?site=${area}`, `kelengkapan-${area}.pdf`]);
  links.push([t("report_completeness_csv", { area: label }), `/api/v1/completeness/report.csv?site=${area}`, `kelengkapan-${area}.csv`]);
  links.push([t("report_convoys_pdf", { area: label }), `/api/v1/convoys/sheet.pdf?site=${area}`, `konvoi-${area}.pdf`]);
  links.push([t("report_returns_pdf", { area: label }), `/api/v1/returns/report.pdf?site=${area}`, `pengembalian-${area}.pdf`]);
  links.push([t("report_returns_csv", { area: label }), `/api/v1/returns/report.csv?site=${area}`, `pengembalian-${area}.csv`]);
  links.push([t("report_orphans_pdf", { area: label }), `/api/v1/orphans/report.pdf?site=${area}`, `kotak-yatim-${area}.pdf`]);
  links.push([t("report_orphans_csv", { area: label }), `/api/v1/orphans/report.csv?site=${area}`, `kotak-yatim-${area}.csv`]);
  return links;
}

// Links (label, path, filename) that download with `token`; errors go to `status`.
export function showReports(list, links, token, status) {
  list.replaceChildren(
    ...links.map(([label, path, filename]) => el("li", {}, download(el("a", { href: path, "data-report": filename }, label), token, status))),
  );
}

export function download(link, token, status) {
  link.addEventListener("click", async (event) => {
    event.preventDefault();
    status.textContent = t("report_downloading");
    try {
      const file = await call(link.getAttribute("href"), { token: token(), blob: true });
      const url = URL.createObjectURL(file);
      const save = el("a", { href: url, download: link.dataset.report });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = "";
    } catch (failure) {
      status.textContent = t("error", { detail: words(failure) });
    }
  });
  return link;
}
