// Launches Debian's Chromium (/usr/bin/chromium, installed by
// scripts/test.sh) through playwright-core. No browser is ever downloaded:
// playwright-core ships none, and the executable path is fixed. Each launch
// gets a fresh profile directory, removed by close().
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM || '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts Chromium with a fresh profile and opens one context (1280×800).
 * Returns {context, close}. Pages record console errors, uncaught errors
 * and Content-Security-Policy reports in page.problems (see trackProblems).
 */
export async function launch() {
  try {
    await access(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (scripts/test.sh does)`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'gatehouse-chromium-'));
  // launchPersistentContext is the Playwright way to choose --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  context.on('page', trackProblems);
  for (const p of context.pages()) trackProblems(p);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Collects what a person would never see but a test should: console
 * errors (Chromium reports CSP refusals there), uncaught exceptions, and
 * sub-resources (scripts, styles, images) that failed to load. Documents
 * may answer 4xx (a form with errors is a 400) and browsers ask for
 * /favicon.ico on their own, so neither counts, nor does a load the
 * browser cancelled.
 */
export function trackProblems(page) {
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    const req = r.request();
    if (r.status() >= 400 && req.resourceType() !== 'document' && new URL(r.url()).pathname !== '/favicon.ico') {
      page.problems.push(`${r.status()} ${req.method()} ${r.url()}`);
    }
  });
  // net::ERR_ABORTED is a load the browser itself cancelled because the page
  // navigated or reloaded meanwhile (the status page's test reloads it in a
  // loop): no failure of Gatehouse's, and a busy machine makes it happen.
  page.on('requestfailed', (req) => {
    const why = req.failure()?.errorText;
    if (req.resourceType() !== 'document' && why !== 'net::ERR_ABORTED') page.problems.push(`failed ${req.method()} ${req.url()}: ${why}`);
  });
}
