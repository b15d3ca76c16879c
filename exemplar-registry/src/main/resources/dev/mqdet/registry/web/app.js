// The registry's web page: plain JavaScript against the service's own HTTP API (see /openapi.yaml).
// Everything the page shows comes from the API; the only thing it keeps is the token, in sessionStorage.
'use strict';

const state = {
  token: sessionStorage.getItem('mqdet-registry-token') || '',
  querySets: [],        // summaries from the API
  localSets: new Set(), // ids typed in "new query set": they exist on the server only once they have a category
  selected: null,       // selected query set id
  categories: [],       // categories of the selected query set
  editor: null,         // {bytes, mediaType, image, scale, box}
  pending: [],          // exemplars waiting to be saved: {data (base64), mediaType, box, image}
  liveAfter: 0,
};

const BOX_COLORS = ['#e53935', '#1e88e5', '#43a047', '#fb8c00', '#8e24aa', '#00897b'];
const $ = (id) => document.getElementById(id);

// ---- HTTP ------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : 'HTTP ' + status);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({ 'X-Client-Name': 'web' }, extraHeaders || {});
  if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Images are fetched with the token (reads may need it) and shown from blob: URLs.
const imageCache = new Map();
function loadImage(url) {
  if (!imageCache.has(url)) {
    const headers = state.token ? { 'Authorization': 'Bearer ' + state.token } : {};
    imageCache.set(url, fetch(url, { headers })
      .then((r) => { if (!r.ok) throw new Error('image ' + url + ': HTTP ' + r.status); return r.blob(); })
      .then(blobToImage)
      .catch((e) => { imageCache.delete(url); throw e; }));
  }
  return imageCache.get(url);
}

function blobToImage(blob) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('not an image'));
    img.src = URL.createObjectURL(blob);
  });
}

// ---- status line -----------------------------------------------------------------------------------------

function showOk(message) {
  const s = $('status');
  s.className = 'ok';
  s.textContent = message;
}

function showError(error) {
  const s = $('status');
  s.className = 'error';
  const errors = error.problem && error.problem.errors;
  // With field errors the list says it all; the detail would repeat the first one.
  s.textContent = errors && errors.length ? error.problem.title + ':' : error.message;
  if (errors && errors.length) {
    const ul = document.createElement('ul');
    for (const e of errors) {
      const li = document.createElement('li');
      li.className = 'field-error';
      li.textContent = e.field + ': ' + e.message;
      ul.appendChild(li);
    }
    s.appendChild(ul);
  }
}

async function guarded(action) {
  try {
    await action();
  } catch (e) {
    showError(e);
  }
}

// ---- query sets ------------------------------------------------------------------------------------------

async function refreshSets() {
  const data = await api('GET', '/api/query-sets');
  state.querySets = data.querySets;
  const ids = new Set(state.querySets.map((s) => s.querySetId));
  for (const id of state.localSets) if (ids.has(id)) state.localSets.delete(id);
  const list = $('query-sets');
  list.replaceChildren();
  const entries = state.querySets.map((s) => ({ id: s.querySetId, text: s.querySetId + ' (' + s.categories + ')' }))
    .concat([...state.localSets].map((id) => ({ id, text: id + ' (new)' })));
  for (const entry of entries) {
    const li = document.createElement('li');
    li.dataset.querySet = entry.id;
    if (entry.id === state.selected) li.className = 'selected';
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = entry.text;
    b.addEventListener('click', () => guarded(() => select(entry.id)));
    li.appendChild(b);
    list.appendChild(li);
  }
}

async function select(id) {
  state.selected = id;
  $('set-panel').hidden = false;
  $('set-title').textContent = id;
  await refreshSelected();
  await refreshSets();
}

async function refreshSelected() {
  if (!state.selected) return;
  try {
    const set = await api('GET', '/api/query-sets/' + encodeURIComponent(state.selected));
    state.categories = set.categories;
  } catch (e) {
    if (e.status !== 404) throw e;
    state.categories = []; // a new query set: nothing saved yet
  }
  renderCategories();
}

