// Results of a job, drawn in the browser from its rows (no saved visualisation needed): a gallery of thumbnails
// with their detections, filtered by class and confidence, a page at a time; the full image on a click; per-class
// counts, a confidence histogram and files per second over time. Loaded before app.js, which calls jobResults().
"use strict";

const PAGE = 48;  // thumbnails drawn at once: a 1,000-image job is 21 pages, never a thousand canvases
const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];

function csvRows(text) {  // RFC 4180: quoted fields, "" inside quotes
  const rows = []; let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") { if (c === "\r" && text[i + 1] === "\n") i++; row.push(field); rows.push(row); row = []; field = ""; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [head, ...body] = rows;
  return body.filter((r) => r.length === head.length).map((r) => Object.fromEntries(head.map((h, i) => {
    try { return [h, /^[[{]/.test(r[i]) ? JSON.parse(r[i]) : r[i]]; } catch { return [h, r[i]]; }
  })));
}

function detectionsOf(row) {  // the first output that holds Roboflow-shaped detections
  for (const value of Object.values(row)) {
    if (value && Array.isArray(value.predictions) && value.image && value.predictions.every((p) => "width" in p)) return value;
  }
  return null;
}

async function resultRows(jobId) {
  const files = await pages(staging(`/batches/${jobId}-processing/list`), "filesMetadata", { partName: "results" });
  const texts = await Promise.all(files.map((f) => fetch(f.downloadURL).then((r) => r.text())));
  return texts.flatMap((text, i) => (files[i].fileName.endsWith(".csv") ? csvRows(text)
    : text.split("\n").filter(Boolean).map((line) => JSON.parse(line))));
}

function colourOf(cls, classes) { return COLOURS[classes.indexOf(cls) % COLOURS.length]; }

function draw(canvas, img, found, classes, width, labels) {
  const scale = width / img.naturalWidth;
  canvas.width = width; canvas.height = Math.round(img.naturalHeight * scale);
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  const sx = canvas.width / found.image.width, sy = canvas.height / found.image.height;
  g.lineWidth = Math.max(1.5, width / 300); g.font = `${Math.max(11, width / 60)}px sans-serif`;
  for (const d of found.shown) {
    g.strokeStyle = g.fillStyle = colourOf(d.class, classes);
    g.strokeRect((d.x - d.width / 2) * sx, (d.y - d.height / 2) * sy, d.width * sx, d.height * sy);
    if (labels) g.fillText(`${d.class} ${d.confidence.toFixed(2)}`, (d.x - d.width / 2) * sx + 2, (d.y - d.height / 2) * sy - 3);
  }
}

function svgBars(id, entries, unit) {  // a bar chart: one <rect class="bar"> per entry, labelled below
  const max = Math.max(1, ...entries.map(([, v]) => v)), w = Math.max(18, Math.floor(560 / Math.max(1, entries.length)));
  const bars = entries.map(([label, v], i) => {
    const h = Math.round((v / max) * 120);
    return `<g><rect class="bar" data-label="${esc(label)}" data-value="${v}" x="${i * w + 4}" y="${130 - h}" width="${w - 6}" height="${h}"><title>${esc(label)}: ${v}${unit}</title></rect>` +
      `<text x="${i * w + w / 2}" y="146" text-anchor="middle">${esc(String(label).slice(0, 8))}</text></g>`;
  }).join("");
  return `<svg id="${id}" class="chart" viewBox="0 0 ${Math.max(580, entries.length * w + 10)} 152">${bars}</svg>`;
}

async function jobResults(jobId, job, tasks) {
  const target = document.getElementById("results");
  if (!target || target.dataset.job === `${jobId}:${job.state}`) return;  // drawn once per state
  target.dataset.job = `${jobId}:${job.state}`;
  const charts = `<div class="row charts"><div class="card"><h2>Files per second</h2>${svgBars("throughput", throughputOf(tasks), " files/s")}</div>
    <div class="card"><h2>Failed files per second</h2>${svgBars("failures", throughputOf(tasks, true), " failed/s")}</div></div>`;
  if (!job.isTerminal) { target.innerHTML = charts; return; }
  const rows = await resultRows(jobId);
  if (job.jobDefinition.type === "simple-video-processing-v1") { videoResults(target, rows, charts); return; }
  const inputs = await pages(staging(`/batches/${job.jobDefinition.jobInput.batchId}/list`), "filesMetadata", { pageSize: 1000 });
  const urls = Object.fromEntries(inputs.map((f) => [f.fileName, f.downloadURL]));
  const items = rows.map((r) => ({ name: r.image, found: detectionsOf(r) })).filter((r) => r.found && urls[r.name]);
  const all = items.flatMap((r) => r.found.predictions);
  const classes = [...new Set(all.map((d) => d.class))].sort();
  target.innerHTML = `<h2>Results <span class="muted">${items.length} images, ${all.length} detections</span></h2>
    ${detectionCharts(all, classes)}${charts}
    <div class="row"><label>Class <select id="cls"><option value="">every class</option>${classes.map((c) => `<option>${esc(c)}</option>`).join("")}</select></label>
    <label>Confidence at least <input id="conf" type="range" min="0" max="1" step="0.05" value="0"><span id="confv">0.00</span></label>
    <div id="pager"></div></div><div id="gallery" class="gallery"></div><div id="zoom" class="zoom" hidden></div>`;
  let page = 0;
  const filtered = () => {
    const cls = document.getElementById("cls").value, conf = +document.getElementById("conf").value;
    return items.map((r) => ({ ...r, found: { ...r.found, shown: r.found.predictions.filter((d) => (!cls || d.class === cls) && d.confidence >= conf) } }))
      .filter((r) => !cls || r.found.shown.length);
  };
  const render = () => {
    const list = filtered(), pagesCount = Math.max(1, Math.ceil(list.length / PAGE));
    page = Math.min(page, pagesCount - 1);
    document.getElementById("confv").textContent = (+document.getElementById("conf").value).toFixed(2);
    document.getElementById("pager").innerHTML = `<button class="secondary" id="prev" ${page ? "" : "disabled"}>‹</button>
      <span id="pageno">page ${page + 1} of ${pagesCount}</span><button class="secondary" id="next" ${page + 1 < pagesCount ? "" : "disabled"}>›</button>`;
    document.getElementById("prev").onclick = () => { page--; render(); };
    document.getElementById("next").onclick = () => { page++; render(); };
    const shown = list.slice(page * PAGE, (page + 1) * PAGE);
    const gallery = document.getElementById("gallery");
    gallery.innerHTML = shown.map((r, i) => `<figure class="thumb" data-image="${esc(r.name)}" data-boxes="${r.found.shown.length}" data-i="${i}" data-src="${esc(urls[r.name])}">
      <canvas></canvas><figcaption>${esc(r.name)} · ${r.found.shown.length}</figcaption></figure>`).join("");
    gallery.querySelectorAll("figure").forEach((fig) => {
      const r = shown[+fig.dataset.i], img = new Image();
      img.onload = () => { draw(fig.querySelector("canvas"), img, r.found, classes, 220, false); fig.dataset.drawn = "1"; };
      img.src = urls[r.name];
      fig.onclick = () => {
        const zoom = document.getElementById("zoom");
        zoom.hidden = false;
        zoom.innerHTML = `<div class="card"><p><b>${esc(r.name)}</b> · ${r.found.shown.length} detections <button class="secondary" id="close">close</button></p><canvas id="full"></canvas></div>`;
        document.getElementById("close").onclick = () => { zoom.hidden = true; };
        draw(document.getElementById("full"), img, r.found, classes, Math.min(1100, img.naturalWidth), true);
      };
    });
  };
  document.getElementById("cls").onchange = () => { page = 0; render(); };
  document.getElementById("conf").oninput = () => { page = 0; render(); };
  render();
}

function detectionCharts(all, classes) {  // per class and by confidence, over every row of the job
  const counts = classes.map((c) => [c, all.filter((d) => d.class === c).length]);
  const bins = Array.from({ length: 10 }, (_, i) => [`${(i / 10).toFixed(1)}`, all.filter((d) => Math.min(9, Math.floor(d.confidence * 10)) === i).length]);
  return `<div class="row charts"><div class="card"><h2>Detections per class</h2>${svgBars("per-class", counts, "")}</div>
    <div class="card"><h2>Confidence</h2>${svgBars("confidence", bins, "")}</div></div>`;
}

const FRAMES_LISTED = 200;  // a video's frame table lists this many; its chart counts every frame

function videoResults(target, rows, charts) {  // a row per sampled frame: the videos over time, not a gallery
  const frames = rows.filter((r) => r.video).map((r) => ({ video: r.video, n: +r.frame_number, t: +r.frame_timestamp, found: detectionsOf(r) }))
    .sort((a, b) => (a.video < b.video ? -1 : a.video > b.video ? 1 : a.n - b.n));
  const all = frames.flatMap((f) => (f.found ? f.found.predictions : []));
  const classes = [...new Set(all.map((d) => d.class))].sort();
  const videos = [...new Set(frames.map((f) => f.video))];
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const perVideo = videos.map((video, i) => {
    const own = frames.filter((f) => f.video === video);
    const seconds = Math.floor(Math.max(0, ...own.map((f) => f.t))) + 1;
    const timeline = Array.from({ length: seconds }, (_, s) => [`${s}s`, own.filter((f) => Math.floor(f.t) === s)
      .reduce((sum, f) => sum + (f.found ? f.found.predictions.length : 0), 0)]);
    const listed = own.slice(0, FRAMES_LISTED).map((f) => `<tr><td>${f.n}</td><td>${f.t.toFixed(2)} s</td>
      <td>${f.found ? f.found.predictions.length : 0}</td><td>${esc([...new Set((f.found ? f.found.predictions : []).map((d) => d.class))].join(", "))}</td></tr>`).join("");
    return `<div class="card video" data-video="${esc(video)}" data-frames="${own.length}"><h2>${esc(video)} <span class="muted">${plural(own.length, "frame")}</span></h2>
      <h3>Detections per second of video</h3>${svgBars(`timeline-${i}`, timeline, "")}
      <table><thead><tr><th>frame</th><th>time</th><th>detections</th><th>classes</th></tr></thead><tbody>${listed}</tbody></table>
      ${own.length > FRAMES_LISTED ? `<p class="muted">the first ${FRAMES_LISTED} of ${own.length} frames; the export has every one</p>` : ""}</div>`;
  }).join("");
  target.innerHTML = `<h2>Results <span class="muted">${plural(videos.length, "video")}, ${plural(frames.length, "frame")}, ${plural(all.length, "detection")}</span></h2>
    ${detectionCharts(all, classes)}${charts}${perVideo}`;
}

function throughputOf(tasks, failed = false) {  // files finished (or failed) per second, by when each task ended
  const done = tasks.filter((t) => t.notification.state === "succeeded" || t.notification.state === "failed");
  if (!done.length) return [];
  const at = done.map((t) => Date.parse(t.eventTimestamp)), start = Math.min(...at);
  const total = (Math.max(...at) - start) / 1000, step = Math.max(1, Math.ceil(total / 30));
  const buckets = Array.from({ length: Math.floor(total / step) + 1 }, (_, i) => [`${i * step}s`, 0]);
  done.forEach((t, i) => {
    const files = failed ? t.notification.filesFailed : t.notification.filesProcessed;
    buckets[Math.floor((at[i] - start) / 1000 / step)][1] += (files || 0) / step;
  });
  return buckets.map(([label, v]) => [label, Math.round(v * 10) / 10]);
}
