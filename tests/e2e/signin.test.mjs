// Signing in: a wrong password is refused and stays on the page, the right one reaches the
// inbox, a state-changing request without the CSRF token is refused, signing out ends it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => { triage = await Triage.start(); });
after(async () => { await triage.stop(); });

test('a wrong password is refused, the right one signs in, CSRF is required, sign-out ends it', async () => {
  const page = await triage.page();
  await page.goto(triage.base + '/inbox');
  await page.waitForURL((u) => u.pathname === '/login');
  await expectAccessible(page, 'the sign-in page');

  await page.fill('[data-test=login-name]', 'demo-agent');
  await page.fill('[data-test=login-password]', 'niet het wachtwoord');
  await page.click('[data-test=login-submit]');
  await page.locator('[data-test=login-error]', { hasText: 'klopt niet' }).waitFor();
  await expectAccessible(page, 'the sign-in page with an error');
  assert.equal(new URL(page.url()).pathname, '/login');

  await page.fill('[data-test=login-password]', 'demo');
  await page.click('[data-test=login-submit]');
  await page.waitForURL((u) => u.pathname === '/inbox');
  await page.locator('[data-test=who]', { hasText: 'demo-agent' }).waitFor();
  await page.locator('[data-test=queue][data-department=burgerzaken]').waitFor();

  // The session cookie is HTTP-only: the page's script cannot read it.
  assert.equal(await page.evaluate(() => document.cookie), '');

  // The same session, without the CSRF token: refused before anything happens.
  const withoutToken = await page.evaluate(async () => {
    const r = await fetch('/api/conversations/1/claim', { method: 'POST' });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(withoutToken.status, 403);
  assert.equal(withoutToken.body.error, 'csrf');
  // With it, the request gets through to the API (there is no conversation 1: 404).
  const withToken = await page.evaluate(async () => {
    const r = await fetch('/api/conversations/1/claim', { method: 'POST', headers: { 'X-CSRF-Token': triage.me.csrf } });
    return r.status;
  });
  assert.equal(withToken, 404);

  await page.click('[data-test=logout]');
  await page.waitForURL((u) => u.pathname === '/login');
  const after = await page.evaluate(async () => (await fetch('/api/me')).status);
  assert.equal(after, 401);
  assert.deepEqual(page.errors, []);
});

test('after sign-in only a page of this site is opened, never another site', async () => {
  for (const next of ['/%09/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/', '/\t/evil.example', 'javascript:alert(1)', '/.//evil.example', '/..//evil.example', '/%2e//evil.example', '/a/..//evil.example', '/./\\evil.example']) {
    const page = await triage.page();
    await page.goto(`${triage.base}/login?next=${encodeURIComponent(decodeURIComponent(next))}`);
    await page.fill('[data-test=login-name]', 'demo-agent');
    await page.fill('[data-test=login-password]', 'demo');
    await page.click('[data-test=login-submit]');
    await page.waitForURL((u) => u.pathname !== '/login');
    const url = new URL(page.url());
    assert.equal(url.origin, new URL(triage.base).origin, `next=${next} left the site: ${page.url()}`);
    await page.context().close();
  }
  // A page of this site is still where the visitor goes.
  const page = await triage.page();
  await page.goto(`${triage.base}/login?next=${encodeURIComponent('/reports?x=1#top')}`);
  await page.fill('[data-test=login-name]', 'demo-admin');
  await page.fill('[data-test=login-password]', 'demo');
  await page.click('[data-test=login-submit]');
  await page.waitForURL((u) => u.pathname === '/reports');
  assert.equal(new URL(page.url()).search, '?x=1');
});