function renderCategories() {
  const container = $('categories');
  container.replaceChildren();
  if (!state.categories.length) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = 'No categories yet: add one below.';
    container.appendChild(p);
  }
  for (const c of state.categories) {
    const div = document.createElement('div');
    div.className = 'category';
    div.dataset.categoryId = c.categoryId;
    const h = document.createElement('h3');
    h.textContent = c.categoryId + (c.label ? ' — ' + c.label : ' (vision only)')
        + (c.scoreThreshold != null ? '  · threshold ' + c.scoreThreshold.toFixed(2) : '') + '  · rev ' + c.revision;
    div.appendChild(h);
    div.appendChild(crops(c, c.exemplars, 'exemplars'));
    if (c.negatives && c.negatives.length) {
      const label = document.createElement('p');
      label.className = 'hint';
      label.textContent = 'Not this (negative exemplars):';
      div.appendChild(label);
      div.appendChild(crops(c, c.negatives, 'negatives'));
    }
    const edit = document.createElement('button');
    edit.type = 'button';
    edit.textContent = 'Add exemplars';
    edit.addEventListener('click', () => {
      $('category-id').value = c.categoryId;
      $('category-label').value = c.label || '';
      $('category-threshold').value = c.scoreThreshold != null ? c.scoreThreshold : '';
      $('exemplar-file').focus();
    });
    div.appendChild(edit);
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger delete-category';
    del.textContent = 'Delete category';
    del.addEventListener('click', () => guarded(async () => {
      if (!confirm('Delete category ' + c.categoryId + '?')) return;
      await api('DELETE', categoryPath(c.categoryId));
      showOk('Deleted category ' + c.categoryId);
      await refreshSelected();
      await refreshSets();
    }));
    div.appendChild(del);
    container.appendChild(div);
  }
}

// One row of exemplar crops with their remove buttons; kind is 'exemplars' or 'negatives' (the API's path).
function crops(c, exemplars, kind) {
  const row = document.createElement('div');
  row.className = 'crops ' + kind;
  for (const e of exemplars) {
    const box = document.createElement('div');
    box.className = 'crop-box';
    const canvas = document.createElement('canvas');
    canvas.className = 'crop';
    canvas.dataset.exemplarId = e.exemplarId;
    canvas.title = e.exemplarId + ' [' + [e.box.x1, e.box.y1, e.box.x2, e.box.y2].map(Math.round).join(', ') + ']';
    box.appendChild(canvas);
    loadImage(e.imageUrl).then((img) => drawCrop(canvas, img, e.box)).catch(showError);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-exemplar';
    remove.textContent = 'remove';
    remove.addEventListener('click', () => guarded(async () => {
      await api('DELETE', categoryPath(c.categoryId) + '/' + kind + '/' + encodeURIComponent(e.exemplarId));
      showOk('Removed ' + (kind === 'negatives' ? 'negative exemplar ' : 'exemplar ') + e.exemplarId);
      await refreshSelected();
    }));
    box.appendChild(remove);
    row.appendChild(box);
  }
  return row;
}

function categoryPath(categoryId) {
  return '/api/query-sets/' + encodeURIComponent(state.selected) + '/categories/' + encodeURIComponent(categoryId);
}

/** Draws the box's region of img into canvas, at most 96 px on its longer side. */
function drawCrop(canvas, img, box) {
  const w = Math.max(1, box.x2 - box.x1);
  const h = Math.max(1, box.y2 - box.y1);
  const scale = 96 / Math.max(w, h);
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(h * scale));
  canvas.getContext('2d').drawImage(img, box.x1, box.y1, w, h, 0, 0, canvas.width, canvas.height);
  canvas.dataset.drawn = 'true';
}

// ---- exemplar editor: load an image, drag a box ---------------------------------------------------------

