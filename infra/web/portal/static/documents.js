// Evidence documents on the self-assessment page: each criterion's slot takes files from a
// file picker or dropped on it, uploads each as the request's body (the server streams it
// to the document store and judges its type by content), shows the progress, lists what
// was added and removes a document on request. Refusals are said in the page's language
// (window.wwc.refusalText). The tier preview is told, since documents count as evidence.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-assessment]");
  if (!form || form.dataset.editable !== "yes") return;
  const { refusalText, callApi } = window.wwc;
  const key = form.dataset.city;
  const lang = document.documentElement.lang;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(lang, { style: "percent" });
  const day = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");
  }

  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sizeOf(size) {
    return size >= 1048576 ? `${number.format(size / 1048576)} MB`
      : `${number.format(Math.ceil(size / 1024))} KB`;
  }

  function item(document_) {
    const li = document.createElement("li");
    li.dataset.document = document_.sha256;
    const link = document.createElement("a");
    link.href = document_.href;
    link.textContent = document_.name;
    if (document_.inline) { link.target = "_blank"; link.rel = "noopener"; }
    else link.setAttribute("download", "");
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = `${sizeOf(document_.size)} · ${day.format(new Date(document_.added_on))}`;
    if (document_.valid_through) {
      hint.textContent += ` · ${fill(form.dataset.msgValidThrough, { date: day.format(new Date(document_.valid_through)) })}`;
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.dataset.removeDocument = "";
    remove.textContent = form.dataset.msgRemove;
    remove.setAttribute("aria-label", fill(form.dataset.msgRemoveNamed, { name: document_.name }));
    li.append(link, " ", hint, " ", remove);
    return li;
  }

  function documentsChanged() {
    form.dispatchEvent(new CustomEvent("wwc:documents-changed"));
  }

  // A file over the operator's limit is refused here, in the server's words, before it
  // is sent: a server that refuses a large body early may close the connection while
  // the browser still sends, which the browser reports as a failed connection.
  async function tooLarge(file) {
    const limit = parseInt(form.dataset.documentLimit, 10);
    if (!(file.size > limit)) return null;
    const said = await refusalText({ status: 413, body: {
      code: "document_too_large", facts: { limit: Math.ceil(limit / 1048576) } } });
    return `${file.name}: ${said}`;
  }

  // One file, as the request's body: XMLHttpRequest, as fetch reports no upload progress.
  async function upload(slot, file) {
    const code = slot.dataset.documents;
    const state = slot.querySelector("[data-upload-state]");
    const refused = await tooLarge(file);
    if (refused) {
      state.dataset.kind = "refused";
      state.textContent = refused;
      return;
    }
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", file.name);
    slot.querySelector("[data-dropzone]").append(progress);
    state.dataset.kind = "uploading";
    state.textContent = fill(form.dataset.msgUploading, { name: file.name, percent: percent.format(0) });
    return new Promise((done) => {
      const request = new XMLHttpRequest();
      const query = new URLSearchParams({ criterion: code, name: file.name });
      // The slot's optional "valid through" day (evidence that lasts: domain/carry_over.py).
      const through = slot.querySelector("[data-valid-through]")?.value;
      if (through) query.set("valid_through", through);
      request.open("POST", `/api/cities/${encodeURIComponent(key)}/documents?${query}`);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.setRequestHeader("Idempotency-Key", newKey());
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        progress.value = Math.round((event.loaded / event.total) * 100);
        state.textContent = fill(form.dataset.msgUploading, { name: file.name, percent: percent.format(event.loaded / event.total) });
      });
      request.addEventListener("loadend", async () => {
        progress.remove();
        let body = null;
        try { body = JSON.parse(request.responseText); } catch (error) { body = null; }
        if (request.status === 200 || request.status === 201) {
          const list = slot.querySelector("[data-document-list]");
          if (!list.querySelector(`[data-document="${body.sha256}"]`)) list.append(item(body));
          state.dataset.kind = "saved";
          state.textContent = fill(form.dataset.msgUploaded, { name: body.name });
          documentsChanged();
        } else {
          state.dataset.kind = "refused";
          const said = await refusalText({ status: request.status, body });
          state.textContent = said.includes(file.name) ? said : `${file.name}: ${said}`;
        }
        done();
      });
      request.send(file);
    });
  }

  async function uploadAll(slot, files) {
    for (const file of files) await upload(slot, file);  // one at a time: progress reads
  }

  // A file dropped beside a slot would make the browser open it in place of the page.
  for (const kind of ["dragover", "drop"]) {
    window.addEventListener(kind, (event) => {
      if (!event.target.closest || !event.target.closest("[data-dropzone]")) event.preventDefault();
    });
  }

  form.querySelectorAll("[data-documents]").forEach((slot) => {
    const zone = slot.querySelector("[data-dropzone]");
    const input = slot.querySelector("[data-file-input]");
    if (!zone || !input) return;
    input.addEventListener("change", async (event) => {
      event.stopPropagation();  // not an answer: nothing for the draft to save
      const files = [...input.files];
      input.value = "";
      await uploadAll(slot, files);
    });
    input.addEventListener("input", (event) => event.stopPropagation());
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      await uploadAll(slot, [...event.dataTransfer.files]);
    });
    slot.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-remove-document]");
      if (!button) return;
      const li = button.closest("[data-document]");
      const name = li.querySelector("a").textContent;
      const state = slot.querySelector("[data-upload-state]");
      button.disabled = true;
      const result = await callApi("DELETE", `/api/cities/${encodeURIComponent(key)}/documents/${li.dataset.document}?criterion=${encodeURIComponent(slot.dataset.documents)}`);
      if (result.ok || result.status === 404) {  // 404: removed already (another tab)
        li.remove();
        state.dataset.kind = "saved";
        state.textContent = fill(form.dataset.msgRemoved, { name });
        documentsChanged();
      } else {
        button.disabled = false;
        state.dataset.kind = "refused";
        state.textContent = await refusalText(result);
      }
    });
  });
});
