// The portal's few lines of script: forms that call the JSON API (with the session's CSRF
// token), sign-in and sign-out, and the join form's eligibility note. No framework, no
// build step. Every error the API answers (RFC 9457 problem details) is shown in the form,
// in the page's language and words: the server says its code and facts as a sentence
// (POST /portal/refusal, infra/i18n/refusals.py), never the API's English or its code.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Calls the API; resolves to {ok, status, body, response}. A network failure is status 0.
// A POST carries a fresh Idempotency-Key (a retried click runs once) unless it changes
// nothing (`once: false`, the tier preview), which need not be remembered.
async function callApi(method, url, body, headers = {}, { once = true } = {}) {
  const init = { method, credentials: "same-origin",
    headers: { "Accept": "application/json", "X-CSRF-Token": csrf(), ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method === "POST" && once) init.headers["Idempotency-Key"] = newKey();
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    return { ok: false, status: 0, body: { detail: "network" }, response: null };
  }
  let parsed = null;
  const text = await response.text();
  try { parsed = text ? JSON.parse(text) : null; } catch (error) { parsed = { detail: text }; }
  return { ok: response.ok, status: response.status, body: parsed, response };
}

function showAlert(form, message) {
  const alert = form.querySelector("[data-alert]");
  if (!alert) return;
  alert.textContent = message || "";
  alert.hidden = !message;
  if (message) alert.focus?.();
}

// A refused call in words. A form may say a status its own way (data-msg-401 on the
// sign-in form: a wrong password, not an ended session).
async function refusalText(result, form) {
  if (result.status === 0) return document.body.dataset.msgNetwork;
  const own = form && form.dataset["msg" + result.status];
  if (own) return own;
  const body = result.body || {};
  const said = await callApi("POST", "/portal/refusal", {
    status: result.status, code: body.code || null, facts: body.facts || null,
    lang: document.documentElement.lang }, {}, { once: false });
  return (said.ok && said.body && said.body.message) || document.body.dataset.msgRefused;
}

// Form fields to a JSON body: "a.b" names nest, data-type says how to read the value.
function formBody(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    let value = field.value;
    const type = field.dataset.type;
    if (field.type === "checkbox") value = field.checked;
    else if (type === "int") value = value === "" ? null : parseInt(value, 10);
    else if (type === "float") value = value === "" ? null : parseFloat(value);
    else if (type === "lines") value = value.split("\n").map((s) => s.trim()).filter(Boolean);
    else if (type === "words") value = value.split(/[\s,]+/).filter(Boolean);
    else if (value === "" && field.dataset.optional !== undefined) value = null;
    const path = field.name.split(".");
    let target = body;
    for (const part of path.slice(0, -1)) target = target[part] = target[part] || {};
    target[path[path.length - 1]] = value;
  }
  // An optional group left empty is absent, not a half-filled object.
  for (const [key, value] of Object.entries(body)) {
    if (value && typeof value === "object" && !Array.isArray(value)
        && Object.values(value).every((v) => v === null)) delete body[key];
  }
  // A group the API takes as a list (data-lists names them) is a list of that one item.
  for (const key of (form.dataset.lists || "").split(" ").filter(Boolean)) {
    if (body[key] && !Array.isArray(body[key])) body[key] = [body[key]];
  }
  return body;
}

function bindApiForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [method, url] = form.dataset.api.split(" ");
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    showAlert(form, "");
    const body = method === "DELETE" ? undefined : formBody(form);
    const result = await callApi(method, url, body);
    if (!result.ok) { showAlert(form, await refusalText(result, form)); }
    if (button) button.disabled = false;
    if (!result.ok) return;
    const then = form.dataset.then || "reload";
    if (then === "show-password") {
      const status = form.querySelector("[data-alert]");
      status.textContent = form.dataset.msgCreated.replace("%(password)s", (result.body && result.body.password) || "—");
      status.hidden = false;
      form.reset();
    } else if (then === "reload") window.location.reload();
    else window.location.assign(then.replace("{key}", (result.body && result.body.city_key) || ""));
  });
}

// Where to go after signing in: a path on this site only (the server checks `next` too,
// infra/web/portal/redirects.py; this is the same rule where the page follows it). A path
// starts with one "/" followed by anything but "/" or "\", holds no backslash, space or
// control character, stays so once percent-decoded, and resolves to this origin.
const UNSAFE_IN_PATH = /[\\\s\u0000-\u001f\u007f]/;

