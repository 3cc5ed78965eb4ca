// Conveyor web UI: a small single-page app over the public API (the same calls inference-cli makes).
// The API key stays in this browser (localStorage) and travels as ?api_key=, as Roboflow clients send it.
"use strict";

const state = { key: localStorage.getItem("conveyor.apiKey") || "", ws: "", source: null, views: 0 };
const $view = document.getElementById("view");

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const badge = (s) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;
const bar = (p) => `<div class="progress"><div style="width:${Math.round((p || 0) * 100)}%"></div></div>`;
const staging = (p) => `/data-staging/v1/external/${state.ws}${p}`;
const jobsApi = (p) => `/batch-processing/v1/external/${state.ws}${p}`;
// a running job whose state, stage and progress have not moved for this long is flagged on its page: a task
// silent for SCHEDULER_TASK_STALL_S (120 s by default) is dispatched again, so longer means nothing runs it
const STALL_MS = 3 * 60 * 1000;
const machineOf = (job) => job.jobDefinition?.computeConfiguration?.machineType || "cpu";

function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg; t.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

// a create (a request with a JSON body) carries an Idempotency-Key and is sent again under it when its answer is
// lost (a network error, a gateway's 502/504, a 503 that says when to retry): a retry never makes a second job
const idempotencyKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
const answerLost = (resp) => resp.status === 502 || resp.status === 504 || (resp.status === 503 && resp.headers.has("Retry-After"));

async function api(path, { method = "GET", body, params = {} } = {}) {
  const url = new URL(path, location.origin);
  Object.entries({ ...params, api_key: state.key }).forEach(([k, v]) => v != null && url.searchParams.set(k, v));
  const headers = body ? { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey() } : {};
  let resp;
  for (let attempt = 0; ; attempt++) {
    try {
      resp = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
      if (!body || attempt >= 3 || !answerLost(resp)) break;
    } catch (err) {
      if (!body || attempt >= 3) throw err;
    }
    await new Promise((done) => setTimeout(done, 500 * 2 ** attempt));
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.message || data.detail || `HTTP ${resp.status}`);
  return data;
}

async function pages(path, field, params = {}) {  // every page of a paginated listing
  let out = [], token = null;
  do {
    const page = await api(path, { params: { ...params, nextPageToken: token } });
    out = out.concat(page[field] || []); token = page.nextPageToken;
  } while (token && out.length < 5000);
  return out;
}

