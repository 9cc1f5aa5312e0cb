// WCAG 2.1 A and AA checks with axe-core, run inside the page under test. The page's strict CSP
// forbids injected script tags, so axe's source is evaluated through the DevTools protocol
// (page.evaluate), which the CSP does not govern; nothing is added to the served pages.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The WCAG 2.1 A/AA violations on `page` as it is now: [{ id, impact, help, targets }]. */
export async function violations(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    TAGS,
  );
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}

/** Fails the test when the page, in the state `what` describes, has any WCAG 2.1 A/AA violation. */
export async function expectAccessible(page, what) {
  const found = await violations(page);
  assert.deepEqual(found, [], `${what}: WCAG 2.1 A/AA violations:\n${JSON.stringify(found, null, 2)}`);
}