function safeNext(value) {
  const fallback = "/portal";
  if (typeof value !== "string" || !value || value.length > 500) return fallback;
  let seen = value;
  for (let i = 0; i < 3; i++) {
    if (!/^\/(?![\/\\])/.test(seen) || UNSAFE_IN_PATH.test(seen)) return fallback;
    let decoded;
    try { decoded = decodeURIComponent(seen); } catch (error) { return fallback; }
    if (decoded === seen) break;
    seen = decoded;
    if (i === 2) return fallback;
  }
  try {
    if (new URL(value, window.location.origin).origin !== window.location.origin) return fallback;
  } catch (error) { return fallback; }
  return value;
}

function bindSignIn(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert(form, "");
    // No Idempotency-Key: a sign-in changes nothing worth replaying (the server takes
    // none on a public route), and a retry simply signs in again.
    const result = await callApi("POST", "/api/session",
      { email: form.email.value, password: form.password.value }, {}, { once: false });
    if (!result.ok) { showAlert(form, await refusalText(result, form)); return; }
    window.location.assign(safeNext(form.dataset.next));
  });
}

// The join form says before sending when the city does not qualify, and its button waits
// until it does (the server refuses the same, with the same rule).
function bindEligibility(form) {
  const note = form.querySelector("[data-eligibility-note]");
  const button = form.querySelector('button[type="submit"]');
  const countries = new Set(form.dataset.countries.split(" "));
  const minimum = parseInt(form.dataset.minPopulation, 10);
  const check = () => {
    const country = form.country.value.trim().toUpperCase();
    const population = parseInt(form.population.value, 10);
    const problems = [];
    if (country.length === 2 && !countries.has(country)) problems.push(form.dataset.msgCountry.replace("%(country)s", country));
    if (!Number.isNaN(population) && population < minimum) problems.push(form.dataset.msgPopulation.replace("%(n)s", minimum.toLocaleString(document.documentElement.lang)));
    note.textContent = problems.join(" ");
    note.classList.toggle("bad", problems.length > 0);
    if (button) button.disabled = problems.length > 0;
  };
  form.addEventListener("input", check);
}

// On a narrow screen each table row is shown as a card (portal.css): each cell gets its
// column's name to show beside it, and the table keeps its roles for screen readers
// (a table laid out as blocks loses them in some browsers).
function labelTable(table) {
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  table.setAttribute("role", "table");
  table.querySelectorAll("thead, tbody").forEach((group) => group.setAttribute("role", "rowgroup"));
  table.querySelectorAll("tr").forEach((row) => {
    row.setAttribute("role", "row");
    [...row.children].forEach((cell, i) => {
      const header = cell.tagName === "TH";
      cell.setAttribute("role", !header ? "cell" : cell.scope === "row" ? "rowheader" : "columnheader");
      if (!header && names[i]) cell.dataset.label = names[i];
    });
  });
}

// The city picker of the invitation form: a list of every city that has joined, one
// checkbox each (it works as it is without a script); typing in its search box keeps the
// cities whose name or key holds what is typed, and the ticked ones stay in sight.
function bindPicker(picker) {
  const filter = picker.querySelector("[data-picker-filter]");
  const list = picker.querySelector("ul");
  const count = picker.querySelector("[data-picker-count]");
  const items = [...list.querySelectorAll("li[data-name]")];
  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const names = items.map((item) => fold(item.dataset.name));
  const update = () => {
    const wanted = fold(filter.value.trim());
    let shown = 0;
    items.forEach((item, i) => {
      const ticked = item.querySelector("input").checked;
      const keep = !wanted || ticked || names[i].includes(wanted);
      item.hidden = !keep;
      if (keep) shown += 1;
    });
    const ticked = items.filter((item) => item.querySelector("input").checked).length;
    // The page wrote the total in (its plural form is the catalog's, by that number).
    count.textContent = list.dataset.msgShown.replace("%(shown)s", shown)
      .replace("%(ticked)s", ticked);
  };
  filter.addEventListener("input", update);
  list.addEventListener("change", update);
  // Enter in the search box ticks the one city left, rather than sending the form.
  filter.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const left = items.filter((item) => !item.hidden && !item.querySelector("input").checked);
    if (left.length === 1) { left[0].querySelector("input").checked = true; filter.value = ""; update(); }
  });
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("main table").forEach(labelTable);
  document.querySelectorAll("[data-picker]").forEach(bindPicker);
  document.querySelectorAll("form[data-api]").forEach(bindApiForm);
  document.querySelectorAll("form[data-sign-in]").forEach(bindSignIn);
  document.querySelectorAll("form[data-eligibility]").forEach(bindEligibility);
  document.querySelectorAll("[data-sign-out]").forEach((button) => {
    button.addEventListener("click", async () => {
      await callApi("DELETE", "/api/session");
      window.location.assign("/");
    });
  });
});

window.wwc = { callApi, showAlert, refusalText, safeNext };