function table(headers, rows, onClick) {
  const body = rows.map((r, i) => `<tr class="${onClick ? "link" : ""}" data-i="${i}">${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
  const html = `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body ||
    `<tr><td colspan="${headers.length}" class="muted">nothing yet</td></tr>`}</tbody></table>`;
  setTimeout(() => onClick && document.querySelectorAll("tr.link").forEach((tr) => tr.addEventListener("click", () => onClick(+tr.dataset.i))));
  return html;
}

// ---------- sign in ----------
function signIn(error) {
  document.getElementById("nav").hidden = true;
  $view.innerHTML = `<div class="card"><h1>Sign in</h1><p class="muted">Paste a workspace API key
    (<code>conveyor workspace create NAME</code> prints one; <code>conveyor up</code> keeps the local one in <code>$CONVEYOR_HOME/api_key</code>, <code>.devstack/api_key</code> by default).</p>
    <div class="row"><label>API key <input id="key" size="60" autocomplete="off"></label><button id="go">Open workspace</button></div>
    <p class="error-text">${esc(error || "")}</p></div>`;
  document.getElementById("go").onclick = async () => {
    state.key = document.getElementById("key").value.trim();
    localStorage.setItem("conveyor.apiKey", state.key);
    navigate();
  };
}

// ---------- jobs ----------
async function jobsView() {
  const search = state.jobSearch || "";
  const [jobs, batches, workflows] = await Promise.all([pages(jobsApi("/jobs"), "jobs", { pageSize: 100, search: search || null }),
    pages(staging("/batches"), "batches", { pageSize: 100 }), pages(`/${state.ws}/workflows`, "workflows").then((w) => ({ workflows: w }))]);
  $view.innerHTML = `<h1>Jobs</h1>
  <div class="card"><h2>New job</h2><form id="newjob" class="row">
    <label>Job id <input name="jobId" required maxlength="20" pattern="[a-z0-9_\\-]+" placeholder="my-job"></label>
    <label>Input batch <select name="batch">${batches.map((b) => `<option value="${esc(b.batchId)}" data-kind="${esc(b.batchContentType)}">${esc(b.batchId)} (${esc(b.batchContentType)})</option>`).join("")}</select></label>
    <label>Workflow <select name="workflow">${workflows.workflows.map((w) => `<option>${esc(w.id)}</option>`).join("")}</select></label>
    <label>Machine <select name="machineType"><option>cpu</option><option>gpu</option></select></label>
    <label>Workers / machine <input name="workers" type="number" min="1" max="16" value="1"></label>
    <label>Max runtime (s) <input name="timeout" type="number" min="60" value="3600"></label>
    <label>Video FPS <input name="fps" type="number" min="0.1" step="0.1" placeholder="all frames"></label>
    <label>Results <select name="format"><option>jsonl</option><option>csv</option></select></label>
    <label>Visualisations <select name="persist"><option value="">not kept</option><option value="1">kept</option></select></label>
    <button type="submit">Start job</button><button type="button" id="estimate" class="secondary">Estimate</button></form>
    <div id="estimated"></div></div>
  <h2>All jobs</h2>
  <form id="jobsearch" class="row"><input name="search" size="30" placeholder="id, name, workflow or state" value="${esc(search)}">
    <button type="submit">Search</button></form>
  ${table(["job", "state", "progress", "stage", "created", "runtime"], jobs.map((j) => [esc(j.jobId), badge(j.state),
    bar(j.progress), esc(j.currentStage || ""), when(j.createdAt), `${(j.runtimeSeconds || 0).toFixed(1)} s`]),
    (i) => { location.hash = `#/jobs/${jobs[i].jobId}`; })}`;
  document.getElementById("jobsearch").onsubmit = (e) => {
    e.preventDefault();
    state.jobSearch = new FormData(e.target).get("search").trim();
    jobsView();
  };
  const form = document.getElementById("newjob");
  const bodyOf = (f) => {
    const batch = batches.find((b) => b.batchId === f.batch);
    const videos = batch && batch.batchContentType === "videos";
    const spec = { type: "workflows-processing-specification-v1", workspace: state.ws, workflowId: f.workflow,
      aggregationFormat: f.format, persistImagesOutputs: !!f.persist };
    if (videos && f.fps) spec.maxVideoFPS = +f.fps;
    return { type: videos ? "simple-video-processing-v1" : "simple-image-processing-v1",
      jobInput: { type: "staging-batch-input-v1", batchId: f.batch },
      computeConfiguration: { type: "compute-configuration-v2", machineType: f.machineType, workersPerMachine: +f.workers },
      processingTimeoutSeconds: +f.timeout, processingSpecification: spec };
  };
  form.onsubmit = async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    try {
      await api(jobsApi(`/jobs/${f.jobId}`), { method: "POST", body: bodyOf(f) });
      location.hash = `#/jobs/${f.jobId}`;
    } catch (err) { toast(err.message); }
  };
  document.getElementById("estimate").onclick = async () => {
    const out = document.getElementById("estimated");
    out.innerHTML = `<p class="muted">running a sample of the batch…</p>`;
    try {
      const est = await api(jobsApi("/jobs/estimate"), { method: "POST", body: bodyOf(Object.fromEntries(new FormData(form))) });
      out.innerHTML = estimateCard(est);
      form.elements.timeout.value = est.recommendedProcessingTimeoutSeconds;  // the timeout it recommends
    } catch (err) { out.innerHTML = ""; toast(err.message); }
  };
}

