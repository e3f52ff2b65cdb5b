// Runs axe-core in a page. Gatehouse's Content-Security-Policy allows only
// script-src 'self', so axe is not added as a <script> (which CSP would
// block); its source is evaluated through the DevTools protocol, which CSP
// does not govern, and the page keeps its real policy.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let source;

/**
 * Runs axe on the page's current document. Returns the violations; the
 * caller asserts on the serious and critical ones. Every violation is
 * printed with its page so the rest are visible in the test output.
 */
export async function axeCheck(page, name = page.url()) {
  source ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  });
  for (const v of violations) {
    console.log(`axe [${name}] ${v.impact}: ${v.id} — ${v.help} (${v.nodes.join(', ')})`);
  }
  return violations;
}

/** The violations a person would be blocked by: impact serious or critical. */
export function blocking(violations) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
