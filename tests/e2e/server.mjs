// The triage binary in demo mode with the test clock, on a free port and a fresh database, plus
// what the tests need around it: signed webhooks, the API as the demo admin, the stand-in's
// record of sent messages, and a browser.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.TRIAGE_BIN || join(ROOT, 'target', 'debug', 'triage');
const SECRET = 'demo-app-secret';
export const ADMIN_TOKEN = 'demo-admin-token';
/** Far in the future, as the Rust tests use: the 24-hour window stays open whatever the clock. */
/** Where the service's test clock starts, unless a test says otherwise: Tuesday 24 November 2026,
 * 10:00 in Terneuzen (open). It is set from the service's first moment, never today's date. */
export const TUESDAY_MORNING = '2026-11-24T10:00:00+01:00';
const SENT_AT = '4102444800';

/** Waits until `check` returns something truthy (polling), or fails after `ms`. */
export async function until(check, what, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

export class Triage {
  /** Starts the service with its test clock on `at`; resolves once /healthz answers. With
   * `{ ownFlows: true }` it serves a copy of the shipped flows, rules and conversation tests in
   * its own directory (`triage.files`), which a test may change; `env` adds to its environment. */
  static async start(at = TUESDAY_MORNING, { ownFlows = false, env = {} } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'triage-e2e-'));
    // A copy of the conversation tests: "make a test" on the editors' page writes into it, never
    // into the repository's.
    const testsDir = join(dir, 'conversations');
    cpSync(join(ROOT, 'fixtures', 'conversations'), testsDir, { recursive: true });
    let cwd = ROOT;
    if (ownFlows) {
      cwd = join(dir, 'files');
      for (const sub of ['flows', 'rules', 'fixtures/conversations']) {
        cpSync(join(ROOT, sub), join(cwd, sub), { recursive: true });
      }
    }
    const child = spawn(BIN, ['serve', '--test-clock', at], {
      cwd,
      env: {
        ...process.env,
        TRIAGE_LISTEN: '127.0.0.1:0',
        TRIAGE_DATABASE_URL: `sqlite:${join(dir, 'triage.db')}`,
        TRIAGE_TESTS_DIR: testsDir,
        RUST_LOG: 'warn',
        WHATSAPP_ACCESS_TOKEN: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d) => { output += d; });
    const base = await new Promise((resolveBase, reject) => {
      const timer = setTimeout(() => reject(new Error('triage did not start:\n' + output)), 30000);
      child.stdout.on('data', (d) => {
        output += d;
        // Browsers keep Secure cookies over plain HTTP for localhost only: the banner prints it.
        const m = /serving on (http:\/\/localhost:\d+)/.exec(output);
        if (m) { clearTimeout(timer); resolveBase(m[1]); }
      });
      child.on('exit', (code) => reject(new Error(`triage exited with ${code}:\n${output}`)));
    });
    const t = new Triage(child, dir, base);
    t.testsDir = testsDir;
    t.files = cwd;
    await until(async () => (await fetch(base + '/healthz')).ok, '/healthz');
    return t;
  }

  constructor(child, dir, base) {
    this.child = child;
    this.dir = dir;
    this.base = base;
    this.seq = 0;
  }

  async stop() {
    if (this.browser) await this.browser.close();
    this.child.kill('SIGTERM');
    await new Promise((r) => (this.child.exitCode !== null ? r() : this.child.on('exit', r)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The API as the demo admin (a bearer token, as scripts use it). */
  async admin(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async setClock(at) {
    const r = await this.admin('POST', '/admin/clock', { at });
    if (r.status !== 200) throw new Error(`clock: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** A resident's text message, signed as Meta signs it. */
  async resident(from, text, name = 'Fatima') {
    this.seq += 1;
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '31115000000', phone_number_id: '123456' },
        contacts: [{ profile: { name }, wa_id: from }],
        messages: [{ from, id: `wamid.e2e${Date.now()}${this.seq}`, timestamp: SENT_AT, type: 'text', text: { body: text } }],
      } }] }],
    });
    const signature = 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex');
    const res = await fetch(this.base + '/webhook', {
      method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature },
    });
    if (res.status !== 200) throw new Error(`webhook: ${res.status}`);
  }

  /** Many residents' text messages in one signed webhook, as Meta batches them:
   * `list` holds { from, text, name }. */
  async residents(list) {
    const contacts = [];
    const messages = [];
    for (const { from, text, name } of list) {
      this.seq += 1;
      contacts.push({ profile: { name }, wa_id: from });
      messages.push({ from, id: `wamid.e2e${Date.now()}${this.seq}`, timestamp: SENT_AT, type: 'text', text: { body: text } });
    }
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '31115000000', phone_number_id: '123456' },
        contacts, messages,
      } }] }],
    });
    const signature = 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex');
    const res = await fetch(this.base + '/webhook', {
      method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature },
    });
    if (res.status !== 200) throw new Error(`webhook: ${res.status}`);
  }

  /** What the Graph API stand-in recorded as sent to `to`. */
  async sent(to) {
    const res = await fetch(`${this.base}/standin/whatsapp/_standin/messages?to=${to}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return res.json();
  }

  /** A new page at 1280x800 (or `viewport`) in Debian's Chromium, in Dutch unless `locale`. */
  async page(viewport = { width: 1280, height: 800 }, locale = 'nl-NL') {
    if (!this.browser) {
      this.browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }
    const context = await this.browser.newContext({ viewport, locale, timezoneId: 'Europe/Amsterdam' });
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    // Every wait is for something the page must show; 20 s leaves room for a 2-core CI machine
    // busy with other test binaries (a run there once missed 10 s twice, and passed again).
    page.setDefaultTimeout(20000);
    return page;
  }

  /** A page signed in as `name` (the demo users' password is `demo`), on `path`. */
  async signedIn(name, path = '/inbox', password = 'demo', viewport = undefined) {
    const page = await this.page(viewport);
    await page.goto(`${this.base}/login?next=${encodeURIComponent(path)}`);
    await page.fill('[data-test=login-name]', name);
    await page.fill('[data-test=login-password]', password);
    await page.click('[data-test=login-submit]');
    await page.waitForURL((u) => u.pathname === path.split('#')[0]);
    return page;
  }
}

/** Saves a screenshot under docs/ when UPDATE_SCREENSHOTS=1. */
export async function screenshot(page, name) {
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    await page.screenshot({ path: join(ROOT, 'docs', name) });
  }
}