function estimateCard(e) {  // POST .../jobs/estimate's answer: each figure with its 95 % interval
  const span = (fig, show) => show(fig.value) + (fig.low == null ? "" : ` <span class="muted">(${show(fig.low)} to ${show(fig.high)})</span>`);
  const secs = (v) => `${v.toFixed(1)} s`, hours = (v) => v.toFixed(4), pct = (v) => `${(v * 100).toFixed(1)} %`;
  const mb = (v) => `${(v / 1e6).toFixed(2)} MB`;
  const rows = [["Runtime, all workers", span(e.runtimeSeconds, secs)], ["Machine-hours", span(e.machineHours, hours)],
    ...(e.cost ? [[`Cost (${esc(e.cost.unit)})`, span(e.cost, (v) => v.toFixed(4))]] : []),
    ["Processing wall time", span(e.processingWallSeconds, secs)], ["Failure rate", span(e.failureRate, pct)],
    ["Output", span(e.outputBytes, mb)], ["Recommended max runtime", `${e.recommendedProcessingTimeoutSeconds} s`]];
  return `<p id="estimate-summary">${e.files} files in ${e.tasks} tasks on ${esc(e.machineType)}, from a sample of
    ${e.sample.files} files (<a href="#/jobs/${esc(e.estimateJobId)}">${esc(e.estimateJobId)}</a>)</p>` +
    table(["Estimate", "95 % interval"], rows);
}

async function jobView(jobId) {
  const view = String(++state.views);  // this rendering: its stall timer stops once another one replaces it
  $view.innerHTML = `<h1>Job ${esc(jobId)}</h1><div class="card" id="live">connecting…</div>
    <div class="card error-text" id="stall" data-view="${view}" role="alert" hidden></div>
    <div class="row"><button id="abort" class="danger">Abort</button><button id="restart" class="secondary">Restart</button></div>
    <div id="stages"></div><div id="exports"></div><div id="results"></div><h2>Logs</h2><div id="logs"></div>`;
  document.getElementById("abort").onclick = () => api(jobsApi(`/jobs/${jobId}/abort`), { method: "POST" }).then(() => toast("abort requested"), (e) => toast(e.message));
  document.getElementById("restart").onclick = () => api(jobsApi(`/jobs/${jobId}/restart`), { method: "POST" }).then(() => { toast("restarted"); jobView(jobId); }, (e) => toast(e.message));
  const samples = [];
  let current = null, seen = "", changed = Date.now();
  const stallCheck = () => {
    const el = document.getElementById("stall");
    if (!el || el.dataset.view !== view) return clearInterval(timer);  // the page was left or drawn again
    const quiet = Date.now() - changed;
    el.hidden = !current || current.isTerminal || quiet < STALL_MS;
    if (!el.hidden) el.textContent = `No progress for ${Math.floor(quiet / 60000)} min in stage ${current.currentStage || "-"}: `
      + `its tasks may be waiting for a ${machineOf(current)} worker (conveyor stack status; is one running?) `
      + "or stuck. A task silent for SCHEDULER_TASK_STALL_S is dispatched again; abort the job to stop it.";
  };
  const timer = setInterval(stallCheck, 5000);
  if (state.source) state.source.close();  // a restart re-renders this view: one stream at a time
  const src = new EventSource(`${jobsApi(`/jobs/${jobId}/events`)}?api_key=${encodeURIComponent(state.key)}`);
  state.source = src;
  src.addEventListener("job", async (ev) => {
    const job = JSON.parse(ev.data);
    const now = `${job.state}|${job.currentStage}|${job.progress}`;
    if (now !== seen) { seen = now; changed = Date.now(); }
    current = job;
    samples.push([Date.now(), job.progress]);
    const first = samples.find((s) => s[1] > 0) || samples[0];
    const rate = (job.progress - first[1]) / ((Date.now() - first[0]) / 1000 || 1);
    const eta = job.isTerminal ? "done" : rate > 0 ? `${Math.ceil((1 - job.progress) / rate)} s left` : "estimating…";
    document.getElementById("live").innerHTML = `<div class="row"><div>${badge(job.state)}</div>
      <div style="flex:1">${bar(job.progress)}</div><div><b id="pct">${Math.round(job.progress * 100)}%</b></div>
      <div id="eta" class="muted">ETA: ${esc(eta)}</div></div>
      <p class="muted">stage ${esc(job.currentStage || "-")} · runtime ${(job.runtimeSeconds || 0).toFixed(1)} s · billed
      ${Object.entries(job.billedMachineHours || {}).map(([m, h]) => `${esc(m)} ${(+h).toFixed(4)} h`).join(", ") || "0 h"}
      ${job.reason ? ` · <span class="error-text">${esc(job.reason)}</span>` : ""}</p>`;
    document.getElementById("abort").disabled = job.isTerminal;
    document.getElementById("restart").disabled = !["failed", "aborted"].includes(job.state);
    stallCheck();
    await jobDetails(jobId, job);
    if (job.isTerminal) src.close();
  });
  src.onerror = () => { if (src.readyState === EventSource.CLOSED) toast("live updates stopped; reload to resume"); };
}

