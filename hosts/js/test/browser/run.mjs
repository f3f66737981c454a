// The browser run: the checks of checks.mjs, and the demo page, in headless Chromium.
//
//   node hosts/js/test/browser/run.mjs
//
// It needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and `npm ci` in hosts/js/test for
// playwright-core; it fails, rather than skips, when either is missing: CI runs it on purpose.
// It is not named *.test.mjs, so `npm --prefix hosts/js/test test` leaves it out.

import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { allChecks } from '../checks.mjs';
import { readGuests } from '../guests.mjs';
import { serve } from './server.mjs';

const workspace = new URL('../../../../', import.meta.url);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const screenshot = fileURLToPath(new URL('target/js-demo.png', workspace));
const CHECKS_TIMEOUT_MS = 180_000;

/** @type {Awaited<ReturnType<typeof serve>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await serve({ lifetimeMs: 10 * 60_000 });
  browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * A new page that fails the test on any uncaught error or console error.
 * @param {string[]} problems collects what went wrong
 */
async function openPage(problems) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return page;
}

test('the checks of checks.mjs pass in Chromium', async (t) => {
  // The page must run as many checks as node does with the same guests: none may go missing.
  const modules = await readGuests();
  for (const module of Object.values(modules)) if (module instanceof Error) throw module;
  const expected = allChecks(/** @type {Record<string, Uint8Array>} */ (modules)).reduce((count, suite) => count + suite.checks.length, 0);

  /** @type {string[]} */
  const problems = [];
  const page = await openPage(problems);
  await page.goto(`${server.origin}/js/browser/checks.html`);
  await page.waitForFunction(() => /** @type {any} */ (window).guestmemChecks?.done === true, undefined, { timeout: CHECKS_TIMEOUT_MS });
  /** @type {{ error?: string, results: { suite: string, name: string, ok: boolean, error?: string }[] }} */
  const report = await page.evaluate(() => /** @type {any} */ (window).guestmemChecks);
  await page.close();

  if (report.error !== undefined) throw new Error(`the checks page failed: ${report.error}`);
  for (const result of report.results) {
    await t.test(`${result.suite}: ${result.name}`, () => {
      if (!result.ok) throw new Error(result.error);
    });
  }
  if (report.results.length !== expected) {
    throw new Error(`the page ran ${report.results.length} checks, node has ${expected}`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
});

test('the demo page uppercases what is typed into it', async () => {
  /** @type {string[]} */
  const problems = [];
  const page = await openPage(problems);
  await page.setViewportSize({ width: 800, height: 480 });
  await page.goto(`${server.origin}/js/browser/index.html`);
  await page.waitForSelector('body[data-ready]');
  const ready = await page.getAttribute('body', 'data-ready');
  if (ready !== 'true') throw new Error(`the demo did not load: ${await page.textContent('#status')}`);

  const typed = 'Straße, grüß dich!';
  await page.locator('#text').pressSequentially(typed);
  const shown = await page.locator('#upper').textContent();
  if (shown !== 'STRASSE, GRÜSS DICH!') throw new Error(`the page shows ${JSON.stringify(shown)} for ${JSON.stringify(typed)}`);
  const status = await page.textContent('#status');
  if (status !== 'blocks live in the guest: 0') throw new Error(`status after typing: ${JSON.stringify(status)}`);

  await mkdir(new URL('target/', workspace), { recursive: true });
  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
  await page.close();
  if (problems.length > 0) throw new Error(problems.join('\n'));
});

test('the demo page shows the guest is missing when upper.wasm is', async () => {
  // The planted fault: the text on the page must come from the guest, so without it there is none.
  const page = await browser.newPage();
  await page.route('**/wasm/upper.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto(`${server.origin}/js/browser/index.html`);
  await page.waitForSelector('body[data-ready]');
  const ready = await page.getAttribute('body', 'data-ready');
  const status = await page.textContent('#status');
  await page.locator('#text').pressSequentially('abc');
  const shown = await page.locator('#upper').textContent();
  await page.close();
  if (ready !== 'failed' || !/could not load the guest: .*404/.test(status ?? '')) {
    throw new Error(`without the guest the page says ready=${ready}, ${JSON.stringify(status)}`);
  }
  if (shown !== '') throw new Error(`without the guest the page still shows ${JSON.stringify(shown)}`);
});
