// Drives `host serve`'s page in Debian's headless Chromium through
// playwright-core (no browser download) and prints what the page shows as
// one JSON object per line; tests/serve/browser.rs asserts on it.
//
//   node page.mjs grid  BASE_URL CASE.json   what the grid, a failed partition's page,
//                                            the graph and the runs page show
//   node page.mjs live  BASE_URL             the legend's counts each time they change,
//                                            without a reload, until stdin closes
//   node page.mjs bench BASE_URL ROUNDS      time to the first drawn grid, per round
//
// CASE.json: {"cells": [[dataset, partition], …], "click": [dataset, partition],
//             "screenshot": "path.png", "hover": [dataset, partition]}
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [scenario, base, arg] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// A new, empty profile each time (playwright-core takes it as the
// persistent context's --user-data-dir).
const profile = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.STRATA_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 760 },
  deviceScaleFactor: 1,
});
const page = browser.pages()[0] || await browser.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

async function open(url) {
  await page.goto(url);
  await page.waitForFunction(() => window.strata && window.strata.ready);
}

// The state a grid cell is drawn in, read back from the canvas pixels at
// its centre and matched against the legend's swatches.
async function drawnState(dataset, partition) {
  return page.evaluate(([dataset, partition]) => {
    const rect = window.strata.cellRect(dataset, partition);
    if (!rect) return null;
    const canvas = document.getElementById('grid-canvas');
    const box = canvas.getBoundingClientRect();
    const dpr = canvas.width / box.width;
    const x = Math.floor((rect.x + rect.w / 2 - box.left) * dpr);
    const y = Math.floor((rect.y + rect.h / 2 - box.top) * dpr);
    const [r, g, b] = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
    for (const sw of document.querySelectorAll('#legend button[data-state] .swatch')) {
      const m = getComputedStyle(sw).backgroundColor.match(/\d+/g).map(Number);
      if (m[0] === r && m[1] === g && m[2] === b) return sw.parentElement.dataset.state;
    }
    return `rgb(${r},${g},${b})`;
  }, [dataset, partition]);
}

const legend = () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#legend button[data-state]')]
  .map((b) => [b.dataset.state, Number(b.querySelector('.count').textContent)])));

try {
  if (scenario === 'grid') {
    const c = JSON.parse(readFileSync(arg, 'utf8'));
    await open(base + '/');
    const datasets = await page.$$eval('.grid-label[data-dataset]', (els) => els.map((e) => e.dataset.dataset));
    const cells = [];
    for (const [dataset, partition] of c.cells) cells.push([dataset, partition, await drawnState(dataset, partition)]);
    const counts = await legend();
    const centre = async (cell) => {
      const r = await page.evaluate(([d, p]) => window.strata.cellRect(d, p), cell);
      return [r.x + r.w / 2, r.y + r.h / 2];
    };
    // The docs' screenshot: a tooltip over the cell `hover` names.
    if (c.screenshot) {
      await page.mouse.move(...await centre(c.hover || c.click));
      await page.screenshot({ path: c.screenshot });
    }
    // Hover the failed cell: the tooltip gives its reason.
    const rect = await page.evaluate(([d, p]) => window.strata.cellRect(d, p), c.click);
    await page.mouse.move(rect.x + rect.w / 2, rect.y + rect.h / 2);
    const tooltip = await page.textContent('#tooltip');
    await page.mouse.click(rect.x + rect.w / 2, rect.y + rect.h / 2);
    await page.waitForSelector('#partition-title');
    await page.waitForSelector('#rows h3');
    const partitionPage = {
      hash: await page.evaluate(() => location.hash),
      title: await page.textContent('#partition-title'),
      reason: await page.textContent('#reason'),
      failure_kind: await page.textContent('#failure-kind').catch(() => null),
      failure_message: await page.textContent('#failure-message').catch(() => null),
      reads: await page.$$eval('#reads a', (as) => as.map((a) => [a.dataset.input, a.getAttribute('href')])),
    };
    // Follow the lineage link to the input partition.
    await page.click('#reads a');
    await page.waitForFunction(() => location.hash.startsWith('#/p/raw/'));
    // The hash changes first; until the input's page renders, the title is
    // still the one of the page the link was on.
    await page.waitForFunction(
      () => (document.querySelector('#partition-title')?.textContent || '').startsWith('raw/'));
    const input = { hash: await page.evaluate(() => location.hash), title: await page.textContent('#partition-title') };
    await page.goto(base + '/#/graph');
    await page.waitForSelector('#graph');
    const graph = {
      nodes: await page.$$eval('#graph g.node', (gs) => gs.map((g) => g.dataset.dataset)),
      edges: await page.$$eval('#graph .edge-label', (ts) => ts.map((t) => [t.dataset.edge, t.textContent])),
    };
    await page.goto(base + '/#/runs');
    await page.waitForSelector('#runs');
    const runs = await page.$$eval('#runs tr[data-run]', (rs) => rs.map((r) => [r.dataset.run, r.querySelector('.badge').textContent]));
    out({ datasets, cells, counts, tooltip, partition: partitionPage, input, graph, runs, errors });
  } else if (scenario === 'live') {
    await open(base + '/');
    // Set once; a reload would lose it.
    await page.evaluate(() => { window.__notReloaded = true; });
    let last = JSON.stringify(await legend());
    out({ event: 'ready', counts: JSON.parse(last) });
    let stdinOpen = true;
    process.stdin.on('end', () => { stdinOpen = false; });
    process.stdin.resume();
    while (stdinOpen) {
      await page.waitForTimeout(100);
      const now = JSON.stringify(await legend());
      if (now !== last) {
        last = now;
        const notReloaded = await page.evaluate(() => window.__notReloaded === true);
        out({ event: 'counts', counts: JSON.parse(now), notReloaded });
      }
    }
    out({ event: 'end', errors });
  } else if (scenario === 'bench') {
    const rounds = Number(arg || 5);
    const times = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = Date.now();
      await open(base + '/?round=' + i);
      times.push(Date.now() - t0);
    }
    const cells = await page.evaluate(() => document.getElementById('grid-canvas') && window.strata.version());
    out({ first_render_ms: times, version: cells, errors });
  } else {
    throw new Error('unknown scenario ' + scenario);
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