async function jobDetails(jobId, job) {
  const { stages } = await api(jobsApi(`/jobs/${jobId}/stages`));
  const byStage = {};
  const parts = await Promise.all(stages.map(async (s) => {
    const tasks = await pages(jobsApi(`/jobs/${jobId}/stages/${s.processingStageId}/tasks`), "tasks", { pageSize: 500 });
    byStage[s.processingStageId] = tasks;
    return `<h2>Stage ${esc(s.processingStageName)} ${badge(s.statusType)} <span class="muted">→ ${esc(s.outputBatches.join(", "))}</span></h2>` +
      table(["task", "state", "progress", "files", "updated"], tasks.map((t) => [esc(t.taskId), badge(t.notification.state || t.statusType),
        bar(t.progress), `${t.notification.filesProcessed ?? ""}/${t.notification.filesCount ?? ""}${t.notification.filesFailed ? ` (${t.notification.filesFailed} failed)` : ""}`,
        when(t.eventTimestamp)]));
  }));
  document.getElementById("stages").innerHTML = parts.join("");
  await jobResults(jobId, job, byStage.processing || []);
  if (job.state === "succeeded") {
    const files = await pages(staging(`/batches/${jobId}-export/list`), "filesMetadata", { partName: "archives" });
    document.getElementById("exports").innerHTML = `<h2>Export</h2>` + table(["archive", "download"],
      files.map((f) => [esc(f.fileName), `<a class="download" href="${esc(f.downloadURL)}">download</a>`]));
  }
  const { logs } = await api(jobsApi(`/jobs/${jobId}/logs`), { params: { pageSize: 200 } });
  document.getElementById("logs").innerHTML = table(["time", "severity", "event", "details"], logs.map((l) =>
    [when(l.createdAt), badge(l.severity), esc(l.logType), `<code>${esc(JSON.stringify(l.payload || {}))}</code>`]));
}

// ---------- batches ----------
async function batchesView() {
  const batches = await pages(staging("/batches"), "batches", { pageSize: 100 });
  $view.innerHTML = `<h1>Batches</h1>` + table(["batch", "type", "content", "files", "refused", "created", "expires"],
    batches.map((b) => [esc(b.batchId), esc(b.batchType), esc(b.batchContentType), esc(b.filesCount ?? ""),
      b.refusedCount ? `<span class="error-text">${esc(b.refusedCount)}</span>` : "0", when(b.createdDate),
      when(b.expiryDate)]),
    (i) => { location.hash = `#/batches/${batches[i].batchId}`; });
}

