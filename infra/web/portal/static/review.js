// The review screen: each verdict and note is kept in this browser at once and saved to
// the server as the reviewer's sheet, one save per pause (as the self-assessment saves its
// draft: assessment.js), against the sheet's version (If-Match), so two people never
// overwrite each other. Nothing given is lost: a lost connection, an expired session or
// another change to the sheet leaves the verdicts in the page (and in localStorage) and
// says so. Completing the review saves what is pending first; the completion records the
// sheet's verdicts in the city's log.
"use strict";

const SHEET_SAVE_AFTER_MS = 1200;
const SHEET_RETRY_AFTER_MS = 5000;

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-review-sheet]");
  if (!form) return;
  const { callApi, showAlert, refusalText } = window.wwc;
  const key = form.dataset.city;
  const storageKey = `wwc-review:${key}:${form.dataset.application}`;
  const state = form.querySelector("[data-save-state]");
  let etag = form.dataset.etag;
  let savedJson = JSON.stringify(collect());
  let saveTimer = null, saving = false, blocked = false;

  // A verdict per criterion the reviewer has given (the others are not on the sheet).
  function collect() {
    const reviews = [];
    form.querySelectorAll("[data-review]").forEach((box) => {
      const verdict = box.querySelector("input[data-verdict]:checked");
      const items = [...box.querySelectorAll("input[data-item]")];
      const checked = items.filter((i) => i.checked).map((i) => i.dataset.item);
      const note = box.querySelector("[data-note]").value.trim();
      if (!verdict && !checked.length && !note) return;
      const review = { code: box.dataset.review, met: verdict ? verdict.value === "met" : false, note };
      if (items.length) review.items = checked;
      reviews.push(review);
    });
    return { reviews };
  }

  function apply(sheet) {
    const byCode = Object.fromEntries((sheet.reviews || []).map((r) => [r.code, r]));
    form.querySelectorAll("[data-review]").forEach((box) => {
      const review = byCode[box.dataset.review];
      if (!review) return;
      box.querySelectorAll("input[data-verdict]").forEach((r) => { r.checked = (r.value === "met") === !!review.met; });
      box.querySelectorAll("input[data-item]").forEach((i) => { i.checked = (review.items || []).includes(i.dataset.item); });
      box.querySelector("[data-note]").value = review.note || "";
    });
  }

  function say(message, kind) {
    state.textContent = message;
    state.dataset.kind = kind;
  }

  async function save() {
    saveTimer = null;
    const sheet = collect();
    const json = JSON.stringify(sheet);
    if (json === savedJson) { say(form.dataset.msgSaved, "saved"); localStorage.removeItem(storageKey); return; }
    if (saving) { schedule(SHEET_SAVE_AFTER_MS); return; }
    saving = true;
    say(form.dataset.msgSaving, "saving");
    const result = await callApi("PUT", `/api/cities/${key}/review/sheet`, sheet, { "If-Match": etag });
    saving = false;
    if (result.ok) {
      etag = result.response.headers.get("ETag") || etag;
      savedJson = json;
      blocked = false;
      if (JSON.stringify(collect()) === json) { localStorage.removeItem(storageKey); say(form.dataset.msgSaved, "saved"); }
      else schedule(SHEET_SAVE_AFTER_MS);
      return;
    }
    if (result.status === 0 || result.status === 503) { say(form.dataset.msgOffline, "offline"); schedule(SHEET_RETRY_AFTER_MS); }
    else if (result.status === 401 || result.status === 403) { say(form.dataset.msgExpired, "expired"); schedule(SHEET_RETRY_AFTER_MS); }
    else if (result.status === 409 && result.body && result.body.code === "stale_version") { blocked = true; say(form.dataset.msgStale, "stale"); }
    else { say(await refusalText(result), "refused"); }
  }

  function schedule(ms) {
    if (blocked) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, ms);
  }

  function changed() {
    const json = JSON.stringify(collect());
    if (json !== savedJson) { localStorage.setItem(storageKey, json); say(form.dataset.msgUnsaved, "unsaved"); }
    schedule(SHEET_SAVE_AFTER_MS);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => { event.preventDefault(); schedule(0); });
  window.addEventListener("beforeunload", (event) => {
    if (JSON.stringify(collect()) !== savedJson) { event.preventDefault(); event.returnValue = ""; }
  });
  window.addEventListener("online", () => schedule(0));

  // Completing: what is pending is saved first, then the completion records the sheet.
  const complete = document.querySelector("form[data-complete-review]");
  if (complete) complete.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = complete.querySelector('button[type="submit"]');
    showAlert(complete, "");
    button.disabled = true;
    clearTimeout(saveTimer);
    while (saving) await new Promise((done) => setTimeout(done, 100));
    if (JSON.stringify(collect()) !== savedJson) await save();
    if (JSON.stringify(collect()) !== savedJson) {
      showAlert(complete, form.dataset.msgNotSaved);
      button.disabled = false;
      return;
    }
    const result = await callApi("POST", `/api/cities/${key}/review/complete`, {});
    button.disabled = false;
    if (!result.ok) { showAlert(complete, await refusalText(result, complete)); return; }
    localStorage.removeItem(storageKey);
    window.location.assign(complete.dataset.then);
  });

  // Verdicts given here before and never saved (a closed tab, a lost connection): restore.
  const kept = localStorage.getItem(storageKey);
  if (kept && kept !== savedJson) {
    try { apply(JSON.parse(kept)); say(form.dataset.msgRestored, "unsaved"); schedule(SHEET_SAVE_AFTER_MS); }
    catch (error) { localStorage.removeItem(storageKey); }
  }
});
