// What every browser test does on every page it reaches: wait for the
// page, run axe-core (no serious or critical violations), check that the
// page loaded without script errors or CSP refusals, and save a
// screenshot under e2e/out/ (git-ignored).
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeCheck, blocking } from './axe.js';

const e2eDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const OUT = path.join(e2eDir, 'out');
const DOCS = path.join(path.dirname(e2eDir), 'docs', 'screenshots');

/**
 * Copies a screenshot to docs/screenshots/<name>.png, which the README
 * shows, when GATEHOUSE_UPDATE_SCREENSHOTS=1 (like -update for golden
 * files: a normal run leaves the committed images alone).
 */
export async function publishScreenshot(file, name) {
  if (process.env.GATEHOUSE_UPDATE_SCREENSHOTS !== '1') return;
  await mkdir(DOCS, { recursive: true });
  await copyFile(file, path.join(DOCS, `${name}.png`));
}

/**
 * Checks the page a test has just reached, under a short name used for
 * the screenshot (out/<name>.png) and in messages. Returns the
 * screenshot's path (none with screenshot: false, for page sweeps).
 */
export async function checkPage(page, name, { fullPage = true, screenshot = true } = {}) {
  await page.waitForLoadState('load');
  const violations = await axeCheck(page, name);
  assert.deepEqual(blocking(violations).map((v) => `${v.id}: ${v.help} (${v.nodes.join(', ')})`), [],
    `${name} (${page.url()}): serious or critical accessibility violations`);
  const problems = (page.problems ?? []).splice(0);
  assert.deepEqual(problems, [], `${name} (${page.url()}): script errors, CSP refusals or failed loads`);
  if (!screenshot) return undefined;
  await mkdir(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/**
 * The error shown beside an input (found by its label): the input is
 * marked aria-invalid, points at the message with aria-describedby, and
 * the message sits in the same field container. Returns the message.
 */
export async function fieldError(page, label) {
  const input = page.getByLabel(labelled(label));
  assert.equal(await input.getAttribute('aria-invalid'), 'true', `"${label}" is not marked invalid`);
  const described = (await input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  assert.ok(described.length > 0, `"${label}" has no aria-describedby`);
  const msg = page.locator(`[id="${described[0]}"]`);
  assert.match(await msg.getAttribute('class') ?? '', /\bfield-error\b/, `"${label}": its first description is not an error`);
  // Beside the field: the message and the input share their .field
  // wrapper, or the message directly follows the input.
  const sameField = await input.evaluate((el, id) => {
    const msg = document.getElementById(id);
    return (el.closest('.field')?.contains(msg) ?? false) || el.nextElementSibling === msg;
  }, described[0]);
  assert.ok(sameField, `the error of "${label}" is not beside it`);
  return (await msg.innerText()).trim();
}

/**
 * Matches a field's label exactly, with or without the required-field
 * marker (an aria-hidden "*" inside the label).
 */
export function labelled(label) {
  return new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s*\\*)?$`);
}
