// The web chat widget on the demo's municipal page: opened by keyboard (focus in, Escape out), an
// FAQ answered live with its link and buttons, a tapped button, a question handed over and
// answered by an agent in the inbox (live in the widget, no reload), a reload that shows the
// whole conversation; resident text never becomes markup; accessible; at 360 px and on a tablet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, screenshot, until, TUESDAY_MORNING } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => { triage = await Triage.start(TUESDAY_MORNING); });
after(async () => { await triage.stop(); });

/** The `data-test` of the focused element, looking into shadow roots. */
function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a ? (a.dataset.test || a.tagName) : null;
  });
}

test('the widget: keyboard, an FAQ with link and buttons, a button, an agent answers live', async () => {
  const page = await triage.page();
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.goto(`${triage.base}/webchat/demo`);
  const launcher = page.locator('[data-test=webchat-launcher]');
  await launcher.waitFor();
  // The page styles every button in capitals; the widget's shadow root keeps its own.
  assert.equal(await launcher.evaluate((b) => getComputedStyle(b).textTransform), 'none');

  // Open by keyboard: the focus moves to the typing area.
  await launcher.focus();
  await page.keyboard.press('Enter');
  const panel = page.locator('[data-test=webchat-panel]');
  await panel.waitFor();
  assert.equal(await focused(page), 'webchat-input');
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  assert.equal(await panel.getAttribute('role'), 'dialog');
  assert.equal(await page.locator('[data-test=webchat-input]').getAttribute('maxlength'), '4096');

  await page.keyboard.type('hoe vraag ik een nieuw paspoort aan?');
  await page.keyboard.press('Enter');
  const answer = page.locator('[data-test=webchat-message][data-from=bot]', { hasText: 'Een paspoort' });
  await answer.waitFor();
  const link = answer.locator('a[href="https://www.terneuzen.nl/paspoort-en-id-kaart"]');
  await link.waitFor();
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.match(await link.getAttribute('rel'), /noopener/);
  const buttons = answer.locator('[data-test=webchat-button]');
  assert.deepEqual(await buttons.allInnerTexts(), ['Afspraak maken', 'Medewerker']);
  assert.equal(await page.locator('[data-test=webchat-input]').inputValue(), '', 'the box is emptied');
  await expectAccessible(page, 'the open widget with an answer and its buttons');

  // Escape closes the panel and gives the focus back to the button; Enter opens it again.
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await focused(page), 'webchat-launcher');
  await page.keyboard.press('Enter');
  await panel.waitFor();

  // Tapping a reply button sends its payload; the appointment answer comes live.
  await buttons.first().click();
  await page.locator('[data-test=webchat-message][data-from=visitor]', { hasText: 'Afspraak maken' }).waitFor();
  await page.locator('[data-test=webchat-message][data-from=bot]', { hasText: /afspra(ak|ken)/ })
    .filter({ hasNotText: 'Een paspoort' }).first().waitFor();
  assert.ok(await buttons.first().isDisabled(), "an older message's buttons are spent");

  // A question for a person: handed over to Burgerzaken.
  await page.fill('[data-test=webchat-input]', 'ik wil mijn naam wijzigen, hoe gaat dat?');
  await page.click('[data-test=webchat-send]');
  await page.locator('[data-test=webchat-message][data-from=bot]', { hasText: 'collega van Burgerzaken' }).waitFor();

  // The agent finds it in the inbox and answers.
  const agent = await triage.signedIn('demo-agent');
  await agent.click('[data-test=queue][data-department=burgerzaken]');
  const item = agent.locator('[data-test=conversation-item]', { hasText: 'naam wijzigen' });
  await item.click();
  await agent.locator('[data-test=conversation]').waitFor();
  await agent.click('[data-test=claim]');
  await agent.locator('[data-test=phase][data-phase=with_agent]').waitFor();
  const reply = 'Hoi! Een naamswijziging regel je bij Burgerzaken: https://www.terneuzen.nl/naamswijziging';
  await agent.fill('[data-test=reply-input]', reply);
  await agent.click('[data-test=reply-send]');

  // Live in the widget, without a reload.
  const fromAgent = page.locator('[data-test=webchat-message][data-from=agent]');
  await fromAgent.waitFor();
  assert.match(await fromAgent.innerText(), /naamswijziging regel je bij Burgerzaken/);
  await fromAgent.locator('a[href="https://www.terneuzen.nl/naamswijziging"]').waitFor();
  assert.equal(loads, 1, 'the page was not reloaded');
  await expectAccessible(page, 'the open widget with an agent\'s answer');
  await page.evaluate(() => {
    const log = document.querySelector('triage-webchat').shadowRoot.querySelector('[data-test=webchat-log]');
    log.scrollTop = log.scrollHeight;
  });
  await screenshot(page, 'webchat.png');

  // The visitor comes back later: the same key, the whole conversation, in order.
  await page.reload();
  await page.locator('[data-test=webchat-panel]').waitFor();
  await fromAgent.waitFor();
  const froms = await page.locator('[data-test=webchat-message]').evaluateAll(
    (els) => els.map((e) => e.dataset.from));
  assert.equal(froms[0], 'visitor');
  assert.equal(froms.at(-1), 'agent');
  assert.equal(froms.filter((f) => f === 'visitor').length, 3);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(agent.errors, []);
});