async function onFileChosen() {
  const file = $('exemplar-file').files[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const image = await blobToImage(file);
  const canvas = $('editor-canvas');
  const scale = Math.min(1, 480 / image.naturalWidth);
  canvas.width = Math.round(image.naturalWidth * scale);
  canvas.height = Math.round(image.naturalHeight * scale);
  state.editor = { bytes, mediaType: file.type || null, image, scale, box: null };
  drawEditor();
}

function drawEditor() {
  const ed = state.editor;
  const canvas = $('editor-canvas');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  $('box-text').textContent = 'none';
  $('add-pending').disabled = true;
  if (!ed) return;
  ctx.drawImage(ed.image, 0, 0, canvas.width, canvas.height);
  if (ed.box) {
    ctx.strokeStyle = BOX_COLORS[0];
    ctx.lineWidth = 2;
    const b = ed.box;
    ctx.strokeRect(b.x1 * ed.scale, b.y1 * ed.scale, (b.x2 - b.x1) * ed.scale, (b.y2 - b.y1) * ed.scale);
  }
  $('box-text').textContent = ed.box ? [ed.box.x1, ed.box.y1, ed.box.x2, ed.box.y2].map(Math.round).join(', ') : 'none';
  $('add-pending').disabled = !ed.box;
}

/** Mouse position in image pixels, clamped to the image. */
function imagePoint(event) {
  const canvas = $('editor-canvas');
  const rect = canvas.getBoundingClientRect();
  const ed = state.editor;
  // clientLeft/clientWidth leave the border out, so the canvas's own pixels map exactly to image pixels.
  const x = (event.clientX - rect.left - canvas.clientLeft) * (canvas.width / canvas.clientWidth) / ed.scale;
  const y = (event.clientY - rect.top - canvas.clientTop) * (canvas.height / canvas.clientHeight) / ed.scale;
  return {
    x: Math.min(Math.max(0, x), ed.image.naturalWidth),
    y: Math.min(Math.max(0, y), ed.image.naturalHeight),
  };
}

function wireEditor() {
  const canvas = $('editor-canvas');
  let start = null;
  canvas.addEventListener('mousedown', (e) => {
    if (!state.editor) return;
    start = imagePoint(e);
    e.preventDefault();
  });
  const update = (e) => {
    if (!start) return;
    const p = imagePoint(e);
    state.editor.box = {
      x1: Math.round(Math.min(start.x, p.x)), y1: Math.round(Math.min(start.y, p.y)),
      x2: Math.round(Math.max(start.x, p.x)), y2: Math.round(Math.max(start.y, p.y)),
    };
    if (state.editor.box.x2 <= state.editor.box.x1 || state.editor.box.y2 <= state.editor.box.y1) state.editor.box = null;
    drawEditor();
  };
  canvas.addEventListener('mousemove', update);
  window.addEventListener('mouseup', (e) => { if (start) { update(e); start = null; } });
}

function addPending() {
  const ed = state.editor;
  if (!ed || !ed.box) return;
  state.pending.push({ data: toBase64(ed.bytes), mediaType: ed.mediaType, box: Object.assign({}, ed.box), image: ed.image });
  state.editor = null;
  $('exemplar-file').value = '';
  drawEditor();
  renderPending();
}

function renderPending() {
  const container = $('pending');
  container.replaceChildren();
  state.pending.forEach((p, i) => {
    const box = document.createElement('div');
    box.className = 'crop-box pending-exemplar';
    const canvas = document.createElement('canvas');
    canvas.className = 'crop';
    drawCrop(canvas, p.image, p.box);
    box.appendChild(canvas);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'drop';
    remove.addEventListener('click', () => { state.pending.splice(i, 1); renderPending(); });
    box.appendChild(remove);
    container.appendChild(box);
  });
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function saveCategory() {
  if (!state.selected) throw new Error('choose or create a query set first');
  const categoryId = $('category-id').value.trim();
  const labelText = $('category-label').value.trim();
  const label = labelText === '' ? null : labelText;
  const thresholdText = $('category-threshold').value.trim();
  // sent as typed: the registry checks the range and answers with a field error
  const scoreThreshold = thresholdText === '' ? null : Number(thresholdText);
  const exemplars = state.pending.map((p) => ({ image: { data: p.data, mediaType: p.mediaType }, box: p.box }));
  const existing = state.categories.find((c) => c.categoryId === categoryId);
  if (!existing) {
    await api('PUT', categoryPath(categoryId), { label, exemplars, scoreThreshold }, { 'If-None-Match': '*' });
    showOk('Created category ' + categoryId + ' with ' + exemplars.length + ' exemplar(s)');
  } else {
    if ((existing.label || null) !== label) await api('PATCH', categoryPath(categoryId), { label });
    if ((existing.scoreThreshold ?? null) !== scoreThreshold) await api('PATCH', categoryPath(categoryId), { scoreThreshold });
    if (exemplars.length) await api('POST', categoryPath(categoryId) + '/exemplars', { exemplars });
    showOk('Updated category ' + categoryId);
  }
  state.pending = [];
  renderPending();
  await refreshSelected();
  await refreshSets();
}

// ---- live view -------------------------------------------------------------------------------------------

async function pollLive() {
  try {
    const data = await api('GET', '/api/live/detections?after=' + state.liveAfter);
    state.liveAfter = data.last;
    for (const event of data.events) await showLiveEvent(event);
  } catch (e) {
    if (e.status === 404) { $('live-panel').hidden = true; return; } // live view disabled on this service
  }
  setTimeout(pollLive, 1000);
}

async function showLiveEvent(event) {
  const div = document.createElement('div');
  div.className = 'live-event';
  div.dataset.eventId = event.eventId;
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = event.eventId + ' · ' + event.querySetId + ' v' + event.querySetVersion + ' · ' + event.modelId + ' · '
    + event.detections.length + ' detection(s)';
  div.appendChild(meta);
  const canvas = document.createElement('canvas');
  canvas.width = event.imageWidth;
  canvas.height = event.imageHeight;
  div.appendChild(canvas);
  const live = $('live');
  live.prepend(div);
  while (live.children.length > 20) live.lastChild.remove();

  const ctx = canvas.getContext('2d');
  if (event.imageUrl) {
    try {
      ctx.drawImage(await loadImage(event.imageUrl), 0, 0, canvas.width, canvas.height);
    } catch (e) {
      ctx.fillStyle = '#ddd';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
  } else {
    ctx.fillStyle = '#ddd';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  const categories = [...new Set(event.detections.map((d) => d.categoryId))];
  ctx.lineWidth = 3;
  ctx.font = '14px sans-serif';
  for (const d of event.detections) {
    const color = BOX_COLORS[categories.indexOf(d.categoryId) % BOX_COLORS.length];
    ctx.strokeStyle = color;
    ctx.strokeRect(d.box.x1, d.box.y1, d.box.x2 - d.box.x1, d.box.y2 - d.box.y1);
    const text = (d.label || d.categoryId) + ' ' + d.score.toFixed(2);
    ctx.fillStyle = color;
    ctx.fillText(text, d.box.x1 + 3, Math.max(14, d.box.y1 - 4));
  }
  div.dataset.boxes = String(event.detections.length);
  // The same detections as text: readable without the picture, and what a screen reader announces.
  const list = document.createElement('ul');
  list.className = 'live-detections';
  event.detections.forEach((d, index) => {
    const item = document.createElement('li');
    item.dataset.categoryId = d.categoryId;
    const evidence = d.matchedExemplarId ? ' · like ' + d.matchedExemplarId + ' (' + d.similarity.toFixed(3) + ')' : '';
    const text = document.createElement('span');
    text.textContent = (d.label || d.categoryId) + ' ' + d.score.toFixed(2) + ' at '
      + [d.box.x1, d.box.y1, d.box.x2, d.box.y2].map(Math.round).join(',') + evidence;
    item.appendChild(text);
    if (event.hasImage) {
      item.appendChild(feedbackButton(event, index, 'confirm', 'Add as exemplar'));
      item.appendChild(feedbackButton(event, index, 'reject', 'Not this'));
    }
    list.appendChild(item);
  });
  div.appendChild(list);
}

// A person's judgement of a live detection: an ordinary registry write (the write token is needed). Confirm adds
// the detected box as an exemplar of its category, reject as a negative exemplar; the live view holds the image
// only for a while, and the service says so (410) when it has gone.
function feedbackButton(event, index, verdict, title) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'feedback ' + verdict;
  button.dataset.verdict = verdict;
  button.textContent = title;
  button.addEventListener('click', () => guarded(async () => {
    try {
      const result = await api('POST', '/api/query-sets/' + encodeURIComponent(event.querySetId) + '/feedback',
        { eventId: event.eventId, detection: index, verdict });
      button.parentElement.querySelectorAll('button.feedback').forEach((b) => { b.disabled = true; });
      showOk((verdict === 'confirm' ? 'Added exemplar ' : 'Added negative exemplar ') + result.exemplarId + ' to '
        + result.category.categoryId);
      if (state.selected === event.querySetId) await refreshSelected();
    } catch (e) {
      if (e.status === 410) throw new Error('That image has expired from the live view: ' + e.message);
      throw e;
    }
  }));
  return button;
}

// ---- wiring ----------------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('token').value = state.token;
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('mqdet-registry-token', state.token);
    imageCache.clear();
    showOk('Token set');
    guarded(refreshSets);
  });
  $('new-set-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('new-set-id').value.trim();
    state.localSets.add(id);
    $('new-set-id').value = '';
    guarded(() => select(id));
  });
  $('rename-form').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const newId = $('rename-id').value.trim();
      await api('POST', '/api/query-sets/' + encodeURIComponent(state.selected) + '/rename', { newId });
      showOk('Renamed ' + state.selected + ' to ' + newId);
      $('rename-id').value = '';
      await select(newId);
    });
  });
  $('delete-set').addEventListener('click', () => guarded(async () => {
    if (!confirm('Delete query set ' + state.selected + ' and all its categories?')) return;
    await api('DELETE', '/api/query-sets/' + encodeURIComponent(state.selected));
    showOk('Deleted query set ' + state.selected);
    state.selected = null;
    $('set-panel').hidden = true;
    await refreshSets();
  }));
  $('exemplar-file').addEventListener('change', () => guarded(onFileChosen));
  $('add-pending').addEventListener('click', addPending);
  $('category-form').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(saveCategory);
  });
  wireEditor();
  guarded(refreshSets);
  pollLive();
});
