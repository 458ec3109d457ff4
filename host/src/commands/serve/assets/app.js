// Strata's page: the partition grid, the dataset graph, a partition's
// lineage and data, the run history. No dependencies; everything it shows
// comes from the JSON API of `host serve` (/api/openapi.json), and every
// text from the store is inserted as text, never as HTML.
'use strict';

const STATES = ['fresh', 'stale', 'missing', 'damaged', 'failed', 'blocked', 'waiting'];
const COLOURS = {};
const NONE = 255;
// Which state a pixel covering several periods shows: the most severe.
const SEVERITY = STATES.map((s) => ['fresh', 'waiting', 'missing', 'stale', 'blocked', 'damaged', 'failed'].indexOf(s));
const ROW = 24;
const AXIS = 24;

const app = {
  pipeline: null,
  status: null,
  version: 0,
  grid: null,
  filters: { dataset: '', from: '', to: '', hidden: new Set() },
  cell: 0,
  token: sessionStorage.getItem('strata-token') || '',
};
// What tests (and curious people in the console) can ask the page.
window.strata = {
  ready: false,
  version: () => app.version,
  cellRect: (dataset, partition) => app.grid && app.grid.cellRect(dataset, partition),
};

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path, options) {
  const response = await fetch(path, options);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text }; }
  if (!response.ok) {
    const error = new Error((body && body.error) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function showError(message) {
  const el = document.getElementById('error');
  el.hidden = !message;
  el.textContent = message || '';
}

const badge = (state) => h('span', { class: 'badge ' + state, 'data-state': state }, state);
const partitionHref = (dataset, partition) =>
  '#/p/' + dataset + '/' + encodeURIComponent(partition);
const bytes = (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB'
  : (n / 1048576).toFixed(1) + ' MiB';
const when = (t) => t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
const label = (partition) => partition.includes('=') ? partition.split('=').pop() : partition;

// ---------------------------------------------------------------- data

async function loadAll() {
  const [pipeline, status] = await Promise.all([api('/api/pipeline'), api('/api/partitions')]);
  app.pipeline = pipeline;
  app.status = status;
  app.version = pipeline.version;
  app.grid = new GridModel(pipeline, status);
  renderHeader();
  showError(pipeline.error ? 'The last refresh failed; showing the last good view:\n' + pipeline.error : '');
}

function renderHeader() {
  const p = app.pipeline;
  document.getElementById('store').textContent = p.store + ' · ' + p.every;
  const running = document.getElementById('running');
  running.replaceChildren(p.running
    ? h('a', { href: '#/runs' }, 'run ' + p.running.run + ' going')
    : p.last_run ? h('span', {}, 'last run ', badge(p.last_run.status)) : '');
  const actions = document.getElementById('actions');
  actions.replaceChildren();
  if (p.actions) {
    if (app.token) {
      actions.append(h('button', {
        class: 'primary', id: 'run-now', disabled: p.running ? true : null,
        onclick: () => act('/api/actions/run', {}),
      }, 'Run now'));
    } else {
      actions.append(h('span', { class: 'muted' }, 'actions: open the link `host serve` printed'));
    }
  }
}

async function act(path, body) {
  try {
    const r = await api(path, {
      method: 'POST',
      headers: { 'Authorization': 'Bearer ' + app.token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    showError('');
    return r;
  } catch (e) {
    showError(e.message);
    return null;
  }
}

// ---------------------------------------------------------------- live

function connectLive() {
  const live = document.getElementById('live');
  const source = new EventSource('/api/events');
  source.addEventListener('snapshot', async (event) => {
    live.className = 'live on';
    live.textContent = 'live';
    const data = JSON.parse(event.data);
    if (data.version !== app.version) {
      try {
        await loadAll();
        route(true);
      } catch (e) { showError(e.message); }
    }
  });
  source.onerror = () => { live.className = 'live off'; live.textContent = 'reconnecting'; };
}

// ---------------------------------------------------------------- grid

// Every dataset's partitions as one row of state codes over the sorted
// periods of the whole pipeline: 14,600 partitions are a few typed arrays,
// drawn on one canvas, only the columns in view.
class GridModel {
  constructor(pipeline, status) {
    const periods = new Set();
    const byDataset = new Map(pipeline.datasets.map((d) => [d.dataset, []]));
    for (const p of status.partitions) {
      if (p.partition !== 'all') periods.add(p.partition);
      if (!byDataset.has(p.dataset)) byDataset.set(p.dataset, []);
      byDataset.get(p.dataset).push(p);
    }
    this.periods = [...periods].sort();
    const column = new Map(this.periods.map((p, i) => [p, i]));
    this.rows = [];
    for (const [dataset, partitions] of byDataset) {
      const states = new Uint8Array(this.periods.length).fill(NONE);
      const cells = new Array(this.periods.length);
      let whole = null;
      const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
      for (const p of partitions) {
        counts[p.state]++;
        if (p.partition === 'all') { whole = p; continue; }
        const c = column.get(p.partition);
        states[c] = STATES.indexOf(p.state);
        cells[c] = p;
      }
      this.rows.push({ dataset, states, cells, whole, counts });
    }
    this.visible = this.rows;
    this.c0 = 0;
    this.c1 = this.periods.length - 1;
  }

  applyFilters(f) {
    const q = f.dataset.trim().toLowerCase();
    this.visible = this.rows.filter((r) => !q || q.split(',').some((t) => t.trim() && r.dataset.toLowerCase().includes(t.trim())));
    const from = f.from ? 'date=' + f.from : null;
    const to = f.to ? 'date=' + f.to + '~' : null;
    let c0 = 0;
    let c1 = this.periods.length - 1;
    if (from || to) {
      const labels = this.periods.map((p) => 'date=' + label(p));
      while (c0 <= c1 && from && labels[c0] < from) c0++;
      while (c1 >= c0 && to && labels[c1] > to) c1--;
    }
    this.c0 = c0;
    this.c1 = c1;
  }

  columns() { return Math.max(0, this.c1 - this.c0 + 1); }

  counts(hidden) {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const r of this.visible) {
      if (r.whole) counts[r.whole.state]++;
      for (let c = this.c0; c <= this.c1; c++) if (r.states[c] !== NONE) counts[STATES[r.states[c]]]++;
    }
    return counts;
  }

  at(x, y) {
    const row = this.visible[Math.floor((y - AXIS) / ROW)];
    if (!row || y < AXIS) return null;
    if (row.whole) return { row, p: row.whole };
    const c = this.c0 + Math.floor((x + this.view.scrollLeft) / app.cell);
    if (c < this.c0 || c > this.c1 || !row.cells[c]) return null;
    return { row, p: row.cells[c] };
  }

  cellRect(dataset, partition) {
    const r = this.visible.findIndex((row) => row.dataset === dataset);
    if (r < 0 || !this.canvas) return null;
    const row = this.visible[r];
    const box = this.canvas.getBoundingClientRect();
    const y = box.top + AXIS + r * ROW + 3;
    if (row.whole) return { x: box.left, y, w: box.width, h: ROW - 6 };
    const c = this.periods.indexOf(partition);
    if (c < this.c0 || c > this.c1) return null;
    const x = box.left + (c - this.c0) * app.cell - this.view.scrollLeft;
    return { x, y, w: app.cell, h: ROW - 6 };
  }

  draw() {
    const canvas = this.canvas;
    const view = this.view;
    const width = view.clientWidth;
    const height = AXIS + this.visible.length * ROW;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = width + 'px';
      canvas.style.height = height + 'px';
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const cell = app.cell;
    const first = this.c0 + Math.max(0, Math.floor(view.scrollLeft / cell));
    const last = Math.min(this.c1, first + Math.ceil(width / cell) + 1);
    const x0 = (c) => (c - this.c0) * cell - view.scrollLeft;
    // The time axis: a tick and label at each month (or day, zoomed in).
    ctx.fillStyle = '#6b7280';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    let lastLabelX = -1e9;
    for (let c = first; c <= last; c++) {
      const l = label(this.periods[c]);
      const monthStart = l.length >= 10 && l.slice(8, 10) === '01';
      const yearStart = monthStart && l.slice(5, 7) === '01';
      const tick = cell >= 14 ? true : cell >= 3 ? monthStart : yearStart;
      if (!tick) continue;
      const x = x0(c);
      ctx.fillRect(x, AXIS - 6, 1, 6);
      const text = cell >= 14 ? l.slice(5, 10) : cell >= 3 ? l.slice(0, 7) : l.slice(0, 4);
      if (x - lastLabelX > ctx.measureText(text).width + 8) {
        ctx.fillText(text, x + 2, AXIS / 2 - 2);
        lastLabelX = x;
      }
    }
    const gap = cell >= 6 ? 1 : 0;
    this.visible.forEach((row, r) => {
      const y = AXIS + r * ROW + 3;
      if (row.whole) {
        ctx.fillStyle = this.colour(row.whole.state);
        ctx.fillRect(0, y, Math.min(width, this.columns() * cell), ROW - 6);
        return;
      }
      if (cell >= 1) {
        for (let c = first; c <= last; c++) {
          const s = row.states[c];
          if (s === NONE) continue;
          ctx.fillStyle = this.colour(STATES[s]);
          ctx.fillRect(x0(c), y, cell - gap, ROW - 6);
        }
        return;
      }
      // Zoomed out past one pixel a period: each pixel shows the most
      // severe state of the periods it covers, so one failed day in ten
      // years still shows.
      const pixels = Math.min(width, Math.ceil(this.columns() * cell));
      for (let px = 0; px < pixels; px++) {
        const c0 = this.c0 + Math.floor((px + view.scrollLeft) / cell);
        const c1 = Math.min(this.c1, this.c0 + Math.floor((px + 1 + view.scrollLeft) / cell) - 1);
        let worst = NONE;
        for (let c = c0; c <= Math.max(c0, c1); c++) {
          const s = row.states[c];
          if (s !== NONE && (worst === NONE || SEVERITY[s] > SEVERITY[worst])) worst = s;
        }
        if (worst === NONE) continue;
        ctx.fillStyle = this.colour(STATES[worst]);
        ctx.fillRect(px, y, 1, ROW - 6);
      }
    });
  }

  colour(state) {
    return app.filters.hidden.has(state) ? '#eef0f4' : COLOURS[state];
  }
}

// From the whole range in view (periods share pixels) to 32 px a period.
function clampCell(cell, model) {
  const fit = (model.view ? model.view.clientWidth : 1000) / Math.max(1, model.columns());
  const c = Math.max(Math.min(1, fit), Math.min(32, cell));
  return c >= 1 ? Math.round(c) : c;
}

function renderGrid(view) {
  const model = app.grid;
  const f = app.filters;
  model.applyFilters(f);
  const counts = model.counts();
  const legend = h('div', { class: 'legend', id: 'legend' }, STATES.map((s) =>
    h('button', {
      class: f.hidden.has(s) ? 'off' : '', 'data-state': s, title: 'show or hide ' + s,
      onclick: () => { f.hidden.has(s) ? f.hidden.delete(s) : f.hidden.add(s); route(true); },
    }, h('span', { class: 'swatch ' + s }), s, h('span', { class: 'count' }, counts[s]))));
  for (const sw of legend.querySelectorAll('.swatch')) {
    sw.style.background = COLOURS[sw.classList[1]];
  }
  const input = (name, attrs) => h('input', Object.assign({
    value: f[name], 'data-filter': name,
    onchange: (e) => { f[name] = e.target.value; route(true); },
  }, attrs));
  const zoom = (factor) => () => {
    app.cell = clampCell(app.cell * factor, model);
    route(true);
  };
  const toolbar = h('div', { class: 'toolbar' },
    h('label', {}, 'datasets', input('dataset', { placeholder: 'e.g. silver, gold', size: 18 })),
    h('label', {}, 'from', input('from', { type: 'date' })),
    h('label', {}, 'to', input('to', { type: 'date' })),
    h('span', {}, h('button', { onclick: zoom(0.5), title: 'zoom out' }, '−'), ' ',
      h('button', { onclick: zoom(2), title: 'zoom in' }, '+'), ' ',
      h('button', { onclick: () => { app.cell = 0; route(true); } }, 'fit')),
    legend);
  const labels = h('div', { class: 'grid-labels' }, h('div', { class: 'axis-pad muted grid-label' },
    model.columns() + ' periods'));
  for (const row of model.visible) {
    const notFresh = STATES.filter((s) => s !== 'fresh' && row.counts[s])
      .map((s) => row.counts[s] + ' ' + s).join(', ');
    labels.append(h('div', { class: 'grid-label', 'data-dataset': row.dataset, title: row.dataset },
      h('a', { href: '#/graph' }, row.dataset),
      h('span', { class: 'sum' }, notFresh || (row.counts.fresh ? 'all fresh' : ''))));
  }
  const scroll = h('div', { class: 'grid-scroll' });
  const canvas = h('canvas', { id: 'grid-canvas', role: 'img', 'aria-label': 'partition grid' });
  const spacer = h('div', { class: 'grid-spacer' });
  scroll.append(canvas, spacer);
  view.replaceChildren(toolbar, h('div', { class: 'grid' }, labels, scroll),
    h('p', { class: 'muted' }, 'Hover a cell for its state and reason; click it for the partition. ',
      'Ctrl + wheel zooms.'));
  model.canvas = canvas;
  model.view = scroll;
  const width = scroll.clientWidth;
  const previousLeft = app.gridScroll;
  // Fit: every period in view, up to 24 px a period.
  if (!app.cell) app.cell = Math.min(24, width / Math.max(1, model.columns()));
  app.cell = clampCell(app.cell, model);
  spacer.style.width = Math.ceil(model.columns() * app.cell) + 'px';
  // Start at the newest periods, as the terminal grid does.
  scroll.scrollLeft = previousLeft !== undefined ? previousLeft : scroll.scrollWidth;
  model.draw();
  scroll.addEventListener('scroll', () => { app.gridScroll = scroll.scrollLeft; model.draw(); });
  const tooltip = document.getElementById('tooltip');
  canvas.addEventListener('mousemove', (e) => {
    const box = canvas.getBoundingClientRect();
    const hit = model.at(e.clientX - box.left, e.clientY - box.top);
    if (!hit) { tooltip.hidden = true; return; }
    const p = hit.p;
    tooltip.textContent = p.dataset + '  ' + p.partition + '\n' + p.state + ': ' + p.reason +
      (p.failure ? '\n' + p.failure.kind + ', ' + p.failure.attempts + ' attempt(s) since ' + p.failure.since : '');
    tooltip.hidden = false;
    tooltip.style.left = Math.min(e.clientX + 12, window.innerWidth - 470) + 'px';
    tooltip.style.top = e.clientY + 14 + 'px';
  });
  canvas.addEventListener('mouseleave', () => { tooltip.hidden = true; });
  canvas.addEventListener('click', (e) => {
    const box = canvas.getBoundingClientRect();
    const hit = model.at(e.clientX - box.left, e.clientY - box.top);
    if (hit) { tooltip.hidden = true; location.hash = partitionHref(hit.p.dataset, hit.p.partition); }
  });
  canvas.addEventListener('wheel', (e) => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    const box = canvas.getBoundingClientRect();
    const at = (e.clientX - box.left + scroll.scrollLeft) / app.cell;
    app.cell = clampCell(e.deltaY < 0 ? app.cell * 2 : app.cell / 2, model);
    spacer.style.width = Math.ceil(model.columns() * app.cell) + 'px';
    scroll.scrollLeft = at * app.cell - (e.clientX - box.left);
    model.draw();
  }, { passive: false });
  window.onresize = () => model.draw();
}

// ---------------------------------------------------------------- graph

function renderGraph(view) {
  const datasets = app.pipeline.datasets;
  const depth = new Map();
  for (const d of datasets) { // datasets come in dependency order
    depth.set(d.dataset, d.inputs.length ? 1 + Math.max(...d.inputs.map((i) => depth.get(i.dataset) || 0)) : 0);
  }
  const columns = [];
  for (const d of datasets) (columns[depth.get(d.dataset)] ||= []).push(d);
  const W = 230, H = 62, GX = 90, GY = 26, PAD = 30;
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((d, y) => pos.set(d.dataset, { x: PAD + x * (W + GX), y: PAD + 20 + y * (H + GY) })));
  const width = PAD * 2 + columns.length * (W + GX) - GX;
  const height = PAD * 2 + 20 + Math.max(...columns.map((c) => c.length)) * (H + GY);
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, id: 'graph' });
  columns.forEach((col, x) => {
    const layers = [...new Set(col.map((d) => d.layer))].join(' / ');
    root.append(svg('text', { x: PAD + x * (W + GX), y: PAD, class: 'layer' }, layers));
  });
  for (const d of datasets) {
    const to = pos.get(d.dataset);
    for (const i of d.inputs) {
      const from = pos.get(i.dataset);
      if (!from) continue;
      const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2;
      const mx = (x1 + x2) / 2;
      root.append(svg('path', { class: 'edge', d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, 'marker-end': 'url(#arrow)' }));
      const text = i.mapping === 'window' ? 'window ' + i.window : i.mapping;
      root.append(svg('text', { class: 'edge-label', x: mx - 16, y: (y1 + y2) / 2 - 4, 'data-edge': i.dataset + '->' + d.dataset }, text));
    }
  }
  root.prepend(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9aa3b5' }))));
  for (const d of datasets) {
    const { x, y } = pos.get(d.dataset);
    const total = STATES.reduce((n, s) => n + d.counts[s], 0) || 1;
    const node = svg('g', { class: 'node', 'data-dataset': d.dataset, transform: `translate(${x},${y})`,
      onclick: () => { app.filters.dataset = d.dataset; location.hash = '#/'; } });
    node.append(svg('rect', { class: 'box', width: W, height: H, rx: 6 }));
    node.append(svg('text', { x: 10, y: 18, 'font-weight': 600 }, d.dataset));
    node.append(svg('text', { x: 10, y: 34, fill: '#6b7280' },
      d.producer.kind === 'plugin' ? 'plugin ' + (d.producer.file || '') : 'source'));
    let bx = 10;
    for (const s of STATES) {
      const w = (W - 20) * d.counts[s] / total;
      if (w > 0) node.append(svg('rect', { x: bx, y: 44, width: w, height: 8, fill: COLOURS[s], stroke: 'none' },
        svg('title', {}, d.counts[s] + ' ' + s)));
      bx += w;
    }
    root.append(node);
  }
  view.replaceChildren(h('h2', {}, 'Datasets'), h('p', { class: 'muted' },
    'Inputs flow left to right; each edge says which partitions of its input a partition reads. Click a dataset for its partitions.'),
  h('div', { class: 'graph' }, root));
}

// ---------------------------------------------------------------- partition

async function renderPartition(view, dataset, partition) {
  const [layer, name] = dataset.split('/');
  const base = '/api/partitions/' + encodeURIComponent(layer) + '/' + encodeURIComponent(name) + '/' + encodeURIComponent(partition);
  const d = await api(base);
  const parts = [h('h2', { id: 'partition-title' }, dataset + ' ', h('span', { class: 'mono' }, d.partition), ' ', badge(d.state)),
    h('p', { id: 'reason' }, d.reason)];
  if (app.pipeline.actions && app.token) {
    parts.push(h('p', {}, h('button', {
      id: 'invalidate', onclick: async () => {
        const body = { dataset, partition: d.partition, raw: layer === 'raw' };
        if (await act('/api/actions/invalidate', body)) route(true);
      },
    }, 'Invalidate (recompute on the next run)')));
  }
  const f = d.failure_record;
  if (f) {
    parts.push(h('div', { class: 'card failure', id: 'failure' }, h('h3', {}, 'Failure'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'kind'), h('dd', { id: 'failure-kind' }, f.kind),
        h('dt', {}, 'since'), h('dd', {}, f.since),
        h('dt', {}, 'last'), h('dd', {}, f.last),
        h('dt', {}, 'attempts'), h('dd', {}, f.attempts),
        f.quarantine ? [h('dt', {}, 'quarantine'), h('dd', { class: 'mono' }, f.quarantine)] : null),
      h('pre', { id: 'failure-message' }, f.message)));
  }
  const lineage = h('div', { class: 'card', id: 'lineage' }, h('h3', {}, 'Lineage'));
  if (d.reads.length) {
    lineage.append(h('p', { class: 'muted' }, 'Reads now:'));
    const list = h('ul', { id: 'reads' });
    for (const input of d.reads) {
      for (const p of input.partitions) {
        list.append(h('li', {}, h('a', { href: partitionHref(input.dataset, p.partition), 'data-input': input.dataset + ' ' + p.partition },
          input.dataset + ' ' + p.partition), ' ', p.state ? badge(p.state) : ''));
      }
    }
    lineage.append(list);
  } else {
    lineage.append(h('p', { class: 'muted' }, 'Raw data, from its source.'));
  }
  const m = d.manifest;
  if (m && m.inputs.length) {
    lineage.append(h('p', { class: 'muted' }, 'Computed from (content hashes as they were):'));
    lineage.append(h('ul', { id: 'made-from' }, m.inputs.map((i) => h('li', {},
      h('a', { href: partitionHref(i.dataset, i.partition) }, i.dataset + ' ' + i.partition), ' ',
      h('code', {}, i.content_hash.slice(0, 16)), ' ', i.state ? badge(i.state) : ''))));
  }
  parts.push(lineage);
  if (d.manifest_error) parts.push(h('div', { class: 'card failure' }, h('h3', {}, 'Manifest'), h('pre', {}, d.manifest_error)));
  if (m) {
    const producer = m.producer || {};
    const kv = h('dl', { class: 'kv', id: 'manifest' });
    const row = (k, v) => kv.append(h('dt', {}, k), h('dd', {}, v));
    if (producer.kind === 'plugin') {
      row('plugin', h('span', { id: 'plugin' }, producer.name + ' ' + producer.version));
      row('plugin sha256', h('code', {}, producer.sha256));
    } else {
      row('source', producer.source + (producer.fetched ? ', ' + producer.fetched.length + ' file(s) fetched' : ''));
    }
    row('key', h('code', {}, m.key));
    row('content hash', h('code', {}, m.content_hash));
    if (m.rows !== null && m.rows !== undefined) row('rows', m.rows);
    row('written', m.written_at + ' by host ' + m.host_version);
    if (m.invalidated) row('invalidated', m.invalidated);
    if (m.params && Object.keys(m.params).length) row('params', h('pre', {}, JSON.stringify(m.params, null, 2)));
    parts.push(h('div', { class: 'card' }, h('h3', {}, 'Manifest'), kv));
  }
  const checks = (m && m.checks) || [];
  const rejected = d.quarantine ? d.quarantine.checks || [] : [];
  if (checks.length || rejected.length) {
    const table = h('table', { id: 'checks' }, h('tr', {}, ['check', 'severity', 'result', 'violations', 'message', 'samples'].map((t) => h('th', {}, t))));
    const add = (c, where) => table.append(h('tr', {}, h('td', { class: 'mono' }, c.label + where), h('td', {}, c.severity),
      h('td', {}, badge(c.passed ? 'ok' : c.severity === 'warn' ? 'stale' : 'failed')), h('td', { class: 'num' }, c.violations),
      h('td', {}, c.message), h('td', { class: 'mono' }, (c.samples || []).join('; '))));
    checks.forEach((c) => add(c, ''));
    rejected.forEach((c) => add(c, ' (rejected output)'));
    parts.push(h('div', { class: 'card' }, h('h3', {}, 'Checks'), table));
  }
  if (m) {
    parts.push(h('div', { class: 'card' }, h('h3', {}, 'Files'), h('table', { id: 'files' },
      h('tr', {}, h('th', {}, 'file'), h('th', { class: 'num' }, 'size'), h('th', {}, 'sha256')),
      m.files.map((file) => h('tr', {}, h('td', { class: 'mono' }, file.path), h('td', { class: 'num' }, bytes(file.size)),
        h('td', { class: 'mono' }, file.sha256.slice(0, 16) + '…'))))));
  }
  const rowsCard = h('div', { class: 'card', id: 'rows' }, h('h3', {}, 'First rows'));
  parts.push(rowsCard);
  view.replaceChildren(...parts);
  if (m || d.quarantine) {
    try {
      const r = await api(base + '/rows?limit=20' + (m ? '' : '&quarantine=1'));
      if (r.raw) {
        for (const file of r.files) rowsCard.append(h('p', { class: 'mono' }, file.path + ' (' + bytes(file.size) + ')'),
          h('pre', {}, file.head + (file.truncated ? '…' : '')));
      } else {
        rowsCard.append(h('table', {}, h('tr', {}, r.columns.map((c) => h('th', { title: c.type }, c.name))),
          r.rows.map((cells) => h('tr', {}, cells.map((v) => h('td', { class: 'mono' }, v === null ? '∅' : v))))));
        if (!m) rowsCard.append(h('p', { class: 'muted' }, 'The output a blocking check rejected (never published).'));
      }
    } catch (e) { rowsCard.append(h('p', { class: 'muted' }, e.message)); }
  } else {
    rowsCard.append(h('p', { class: 'muted' }, 'No data: ' + d.reason));
  }
}

// ---------------------------------------------------------------- runs

async function renderRuns(view) {
  const runs = await api('/api/runs?limit=100');
  const table = h('table', { id: 'runs' }, h('tr', {}, ['run', 'status', 'started (UTC)', 'duration', 'computed', 'failed', 'blocked']
    .map((t, i) => h('th', { class: i > 2 ? 'num' : '' }, t))));
  for (const r of runs) {
    table.append(h('tr', { 'data-run': r.id }, h('td', { class: 'mono' }, h('a', { href: '#/runs/' + encodeURIComponent(r.id) }, r.id)),
      h('td', {}, badge(r.status)), h('td', {}, when(r.started_at)),
      h('td', { class: 'num' }, r.duration_ms === null || r.duration_ms === undefined ? '–' : (r.duration_ms / 1000).toFixed(1) + 's'),
      h('td', { class: 'num' }, r.counts.computed), h('td', { class: 'num' }, r.counts.failed), h('td', { class: 'num' }, r.counts.blocked)));
  }
  view.replaceChildren(h('h2', {}, 'Runs'), runs.length ? table : h('p', { class: 'muted' }, 'No runs recorded yet.'));
}

async function renderRun(view, id) {
  const r = await api('/api/runs/' + encodeURIComponent(id));
  const parts = [h('h2', {}, 'Run ', h('span', { class: 'mono' }, r.id), ' ', badge(r.status)),
    h('dl', { class: 'kv card' },
      h('dt', {}, 'started'), h('dd', {}, when(r.started_at)),
      h('dt', {}, 'finished'), h('dd', {}, when(r.finished_at)),
      h('dt', {}, 'host'), h('dd', {}, r.machine.hostname + ' (pid ' + r.machine.pid + '), strata ' + r.host_version),
      h('dt', {}, 'options'), h('dd', { class: 'mono' }, JSON.stringify(r.options)),
      r.error ? [h('dt', {}, 'error'), h('dd', {}, h('pre', {}, r.error))] : null,
      r.stopped_by ? [h('dt', {}, 'stopped by'), h('dd', {}, r.stopped_by)] : null)];
  const counts = ['computed', 'checked', 'fresh', 'failed', 'blocked', 'waiting', 'skipped'];
  parts.push(h('h3', {}, 'Datasets'), h('table', {}, h('tr', {}, h('th', {}, 'dataset'), counts.map((c) => h('th', { class: 'num' }, c))),
    r.datasets.map((d) => h('tr', {}, h('td', { class: 'mono' }, d.dataset), counts.map((c) => h('td', { class: 'num' }, d.counts[c]))))));
  const table = h('table', { id: 'run-partitions' }, h('tr', {}, ['dataset', 'partition', 'outcome', 'reason', 'error'].map((t) => h('th', {}, t))));
  for (const d of r.datasets) {
    for (const p of d.partitions) {
      table.append(h('tr', {}, h('td', { class: 'mono' }, d.dataset),
        h('td', { class: 'mono' }, h('a', { href: partitionHref(d.dataset, p.partition) }, p.partition)),
        h('td', {}, badge(p.outcome)), h('td', {}, p.reason),
        h('td', {}, p.error ? h('span', {}, h('b', {}, p.error.kind + ': '), p.error.message) : '')));
    }
  }
  parts.push(h('h3', {}, 'Partitions it computed, checked or failed'), table);
  view.replaceChildren(...parts);
}

// ---------------------------------------------------------------- routing

let routing = 0;
async function route(refresh) {
  const hash = location.hash || '#/';
  const view = document.getElementById('view');
  const turn = ++routing;
  for (const a of document.querySelectorAll('header nav a')) {
    const nav = a.dataset.nav;
    a.classList.toggle('active', nav === 'grid' ? hash === '#/' || hash.startsWith('#/p/') : hash.startsWith('#/' + nav));
  }
  try {
    let m;
    if (hash === '#/' || hash === '#') {
      renderGrid(view);
    } else if (hash === '#/graph') {
      renderGraph(view);
    } else if (hash === '#/runs') {
      await renderRuns(view);
    } else if ((m = hash.match(/^#\/runs\/(.+)$/))) {
      if (!refresh || turn === routing) await renderRun(view, decodeURIComponent(m[1]));
    } else if ((m = hash.match(/^#\/p\/([^/]+\/[^/]+)\/(.+)$/))) {
      await renderPartition(view, m[1], decodeURIComponent(m[2]));
    } else {
      view.replaceChildren(h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'The partitions.')));
    }
    if (turn === routing) window.strata.ready = true;
  } catch (e) {
    view.replaceChildren(h('div', { class: 'card failure' }, h('p', {}, e.message)));
  }
}

async function start() {
  for (const s of STATES) COLOURS[s] = getComputedStyle(document.documentElement).getPropertyValue('--' + s).trim();
  const hash = location.hash;
  if (hash.startsWith('#token=')) {
    app.token = decodeURIComponent(hash.slice(7));
    sessionStorage.setItem('strata-token', app.token);
    history.replaceState(null, '', '#/');
  }
  try {
    await loadAll();
  } catch (e) {
    showError('Cannot read the pipeline: ' + e.message);
    return;
  }
  window.addEventListener('hashchange', () => route(false));
  await route(false);
  connectLive();
}

start();