async function batchView(batchId) {
  const [{ batch }, { count }, shards, files] = await Promise.all([api(staging(`/batches/${batchId}`)),
    api(staging(`/batches/${batchId}/count`)), pages(staging(`/batches/${batchId}/shards`), "shards"),
    api(staging(`/batches/${batchId}/list`), { params: { pageSize: 100 } })]);
  const failed = await Promise.all(shards.filter((s) => (s.statusMetadata || {}).failedObjectsCount).map((s) =>
    api(staging(`/batches/${batchId}/shards/${s.shardId}/failed-files`)).then((r) => r.failedFiles)));
  const settled = shards.filter((s) => s.statusType !== "info").length;
  const refused = shards.reduce((n, s) => n + ((s.statusMetadata || {}).failedObjectsCount || 0), 0);
  $view.innerHTML = `<h1>Batch ${esc(batchId)}</h1><p class="muted">${esc(batch.batchContentType)} · ${count} files ·
    expires ${when(batch.expiryDate)}</p><div class="card row" id="ingest"><div style="flex:1">${bar(shards.length ? settled / shards.length : 1)}</div>
    <div><b>${settled} of ${shards.length} shards indexed</b> · ${count} files staged, ${refused} refused</div></div><h2>Ingest shards</h2>` +
    table(["shard", "status", "objects", "details", "at"], shards.map((s) => [esc(s.shardId), badge(s.statusType),
      s.shardObjectsCount, `<code>${esc(JSON.stringify(s.statusMetadata || {}))}</code>`, when(s.eventTimestamp)])) +
    `<h2>Failed files</h2>` + table(["file", "type", "reason"], failed.flat().map((f) => [esc(f.fileName), esc(f.type), esc(f.reason)])) +
    `<h2>Files</h2>` + table(["file", "part", "type"], files.filesMetadata.map((f) =>
      [`<a href="${esc(f.downloadURL)}">${esc(f.fileName)}</a>`, esc(f.partName || ""), esc(f.contentType)])) +
    (files.nextPageToken ? `<p class="muted">first 100 of ${count} shown</p>` : "");
}

// ---------- registry ----------
async function workflowsView() {
  const workflows = await pages(`/${state.ws}/workflows`, "workflows");
  $view.innerHTML = `<h1>Workflows</h1>` + table(["workflow", "updated"], workflows.map((w) => [esc(w.id), when(w.updatedAt)]),
    (i) => { document.getElementById("wid").value = workflows[i].id; document.getElementById("spec").value =
      JSON.stringify(JSON.parse(workflows[i].config).specification, null, 2); }) +
    `<div class="card"><h2>Save a workflow</h2><label>Workflow id <input id="wid"></label>
     <label>Specification (Roboflow Workflows JSON) <textarea id="spec"></textarea></label><button id="save">Save</button></div>`;
  document.getElementById("save").onclick = async () => {
    try {
      const id = document.getElementById("wid").value.trim();
      await api(`/${state.ws}/workflows/${encodeURIComponent(id)}`, { method: "PUT",
        body: { specification: JSON.parse(document.getElementById("spec").value) } });
      toast(`saved ${id}`); workflowsView();
    } catch (err) { toast(err.message); }
  };
}

async function modelsView() {
  const { models } = await api(`/${state.ws}/models`);
  $view.innerHTML = `<h1>Models</h1><p class="muted">Register ONNX models with <code>conveyor models put</code>.</p>` +
    table(["model", "task", "layout", "input", "classes"], models.map((m) => [esc(m.modelId), esc(m.task), esc(m.layout || ""),
      esc(m.inputSize || ""), esc((m.classNames || []).length)]));
}

async function webhooksView() {
  const base = `/notifications/v1/${state.ws}`;
  const [deliveries, signing] = await Promise.all([pages(`${base}/deliveries`, "deliveries", { pageSize: 100 }),
    api(`${base}/signing-secret`)]);
  const secretCard = (s) => `<div class="card" id="signing"><h2>Signing secret</h2><p>Verify webhooks with
    <code id="secret">${esc(s.secret)}</code></p>${s.previousSecretValidUntil ? `<p>The previous secret also signs
    until ${when(s.previousSecretValidUntil)}.</p>` : ""}<button id="rotate">Rotate</button></div>`;
  const dead = deliveries.filter((d) => d.status === "dead").length;
  $view.innerHTML = `<h1>Webhooks</h1>` + secretCard(signing) + `<h2>Deliveries</h2>` +
    (dead ? `<p id="dead-letters">${dead} dead letter${dead > 1 ? "s" : ""}: every attempt of the retry schedule
      failed. <button id="redeliver-dead">Redeliver all</button></p>` : "") +
    table(["event", "subject", "url", "status", "attempts", "last result", "created"],
    deliveries.map((d) => [esc(d.category), esc(`${d.subjectKind} ${d.subjectId}`), esc(d.url), badge(d.status),
      `${d.attempts}/${d.maxAttempts}`, esc(d.lastError || d.lastStatusCode || ""), when(d.createdAt)]));
  document.getElementById("rotate").onclick = () => api(`${base}/signing-secret/rotate`, { method: "POST" })
    .then(() => { toast("secret rotated: the previous one signs beside it for a day"); webhooksView(); },
      (e) => toast(e.message));
  const redeliver = document.getElementById("redeliver-dead");
  if (redeliver) redeliver.onclick = () => api(`${base}/deliveries/redeliver`, { method: "POST", params: { status: "dead" } })
    .then((a) => { toast(`${a.redelivered} redelivered`); webhooksView(); }, (e) => toast(e.message));
}

