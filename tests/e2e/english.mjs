// A browser that is not Dutch: en-US, in New York's timezone, so that a date written in the
// browser's own language or zone (11/24/2026, 4:00 AM) shows up in a test.
/** A page signed in as `name` (password `demo`) on `path`, in an en-US browser at `viewport`. */
export async function signedInEnglish(triage, name, path, viewport = { width: 1280, height: 800 }) {
  if (!triage.browser) await (await triage.page()).close();
  const context = await triage.browser.newContext({ viewport, locale: 'en-US', timezoneId: 'America/New_York' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.setDefaultTimeout(10000);
  const language = await page.evaluate(() => navigator.language);
  if (language !== 'en-US') throw new Error(`the browser says ${language}, not en-US`);
  await page.goto(`${triage.base}/login?next=${encodeURIComponent(path)}`);
  await page.fill('[data-test=login-name]', name);
  await page.fill('[data-test=login-password]', 'demo');
  await page.click('[data-test=login-submit]');
  await page.waitForURL((u) => u.pathname === path);
  return page;
}
