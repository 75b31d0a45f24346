// dbheal admin: the small script of every page. No framework, no build step.
//
// What comes from the server is data (JSON), never markup: every text below becomes a text
// node or an attribute value through the DOM, so a file name, a message or SQL can only ever
// show as text. State changes are plain form POSTs carrying the session's CSRF token.
"use strict";

(() => {
  const dataElement = document.getElementById("dbheal-data");
  const data = dataElement ? JSON.parse(dataElement.textContent) : {};
  const csrf = data.csrf || "";

  // h("tag", {attr: value}, ...children): an element; children that are not nodes are text.
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (value === true) node.setAttribute(name, "");
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function postForm(action, fields, label, kind, extra) {
    const hidden = Object.entries(fields).map(([name, value]) =>
      h("input", { type: "hidden", name, value }),
    );
    return h(
      "form",
      { method: "post", action, class: "inline" },
      h("input", { type: "hidden", name: "csrf", value: csrf }),
      hidden,
      extra || null,
      h("button", { type: "submit", class: kind || "primary" }, label),
    );
  }

  function codeBlock(text, kind) {
    if (kind !== "diff") return h("pre", { class: `code ${kind}` }, text);
    const lines = text.replace(/\n$/, "").split("\n");
    return h(
      "pre",
      { class: "code diff" },
      lines.map((line) => {
        let cls = "dl";
        if (line.startsWith("+++") || line.startsWith("---")) cls += " file";
        else if (line.startsWith("@@")) cls += " hunk";
        else if (line.startsWith("+")) cls += " add";
        else if (line.startsWith("-")) cls += " del";
        return h("span", { class: cls }, `${line}\n`);
      }),
    );
  }

  function checks(list) {
    return h(
      "ul",
      { class: "checks" },
      list.map((c) =>
        h(
          "li",
          { class: c.ok ? "ok" : "fail" },
          h("span", { class: "check-mark" }, c.ok ? "ok" : "FAIL"),
          h("span", { class: "check-name" }, c.name),
          c.detail ? `: ${c.detail}` : "",
        ),
      ),
    );
  }

  function dryRun(run) {
    return h(
      "div",
      { class: `dry ${run.ok ? "ok" : "fail"}` },
      h("div", { class: "dry-status" }, run.status),
      run.lossy ? h("p", { class: `lossy ${run.lossless ? "ok" : "fail"}` }, run.lossy) : null,
      checks(run.checks),
    );
  }

  function fixHead(kind, title) {
    return h("div", { class: "fix-head" }, h("span", { class: "tag" }, kind), h("strong", null, title));
  }

  function schemaFix(fix, action) {
    return h(
      "div",
      { class: "fix schema-fix" },
      fixHead(fix.kind, fix.title),
      fix.description ? h("p", { class: "fix-text" }, fix.description) : null,
      fix.expected ? h("p", { class: "fix-text muted" }, `Expected: ${fix.expected}`) : null,
      h("div", { class: "label" }, "SQL"),
      codeBlock(fix.sql, "sql"),
      dryRun(fix.dry_run),
      h("div", { class: "fix-actions" }, action),
    );
  }

  function renderIssueFixes(body, only, back) {
    const out = [];
    const fp = body.issue.fingerprint;
    for (const fix of body.code_fixes) {
      out.push(
        h(
          "div",
          { class: "fix code-fix" },
          fixHead(fix.kind, fix.title),
          h("div", { class: "label" }, `Diff of ${fix.path}`),
          codeBlock(fix.diff, "diff"),
          h(
            "div",
            { class: "fix-actions" },
            postForm(
              "/actions/apply-code",
              { fp, fix_id: fix.id, source_hash: fix.source_hash, back },
              "Apply code fix",
            ),
          ),
        ),
      );
    }
    if (only !== "code") {
      for (const fix of body.schema_fixes) {
        const action = fix.queued
          ? h(
              "p",
              { class: "queued" },
              `Queued as migration ${fix.queued}. `,
              h("a", { href: `/fix?entry=${encodeURIComponent(fix.queued)}` }, "Open it in Manual Fix"),
            )
          : postForm("/actions/queue", { fp, plan_id: fix.id }, "Queue this migration");
        out.push(schemaFix(fix, action));
      }
    }
    if (!out.length) {
      out.push(
        h(
          "p",
          { class: "empty" },
          only === "code"
            ? "No code fix for this issue."
            : "No fix for this issue: dbheal offers only fixes it can check.",
        ),
      );
    }
    return out;
  }

  function renderPlan(body) {
    const entry = body.entry;
    let action;
    if (entry.status === "queued") {
      const select = h(
        "select",
        { name: "on_lossy" },
        body.on_lossy.map((value) => h("option", { value }, value)),
      );
      const choice = h("label", { class: "field inline-field" }, h("span", null, "Values that would not convert"), select);
      action = postForm(
        "/actions/apply-migration",
        { entry: entry.id, plan_id: body.plan.id },
        `Apply migration ${entry.id}`,
        "primary",
        choice,
      );
    } else {
      action = h("p", { class: "muted" }, `This migration is ${entry.status}.`);
    }
    return [schemaFix(body.plan, action)];
  }

  async function toggle(button, url, render) {
    const row = document.getElementById(button.dataset.target);
    if (!row) return;
    const box = row.querySelector(".preview");
    if (!button.dataset.label) button.dataset.label = button.textContent;
    if (!row.hidden) {
      row.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.textContent = button.dataset.label;
      return;
    }
    row.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.textContent = "Hide";
    if (box.dataset.loaded) return;
    box.replaceChildren(h("p", { class: "loading" }, "Planning and dry-running…"));
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      box.replaceChildren(...render(body));
      box.dataset.loaded = "1";
    } catch (error) {
      box.replaceChildren(h("p", { class: "error" }, `Could not load it: ${error.message}`));
    }
  }

  const back = window.location.pathname === "/fix" ? "/fix" : "/issues";
  for (const button of document.querySelectorAll("button.show-fixes")) {
    button.addEventListener("click", () => {
      const url = `/api/issue-fixes?fp=${encodeURIComponent(button.dataset.fp)}`;
      toggle(button, url, (body) => renderIssueFixes(body, button.dataset.only, back));
    });
  }
  for (const button of document.querySelectorAll("button.show-plan")) {
    button.addEventListener("click", () => {
      const url = `/api/plan?entry=${encodeURIComponent(button.dataset.entry)}`;
      toggle(button, url, renderPlan);
    });
  }
  if (data.open_entry !== undefined && data.open_entry !== null) {
    const button = document.querySelector(`button.show-plan[data-entry="${Number(data.open_entry)}"]`);
    if (button) {
      button.click();
      button.scrollIntoView({ block: "center" });
    }
  }

  // Filters apply as soon as one changes.
  for (const select of document.querySelectorAll("form.filters select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }

  // A form is sent once: its button says so while the server works.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    const button = form.querySelector("button[type=submit]");
    if (button) {
      setTimeout(() => {
        button.disabled = true;
        button.textContent = "Working…";
      }, 0);
    }
  });
})();
