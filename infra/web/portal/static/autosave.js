// Autosave, shared by the self-assessment (assessment.js) and the review sheet
// (review.js): every change is kept in this browser at once (localStorage) and saved to
// the server once per pause, not per keystroke, against the version the page read
// (If-Match), so two people never overwrite each other. Nothing given is lost: a lost
// connection, an expired session or another person's change leaves it in the page and in
// localStorage and says so (the form's data-msg-* sentences, in the page's language);
// it is saved once the server takes it again.
"use strict";

const SAVE_AFTER_MS = 1200;   // a pause this long ends a burst of typing: one save
const RETRY_AFTER_MS = 5000;  // offline or signed out: try again this much later

// `collect()` gives what the form holds, `apply(value)` puts a kept value back;
// `onSaved(value)` runs after each save the server took. Returns what the page's own
// steps need: `changed` (bind it to the form's edits), `flush` (save what is pending
// before a step that reads the saved value: true once nothing is), `pending`, `busy`.
function autosave(form, { url, storageKey, collect, apply, editable = true,
                          onSaved = () => {} }) {
  const { callApi, refusalText } = window.wwc;
  const state = form.querySelector("[data-save-state]");
  let etag = form.dataset.etag;
  let savedJson = JSON.stringify(collect());
  let timer = null, saving = false, blocked = false;

  function say(message, kind) {
    if (!state) return;  // read-only (e.g. submitted): nothing is saved from this page
    state.textContent = message;
    state.dataset.kind = kind;
  }

  const pending = () => JSON.stringify(collect()) !== savedJson;

  async function save() {
    timer = null;
    const value = collect();
    const json = JSON.stringify(value);
    if (json === savedJson) { say(form.dataset.msgSaved, "saved"); localStorage.removeItem(storageKey); return; }
    if (saving) { schedule(SAVE_AFTER_MS); return; }
    saving = true;
    say(form.dataset.msgSaving, "saving");
    const result = await callApi("PUT", url, value, { "If-Match": etag });
    saving = false;
    if (result.ok) {
      etag = result.response.headers.get("ETag") || etag;
      savedJson = json;
      blocked = false;
      onSaved(value);
      if (!pending()) { localStorage.removeItem(storageKey); say(form.dataset.msgSaved, "saved"); }
      else schedule(SAVE_AFTER_MS);
      return;
    }
    // Not saved: it stays in the page and in localStorage; say why, retry later.
    if (result.status === 0 || result.status === 503) { say(form.dataset.msgOffline, "offline"); schedule(RETRY_AFTER_MS); }
    else if (result.status === 401 || result.status === 403) { say(form.dataset.msgExpired, "expired"); schedule(RETRY_AFTER_MS); }
    else if (result.status === 409 && result.body && result.body.code === "stale_version") { blocked = true; say(form.dataset.msgStale, "stale"); }
    else { say(await refusalText(result), "refused"); }
  }

  function schedule(ms) {
    if (blocked || !editable) return;
    clearTimeout(timer);
    timer = setTimeout(save, ms);
  }

  function changed() {
    const json = JSON.stringify(collect());
    if (json !== savedJson) { localStorage.setItem(storageKey, json); say(form.dataset.msgUnsaved, "unsaved"); }
    schedule(SAVE_AFTER_MS);
  }

  async function flush() {
    clearTimeout(timer);
    while (saving) await new Promise((done) => setTimeout(done, 100));
    if (pending()) await save();
    if (pending()) return false;
    localStorage.removeItem(storageKey);
    return true;
  }

  window.addEventListener("beforeunload", (event) => {
    if (editable && pending()) { event.preventDefault(); event.returnValue = ""; }
  });
  window.addEventListener("online", () => schedule(0));

  // Given here before and never saved (a closed tab, a lost connection): restored.
  const kept = localStorage.getItem(storageKey);
  if (editable && kept && kept !== savedJson) {
    try { apply(JSON.parse(kept)); say(form.dataset.msgRestored, "unsaved"); schedule(SAVE_AFTER_MS); }
    catch (error) { localStorage.removeItem(storageKey); }
  }

  return { changed, flush, pending, busy: () => saving };
}

window.wwc.autosave = autosave;
