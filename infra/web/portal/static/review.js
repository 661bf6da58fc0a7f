// The review screen: each verdict and note is kept and saved as the reviewer's sheet by
// the portal's autosave (autosave.js, as the self-assessment saves its draft), against
// the sheet's version. Completing the review saves what is pending first; the completion
// records the sheet's verdicts in the city's log.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-review-sheet]");
  if (!form) return;
  const { callApi, showAlert, refusalText, autosave } = window.wwc;
  const key = form.dataset.city;

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

  const sheet = autosave(form, {
    url: `/api/cities/${key}/review/sheet`, collect, apply,
    storageKey: `wwc-review:${key}:${form.dataset.application}`,
  });
  form.addEventListener("input", sheet.changed);
  form.addEventListener("change", sheet.changed);
  form.addEventListener("submit", (event) => { event.preventDefault(); sheet.flush(); });

  // Completing: what is pending is saved first, then the completion records the sheet.
  const complete = document.querySelector("form[data-complete-review]");
  if (complete) complete.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = complete.querySelector('button[type="submit"]');
    showAlert(complete, "");
    button.disabled = true;
    if (!await sheet.flush()) {
      showAlert(complete, form.dataset.msgNotSaved);
      button.disabled = false;
      return;
    }
    const result = await callApi("POST", `/api/cities/${key}/review/complete`, {});
    button.disabled = false;
    if (!result.ok) { showAlert(complete, await refusalText(result, complete)); return; }
    window.location.assign(complete.dataset.then);
  });
});