test('the widget at 360 px wide and on a tablet', async () => {
  for (const viewport of [{ width: 360, height: 740 }, { width: 768, height: 1024 }]) {
    const page = await triage.page(viewport);
    await page.goto(`${triage.base}/webchat/demo`);
    await page.click('[data-test=webchat-launcher]');
    const panel = page.locator('[data-test=webchat-panel]');
    await panel.waitFor();
    await page.fill('[data-test=webchat-input]', 'wanneer wordt de groene container geleegd?');
    await page.press('[data-test=webchat-input]', 'Enter');
    await page.locator('[data-test=webchat-message][data-from=bot]').first().waitFor();
    // What a resident types stays text, however it looks.
    await page.fill('[data-test=webchat-input]', '<img src=x onerror="window.pwned=1"> <b>vet</b>');
    await page.press('[data-test=webchat-input]', 'Enter');
    const typed = page.locator('[data-test=webchat-message][data-from=visitor]', { hasText: '<b>vet</b>' });
    await typed.waitFor();
    assert.equal(await typed.locator('img, b').count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    const box = await panel.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `the panel fits ${viewport.width} px: ${JSON.stringify(box)}`);
    assert.ok(box.y >= 0 && box.y + box.height <= viewport.height, `and ${viewport.height} px high`);
    if (viewport.width <= 480) {
      assert.equal(box.width, viewport.width, 'a phone gets the whole screen');
    }
    const send = await page.locator('[data-test=webchat-send]').boundingBox();
    assert.ok(send.x + send.width <= viewport.width, 'the send button is on screen');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      'nothing sticks out sideways');
    await expectAccessible(page, `the open widget at ${viewport.width} px`);
    // The close button works on touch screens too.
    await page.click('[data-test=webchat-close]');
    await panel.waitFor({ state: 'hidden' });
    assert.deepEqual(page.errors, []);
  }
});

test('a widget whose stream is refused reads the history instead, and one with a made-up key gets a new one', async () => {
  // Other visitors' streams take this address's share (the browser and this test are both
  // 127.0.0.1): the widget's own stream is refused with 429.
  const held = [];
  const refusedByService = async () => {
    for (let i = 0; i < 10; i += 1) {
      const { visitor } = await (await fetch(`${triage.base}/webchat/session`, { method: 'POST' })).json();
      for (let j = 0; j < 4; j += 1) {
        const controller = new AbortController();
        const r = await fetch(`${triage.base}/webchat/stream`, {
          headers: { 'X-Webchat-Visitor': visitor }, signal: controller.signal,
        });
        if (r.status === 429) { await r.body?.cancel(); return true; }
        assert.equal(r.status, 200);
        held.push(controller);
      }
    }
    return false;
  };
  const page = await triage.page();
  try {
    assert.ok(await refusedByService(), "the address's streams are all open");
    // A key of the visitor's own making, as the review's attacker used: refused, and replaced.
    const madeUp = '0123456789abcdef0123456789abcdef';
    await page.addInitScript((k) => {
      if (!sessionStorage.getItem('seeded')) {
        localStorage.setItem('triage-webchat-visitor', k);
        sessionStorage.setItem('seeded', '1');
      }
    }, madeUp);
    const seen = [];
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/webchat/') && !/\.(js|css)$|demo/.test(u.pathname)) {
        seen.push({ path: u.pathname, status: r.status(), at: Date.now() });
      }
    });
    await page.goto(`${triage.base}/webchat/demo`);
    await page.click('[data-test=webchat-launcher]');
    await page.fill('[data-test=webchat-input]', 'ik wil mijn naam wijzigen, hoe gaat dat?');
    await page.press('[data-test=webchat-input]', 'Enter');
    await page.locator('[data-test=webchat-message][data-from=bot]', { hasText: 'collega van Burgerzaken' }).waitFor();
    const key = await page.evaluate(() => localStorage.getItem('triage-webchat-visitor'));
    assert.notEqual(key, madeUp, 'the made-up key was replaced');
    assert.equal(key.length, 64);
    assert.ok(seen.some((s) => s.status === 401), 'the made-up key was refused');
    assert.ok(seen.some((s) => s.path === '/webchat/stream' && s.status === 429), 'the stream was refused');

    // An agent answers; the widget, without a stream, shows it from the history it reads.
    const agent = (method, path, body) => fetch(triage.base + path, {
      method,
      headers: { Authorization: 'Bearer demo-agent-token', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const conv = await until(async () => {
      const q = await agent('GET', '/api/queues/burgerzaken?channel=webchat');
      return q.body.conversations.find((c) => c.phase !== 'with_agent' && !c.agent);
    }, 'the visitor in the queue');
    assert.equal((await agent('POST', `/api/conversations/${conv.id}/claim`, {})).status, 200);
    const answeredAt = Date.now();
    const reply = 'Hoi! Dat kan online: https://www.terneuzen.nl/naamswijziging';
    assert.equal((await agent('POST', `/api/conversations/${conv.id}/reply`, { text: reply })).status, 200);
    const fromAgent = page.locator('[data-test=webchat-message][data-from=agent]', { hasText: 'Dat kan online' });
    await fromAgent.waitFor({ timeout: 15000 });
    assert.ok(seen.some((s) => s.path === '/webchat/history' && s.status === 200 && s.at >= answeredAt),
      'read from the history');
    assert.ok(!seen.some((s) => s.path === '/webchat/stream' && s.status === 200), 'no stream was open');
    assert.deepEqual(page.errors, []);
  } finally {
    for (const c of held) c.abort();
    await page.context().close();
  }
});