async function keysView() {
  const { keys } = await api(`/${state.ws}/api-keys`);
  $view.innerHTML = `<h1>API keys</h1><form id="newkey" class="card row"><label>Scope <select name="scope">
      <option value="read">read: list, read, download</option><option value="trigger">trigger: also stage data and run jobs</option>
      <option value="admin">admin: also workflows, models, keys</option></select></label>
      <label>Label <input name="label" size="20"></label><button type="submit">Make key</button></form>
    <p id="madekey" hidden>Copy it now, it is not shown again: <code id="newsecret"></code></p>` +
    table(["prefix", "scope", "label", "created", "last used", "revoked", ""], keys.map((k) => [
      `<code>${esc(k.prefix)}...</code>`, esc(k.scope), esc(k.label), when(k.createdAt), when(k.lastUsedAt),
      when(k.revokedAt), k.revokedAt ? "" : `<button class="revoke" data-id="${esc(k.keyId)}">Revoke</button>`]));
  document.getElementById("newkey").onsubmit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const made = await api(`/${state.ws}/api-keys`, { method: "POST", body: { scope: f.get("scope"), label: f.get("label") } });
      await keysView();
      document.getElementById("newsecret").textContent = made.key;
      document.getElementById("madekey").hidden = false;
    } catch (err) { toast(err.message); }
  };
  document.querySelectorAll("button.revoke").forEach((b) => { b.onclick = () => api(`/${state.ws}/api-keys/${b.dataset.id}`,
    { method: "DELETE" }).then(() => { toast("key revoked"); keysView(); }, (err) => toast(err.message)); });
}

// ---------- routing ----------
const routes = [[/^#\/jobs\/([^/]+)$/, jobView], [/^#\/jobs$/, jobsView], [/^#\/batches\/([^/]+)$/, batchView],
  [/^#\/batches$/, batchesView], [/^#\/workflows$/, workflowsView], [/^#\/models$/, modelsView], [/^#\/webhooks$/, webhooksView],
  [/^#\/keys$/, keysView]];

async function route() {
  if (state.source) { state.source.close(); state.source = null; }
  if (!state.key) return signIn();
  if (!state.ws) {
    try { state.ws = (await api("/")).workspace; } catch (err) { state.key = ""; localStorage.removeItem("conveyor.apiKey"); return signIn(err.message); }
  }
  document.getElementById("nav").hidden = false;
  document.getElementById("who").innerHTML = `workspace <b>${esc(state.ws)}</b> · <a href="#" id="out">sign out</a>`;
  document.getElementById("out").onclick = () => { localStorage.removeItem("conveyor.apiKey"); state.key = ""; state.ws = ""; };
  const hash = location.hash || "#/jobs";
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", hash.startsWith(a.getAttribute("href"))));
  const [re, view] = routes.find(([r]) => r.test(hash)) || routes[1];
  try { await view(...(hash.match(re) || []).slice(1).map(decodeURIComponent)); } catch (err) { $view.innerHTML = `<p class="error-text">${esc(err.message)}</p>`; }
}

// one view at a time, in order: a view still loading when the next navigation starts would otherwise draw over it
let routing = Promise.resolve();
function navigate() { routing = routing.then(route, route); return routing; }

window.addEventListener("hashchange", navigate);
navigate();
