// SPDX-License-Identifier: MIT
// The page at GET / in headless Chromium (Debian's, never a downloaded one), driven as a person
// would: it waits for the example sentence to be placed, types a sentence without an entity and
// expects the service's refusal on the page, then types a real sentence and expects the entity
// names on the 3-D view and in the table, and the curvature plot. It fails on any script error,
// any console error and any request to another host, and saves a screenshot.
// Usage: node tests/page_test.mjs URL SCREENSHOT.png
import { chromium } from 'playwright-core';

const SENTENCE = 'The robot arm is on the table next to the red box';
const NAMES = ['robot arm', 'table', 'red box'];
const LIMIT_MS = 30000;

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error('usage: node tests/page_test.mjs URL SCREENSHOT.png');
  process.exit(2);
}
const origin = new URL(url).origin;
const problems = [];
let passed = 0;

function check(ok, what) {
  if (ok) {
    passed += 1;
    console.log(`ok: ${what}`);
  } else {
    problems.push(what);
    console.log(`FAILED: ${what}`);
  }
}

async function placed(page, text) {
  await page.fill('#text', text);
  await page.click('#place');
  await page.waitForFunction(
    (t) => document.body.dataset.state === 'error' ||
      (document.body.dataset.state === 'ready' && document.body.dataset.placed === t),
    text,
    { timeout: LIMIT_MS },
  );
  return page.evaluate(() => document.body.dataset.state);
}

async function run(page) {
  await page.goto(url, { timeout: LIMIT_MS });
  await page.waitForSelector('body[data-state=ready]', { timeout: LIMIT_MS });
  check(true, 'the example sentence is placed on load');
  check(await page.$('#scene canvas') !== null, 'the 3-D view has a WebGL canvas');
  check((await page.textContent('#service')).includes('cpu'), 'the header names the device');

  check(await placed(page, 'and so on, with it') === 'error', 'a text without entities is refused');
  check((await page.textContent('#message')).includes('no entity'), 'the refusal is shown');

  check(await placed(page, SENTENCE) === 'ready', 'the sentence is placed');
  await page.waitForSelector('#plot canvas', { timeout: LIMIT_MS });
  check(true, 'the curvature plot is drawn');
  const labels = await page.$$eval('#scene .label:not(.measure)', (els) => els.map((e) => e.textContent));
  const rows = await page.$$eval('#entities tbody tr td:first-child', (els) => els.map((e) => e.textContent));
  for (const name of NAMES) {
    check(labels.includes(name), `"${name}" is labelled in the 3-D view`);
    check(rows.includes(name), `"${name}" is in the table`);
  }
  const legend = await page.textContent('#legend');
  check(['robotic', 'furniture', 'physical'].every((t) => legend.includes(t)), 'the legend names the types');
  const points = Number(await page.getAttribute('#plot', 'data-points'));
  const iterations = Number(await page.getAttribute('body', 'data-iterations'));
  check(points > 0 && points === iterations, `the plot shows all ${iterations} iterations`);
  await page.waitForTimeout(500);  // let the orbit damping settle before the picture
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // As root Chromium needs --no-sandbox; WebGL without a GPU runs on SwiftShader.
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('422')) problems.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(origin)) problems.push(`request to another host: ${r.url()}`);
  });
  await run(page);
} catch (e) {
  problems.push(`${e.message}`);
} finally {
  await browser.close();
}
for (const p of problems) console.error(`page test: ${p}`);
console.log(`page: ${passed} passed, ${problems.length} failed`);
process.exit(problems.length === 0 ? 0 : 1);
