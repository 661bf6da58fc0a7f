// The self-assessment page: every change is kept and saved as the city's draft by the
// portal's autosave (autosave.js: in this browser at once, on the server once per pause,
// nothing typed lost), and scored by the domain's scorer for the live tier preview.
"use strict";

const PREVIEW_AFTER_MS = 250;

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-assessment]");
  if (!form) return;
  const { callApi, showAlert, autosave } = window.wwc;
  const key = form.dataset.city;
  const editable = form.dataset.editable === "yes";
  const preview = document.querySelector("[data-preview]");
  let previewTimer = null;

  function linksOf(box) {
    return box.querySelector("[data-evidence]").value.split("\n")
      .map((s) => s.trim()).filter(Boolean);
  }

  // Each link's optional valid-through day, from its row under the links (only the links
  // given: the server refuses a day for a link the answer does not give).
  function datesOf(box, evidence) {
    const dates = {};
    box.querySelectorAll("[data-link-through]").forEach((input) => {
      const link = input.dataset.linkThrough;
      if (input.value && evidence.includes(link)) dates[link] = input.value;
    });
    return dates;
  }

  // A row per link, in step with the links typed: a link keeps its day; a link edited in
  // place (a typo mended: the old one gone, a new one on its line) keeps its line's day.
  function syncLinkDates(box) {
    const rows = box.querySelector("[data-link-dates]");
    if (!rows) return;
    const links = [...new Set(linksOf(box))];
    const old = [...rows.querySelectorAll("[data-link-through]")];
    const byLink = new Map(old.map((input) => [input.dataset.linkThrough, input]));
    const same = links.length === old.length && links.every((link, i) => old[i].dataset.linkThrough === link);
    if (same) return;
    const code = box.dataset.criterion;
    rows.querySelectorAll(".link-date").forEach((row) => row.remove());
    links.forEach((link, i) => {
      const before = byLink.get(link) || (old[i] && !links.includes(old[i].dataset.linkThrough) ? old[i] : null);
      const row = document.createElement("p");
      row.className = "link-date";
      const label = document.createElement("label");
      label.htmlFor = `through-${code}-${i + 1}`;
      label.textContent = link;
      const input = document.createElement("input");
      input.type = "date";
      input.id = label.htmlFor;
      input.dataset.linkThrough = link;
      input.min = rows.dataset.min || "";
      input.value = before ? before.value : "";
      row.append(label, " ", input);
      rows.append(row);
    });
    rows.hidden = links.length === 0;
  }

  function collect() {
    const criteria = {};
    form.querySelectorAll("[data-criterion]").forEach((box) => {
      const evidence = linksOf(box);
      const met = box.querySelector("[data-met]");
      const items = [...box.querySelectorAll("[data-item]")];
      const answer = { evidence };
      const dates = datesOf(box, evidence);
      if (Object.keys(dates).length) answer.valid_through = dates;
      if (met) answer.met = met.checked;
      else answer.items = items.filter((i) => i.checked).map((i) => i.dataset.item);
      if (answer.met || (answer.items && answer.items.length) || evidence.length)
        criteria[box.dataset.criterion] = answer;
    });
    const outcomes = {};
    form.querySelectorAll("[data-outcome]").forEach((o) => { if (o.checked) outcomes[o.dataset.outcome] = true; });
    return { criteria, outcomes };
  }

  function apply(answers) {
    form.querySelectorAll("[data-criterion]").forEach((box) => {
      const answer = answers.criteria[box.dataset.criterion] || {};
      const met = box.querySelector("[data-met]");
      if (met) met.checked = !!answer.met;
      box.querySelectorAll("[data-item]").forEach((i) => { i.checked = (answer.items || []).includes(i.dataset.item); });
      box.querySelector("[data-evidence]").value = (answer.evidence || []).join("\n");
      syncLinkDates(box);
      box.querySelectorAll("[data-link-through]").forEach((input) => {
        input.value = (answer.valid_through || {})[input.dataset.linkThrough] || "";
      });
    });
    form.querySelectorAll("[data-outcome]").forEach((o) => { o.checked = !!(answers.outcomes || {})[o.dataset.outcome]; });
  }

  // A carried-over criterion saved unclaimed needs no confirmation any more (the server
  // drops its mark at that save, domain/drafts.py): its mark goes from the page too.
  function settleCarried(answers) {
    form.querySelectorAll("[data-carried]").forEach((mark) => {
      const answer = answers.criteria[mark.dataset.carried];
      if (answer && (answer.met || (answer.items || []).length)) return;
      mark.closest("[data-criterion]").classList.remove("carried");
      mark.hidden = true;
      const documents = form.querySelector(`[data-carried-documents="${mark.dataset.carried}"]`);
      if (documents) documents.hidden = true;
    });
  }

  async function refreshPreview() {
    const result = await callApi("POST", `/api/cities/${key}/assessment/preview`, collect(), {}, { once: false });
    if (!result.ok) return; // the preview is a help, not a step: a failure shows nothing new
    render(result.body);
  }

  function gateLabel(id) {  // the page's language, as the fieldset shows it
    const box = form.querySelector(`[data-gate="${id}"]`);
    return box ? box.dataset.label : id;
  }

  function labelOf(code) {
    const box = form.querySelector(`[data-criterion="${code}"]`);
    return box ? `${code} ${box.dataset.label}` : code;
  }

  function render(p) {
    const score = p.score;
    const parts = [];
    parts.push(`<p class="preview-tier"><span class="tier tier-${score.tier}" data-preview-tier="${score.tier}">${escapeHtml(tierName(score.tier))}</span> <span data-preview-points>${score.points} / ${score.total}</span> (${share.format(score.points / score.total)})</p>`);
    if (p.next_tier) {
      parts.push(`<p>${escapeHtml(form.dataset.msgNext.replace("%(tier)s", tierName(p.next_tier.tier)))}</p><ul data-next-tier>`);
      for (const code of p.next_tier.criteria) parts.push(`<li>${escapeHtml(labelOf(code))}</li>`);
      parts.push("</ul>");
      if (p.next_tier.gates.length) parts.push(`<p>${escapeHtml(form.dataset.msgGates)} ${escapeHtml(p.next_tier.gates.map(gateLabel).join(", "))}</p>`);
    } else {
      parts.push(`<p>${escapeHtml(form.dataset.msgTop)}</p>`);
    }
    if (p.missing_evidence.length) {
      parts.push(`<p>${escapeHtml(form.dataset.msgMissing)}</p><ul data-missing>`);
      for (const m of p.missing_evidence) parts.push(`<li>${escapeHtml(labelOf(m.code))}: ${escapeHtml(m.needed.join(", "))}</li>`);
      parts.push("</ul>");
    } else if (score.tier === "none") {
      // Nothing missing, but nothing earned: never "you may submit" without saying so.
      parts.push(`<p data-ready="not-certified">${escapeHtml(form.dataset.msgNotCertified)}</p>`);
    } else {
      parts.push(`<p data-ready>${escapeHtml(form.dataset.msgReady)}</p>`);
    }
    preview.innerHTML = parts.join("");
  }

  // The share as the page's language writes it: 48.8% (en), 48,8 % (es), 48,8% (pt).
  const share = new Intl.NumberFormat(document.documentElement.lang, { style: "percent", maximumFractionDigits: 1 });

  function tierName(tier) {
    return (document.querySelector(`[data-tier-name="${tier}"]`) || {}).textContent || tier;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  const draft = autosave(form, {
    url: `/api/cities/${key}/assessment`, collect, apply, editable, onSaved: settleCarried,
    storageKey: `wwc-draft:${key}:${form.dataset.application}`,
  });

  function changed() {
    showAlert(form, "");  // a refusal shown before no longer applies to changed answers
    draft.changed();
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, PREVIEW_AFTER_MS);
  }

  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-evidence]")) syncLinkDates(event.target.closest("[data-criterion]"));
    changed();
  });
  form.addEventListener("change", changed);
  // A document added or removed (documents.js) fills or empties an evidence slot.
  form.addEventListener("wwc:documents-changed", () => { if (editable) refreshPreview(); });

  // "Submit for review" leads to the confirmation step (what will be sent, the tier it
  // would earn, what is missing), which shows the answers as saved: save them first.
  const submit = document.querySelector("[data-submit-assessment]");
  if (submit) submit.addEventListener("click", async (event) => {
    event.preventDefault();
    showAlert(form, "");
    if (!await draft.flush()) { showAlert(form, form.dataset.msgNotSaved); return; }
    window.location.assign(submit.href);
  });

  // "Confirm ... still holds" posts a form that saves the draft as the server has it, less
  // that mark: answers changed here and not saved yet are saved first (else leaving the
  // page would ask whether to drop them), then the confirmation goes.
  const confirmForm = document.getElementById("confirm-carried");
  if (confirmForm && editable) confirmForm.addEventListener("submit", async (event) => {
    if (!draft.pending() && !draft.busy()) return;  // nothing pending
    event.preventDefault();
    const button = event.submitter;
    showAlert(form, "");
    if (!await draft.flush()) { showAlert(form, form.dataset.msgNotSaved); return; }
    confirmForm.requestSubmit(button);
  });

  if (editable) refreshPreview();
});
