// The inbox with 1,000 waiting in one queue, as an agent works it: by keyboard from sign-in to a
// reply and "Afronden" in a bounded number of keys, search by name and by the number's tail on
// the server, focus that survives a burst of live events, and on a tablet the open conversation
// in view after opening one far down the queue. axe-core (WCAG 2.1 A/AA) in every state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until, screenshot, TUESDAY_MORNING } from './server.mjs';
import { expectAccessible } from './a11y.mjs';
import { seedBurgerzaken, seeded } from './seed.mjs';

const WAITING = 1000;
/** One resident to find among the thousand. */
const ZEYNEP = { from: '31699994242', name: 'Zeynep Kaya', text: 'ik wil de naam wijzigen van mijn dochter na de scheiding' };
const TABLET = { width: 820, height: 1180 };

let triage;
let seedMs;
before(async () => {
  triage = await Triage.start(TUESDAY_MORNING);
  seedMs = await seedBurgerzaken(triage, WAITING - 1, { batch: 50, parallel: 4 });
  await triage.resident(ZEYNEP.from, ZEYNEP.text, ZEYNEP.name);
  console.log(`# seeded ${WAITING - 1} conversations in ${seedMs} ms`);
});
after(async () => { await triage.stop(); });

const summary = (page) => page.locator('[data-test=list-summary]');
const active = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? (a.getAttribute('data-test') || a.tagName.toLowerCase()) + (a.dataset.id ? '#' + a.dataset.id : '')
    + (a.dataset.department ? ':' + a.dataset.department : '') : null;
});

test('seeding a thousand through the real service stays well under a minute', () => {
  assert.ok(seedMs < 30000, `seeding took ${seedMs} ms`);
});

test('by keyboard from sign-in to a reply and Afronden, in a bounded number of keys', async () => {
  const page = await triage.page();
  let keys = 0;
  const press = async (key) => { keys += 1; await page.keyboard.press(key); };
  const type = async (text) => { keys += 1; await page.keyboard.type(text); };
  /** Presses `key` until focus is on `want` (at most `max` times); returns how many it took. */
  const until_ = async (key, want, max) => {
    for (let n = 1; n <= max; n += 1) {
      await press(key);
      if ((await active(page)) === want) return n;
    }
    throw new Error(`${want} not reached with ${max}× ${key}; focus on ${await active(page)}`);
  };

  await page.goto(`${triage.base}/login?next=%2Finbox`);
  await type('demo-agent');
  await press('Tab');
  await type('demo');
  await press('Enter');
  await page.locator('[data-test=queue][data-department=burgerzaken]').waitFor();

  // The skip link comes first; then the way to the queue.
  await press('Tab');
  assert.equal(await active(page), 'skip-link');
  const toQueue = await until_('Tab', 'queue:burgerzaken', 12);
  await press('Enter');
  await summary(page).filter({ hasText: '1–50 van 1.000' }).waitFor();
  assert.equal(await active(page), 'queue:burgerzaken', 'focus stays on the queue picked');
  assert.match(await page.locator('[data-test=queue][data-department=burgerzaken]').innerText(), /1\.000 wachtend/);
  assert.equal(await page.locator('[data-test=conversation-item]').count(), 50, 'a page, not a thousand cards');
  await expectAccessible(page, 'a queue of 1,000');

  // j opens the longest waiting; focus on its card.
  await press('j');
  const conversation = page.locator('[data-test=conversation]');
  await conversation.waitFor();
  const first = await conversation.getAttribute('data-id');
  assert.equal(await active(page), 'conversation-item#' + first);
  // The list is one Tab stop: from the card to "Oppakken" in a few.
  const toClaim = await until_('Tab', 'claim', 4);
  assert.ok(toClaim <= 2, `${toClaim} Tabs from the card to Oppakken`);
  await page.locator('[data-test=message][data-author=bot]').first().waitFor();
  await expectAccessible(page, 'an open conversation');

  await press('Enter');
  await page.locator('[data-test=phase][data-phase=with_agent]').waitFor();
  await until(async () => (await active(page)) === 'reply-input', 'focus in the reply box after Oppakken');
  await type('Hoi! Ik help je graag met de naamswijziging.');
  await press('Control+Enter');
  await page.locator('[data-test=message][data-author="agent:demo-agent"]').waitFor();
  assert.equal(await active(page), 'reply-input', 'focus stays in the reply box after sending');
  const toResolve = await until_('Shift+Tab', 'resolve', 5);

  await press('Enter');
  // Afronden opens the next one, focus on its "Oppakken".
  await until(async () => {
    const id = await conversation.getAttribute('data-id');
    return id !== first && (await active(page)) === 'claim';
  }, 'the next conversation, focus on Oppakken');
  assert.equal(await page.locator('[data-test=phase]').getAttribute('data-phase'), 'queued');
  console.log(`# keyboard walk: ${keys} keys (${toQueue} Tabs to the queue, ${toClaim} to Oppakken, ${toResolve} back to Afronden)`);
  assert.ok(keys <= 24, `${keys} keys from sign-in to Afronden`);
  await until(async () => (await triage.admin('GET', `/api/conversations/${first}`)).body.messages
    .find((m) => m.author === 'agent:demo-agent' && m.send_status === 'sent'), 'the reply sent');
  await expectAccessible(page, 'the next conversation after Afronden');

  // The shortcuts: a visible hint and a help panel on "?".
  assert.match(await page.locator('[data-test=shortcuts-hint]').innerText(), /volgende/);
  await page.locator('[data-test=conversation-item]').first().focus();
  await press('?');
  await page.locator('[data-test=shortcuts-help]').waitFor();
  assert.match(await page.locator('[data-test=shortcuts-help]').innerText(), /Ctrl\+Enter/);
  await expectAccessible(page, 'the shortcuts panel');
  await press('Escape');
  await page.locator('[data-test=shortcuts-help]').waitFor({ state: 'hidden' });
  assert.match(await active(page), /^conversation-item#/, 'focus back where it was');
  assert.deepEqual(page.errors, []);
});

test('search finds one resident by name and by the number tail, on the server', async () => {
  const page = await triage.signedIn('demo-agent', '/inbox#q=burgerzaken');
  await summary(page).filter({ hasText: /1–50 van/ }).waitFor();
  const requests = [];
  page.on('request', (r) => { if (r.url().includes('/api/queues/burgerzaken')) requests.push(r.url()); });
  const cards = page.locator('[data-test=conversation-item]');

  await page.keyboard.press('/');
  assert.equal(await active(page), 'search');
  await page.keyboard.type('zeynep');
  await summary(page).filter({ hasText: '1–1 van 1 gevonden' }).waitFor();
  assert.equal(await cards.count(), 1);
  assert.match(await cards.first().innerText(), /Zeynep Kaya/);
  assert.match(await cards.first().innerText(), /\*{6}4242/);
  await expectAccessible(page, 'a search by name');

  await page.fill('[data-test=search]', '4242');
  await summary(page).filter({ hasText: '1–1 van 1 gevonden' }).waitFor();
  assert.match(await cards.first().innerText(), /Zeynep Kaya/);
  await page.fill('[data-test=search]', '******4242');
  await summary(page).filter({ hasText: '1–1 van 1 gevonden' }).waitFor();
  // The whole number finds nothing: a search is no way to test a number.
  await page.fill('[data-test=search]', ZEYNEP.from);
  await summary(page).filter({ hasText: 'Niets gevonden' }).waitFor();
  assert.ok(!(await page.content()).includes(ZEYNEP.from.slice(2, 8)), 'no unmasked digits on the page');

  // By the words of a message, with a filter.
  // (One of the 200 asking about it may have been resolved above: the API says how many.)
  const asking = (await triage.admin('GET', '/api/queues/burgerzaken?q=naturalisatie')).body.total;
  assert.ok(asking >= 199 && asking <= 200, `${asking} ask about naturalisatie`);
  await page.fill('[data-test=search]', 'naturalisatie');
  await summary(page).filter({ hasText: `1–50 van ${asking} gevonden` }).waitFor();
  await page.check('[data-test=filter-late]');
  await summary(page).filter({ hasText: 'Niets gevonden' }).waitFor();
  await expectAccessible(page, 'a search that finds nothing');
  // Every request was one page; the search went to the server, not the whole list to the page.
  assert.ok(requests.length >= 4);
  for (const url of requests) assert.match(url, /limit=50/);
  assert.deepEqual(page.errors, []);
});

test('focus survives a burst of live events, and the page is right soon after', async () => {
  const page = await triage.signedIn('demo-agent', '/inbox#q=burgerzaken');
  await summary(page).filter({ hasText: /1–50 van/ }).waitFor();
  const before = Number((await triage.admin('GET', '/api/queues')).body.queues.find((q) => q.id === 'burgerzaken').waiting);
  // The agent is on the third card, moved there by arrow keys.
  await page.locator('[data-test=conversation-item]').first().focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const card = await page.evaluateHandle(() => document.activeElement);
  const cardId = await card.evaluate((el) => el.dataset.id);
  assert.equal(await card.evaluate((el) => el.tabIndex), 0, 'the focused card is the Tab stop');
  let lists = 0;
  const whole = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/queues/burgerzaken')) {
      lists += 1;
      if (!/[?&]limit=50(&|$)/.test(r.url())) whole.push(r.url());
    }
  });

  // 10 new conversations a second for 10 seconds.
  const BURST = 100;
  const started = Date.now();
  for (let s = 0; s < BURST / 10; s += 1) {
    const tick = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, k) => {
      const r = seeded(5000 + s * 10 + k);
      return triage.resident(r.from, r.text, r.name);
    }));
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
  }
  const want = before + BURST;
  await until(async () => (await triage.admin('GET', '/api/queues')).body.queues.find((q) => q.id === 'burgerzaken').waiting === want,
    'the burst handed over', 30000);
  const settled = Date.now();
  const count = page.locator('[data-test=queue][data-department=burgerzaken] [data-test=queue-count]');
  await count.filter({ hasText: new Intl.NumberFormat('nl-NL').format(want) }).waitFor({ timeout: 5000 });
  const behind = Date.now() - settled;
  console.log(`# burst of ${BURST} in ${settled - started} ms: the page right ${behind} ms after, ${lists} list requests`);
  assert.ok(behind < 2000, `the page was right ${behind} ms after the burst`);
  await summary(page).filter({ hasText: 'van ' + new Intl.NumberFormat('nl-NL').format(want) }).waitFor({ timeout: 2000 });
  assert.ok(await card.evaluate((el) => el === document.activeElement), 'the same card has focus');
  assert.equal(await card.evaluate((el) => el.isConnected), true, 'the card was updated in place, not redrawn');
  assert.equal(await active(page), 'conversation-item#' + cardId);
  // Throttled: far fewer list requests than events, and each a page.
  assert.ok(lists <= (settled - started) / 400 + 5, `${lists} list requests for ${BURST} events`);
  assert.deepEqual(whole, [], 'live events fetch a page, never the whole queue');
  await expectAccessible(page, 'the queue after a burst');
  assert.deepEqual(page.errors, []);
});

test('on a tablet, an item far down the queue opens in view; screenshots at both sizes', async () => {
  // 11:30: the thousand that came at 10:00 are late now (the badges show it, labelled).
  await triage.setClock('2026-11-24T11:30:00+01:00');
  const page = await triage.signedIn('demo-agent', '/inbox#q=burgerzaken', 'demo', TABLET);
  await summary(page).filter({ hasText: '1–50 van' }).waitFor();
  for (let p = 1; p < 14; p += 1) {
    await page.click('[data-test=page-next]');
    await summary(page).filter({ hasText: `${p * 50 + 1}–${p * 50 + 50} van` }).waitFor();
  }
  // Item 700 of the queue: the last card of page 14.
  const last = page.locator('[data-test=conversation-item]').last();
  await last.scrollIntoViewIfNeeded();
  const id = await last.getAttribute('data-id');
  await last.click();
  const conversation = page.locator(`[data-test=conversation][data-id="${id}"]`);
  await conversation.waitFor();
  await page.locator('[data-test=message][data-author=bot]').first().waitFor();
  const inView = async (locator, what, size = TABLET) => {
    const box = await locator.boundingBox();
    assert.ok(box, `${what} is shown`);
    assert.ok(box.y >= 0 && box.y + box.height <= size.height && box.x >= 0 && box.x + box.width <= size.width,
      `${what} in view: ${JSON.stringify(box)}`);
    return box;
  };
  await inView(conversation, 'the open conversation');
  await inView(page.locator('[data-test=history]'), 'its history');
  await inView(page.locator('[data-test=claim]'), 'Oppakken');
  assert.equal(await page.evaluate(() => document.scrollingElement.scrollTop), 0, 'the page itself does not scroll');
  const history = await page.locator('[data-test=history]').boundingBox();
  assert.ok(history.height >= 400, `the history gets most of the height (${history.height} px)`);
  // The queue column labels its numbers.
  assert.match(await page.locator('[data-test=queue][data-department=burgerzaken]').innerText(), /1\.\d{3} wachtend\s+1\.\d{3} te laat/);
  const late = await page.locator('[data-test=queue][data-department=burgerzaken] [data-test=queue-late]').boundingBox();
  const queueBox = await page.locator('[data-test=queue][data-department=burgerzaken]').boundingBox();
  assert.ok(late.x + late.width <= queueBox.x + queueBox.width + 0.5, 'the late badge is not clipped');
  await expectAccessible(page, 'the tablet layout with a conversation open');
  await page.locator('#toasts .toast').first().waitFor({ state: 'detached' }).catch(() => {});
  await screenshot(page, 'inbox-tablet.png');

  // The laptop: the same long queue, a conversation claimed and answered, the bot's reasons open.
  const laptop = await triage.signedIn('demo-agent', '/inbox#q=burgerzaken');
  await summary(laptop).filter({ hasText: '1–50 van' }).waitFor();
  await laptop.locator('[data-test=conversation-item]').nth(2).click();
  await laptop.locator('[data-test=message][data-author=bot]').first().waitFor();
  await inView(laptop.locator('[data-test=conversation]'), 'the open conversation on a laptop', { width: 1280, height: 800 });
  await laptop.click('text=Wat de bot besliste');
  await expectAccessible(laptop, 'the laptop layout with the bot\'s reasons open');
  await laptop.click('text=Wat de bot besliste');
  await laptop.locator('#toasts .toast').first().waitFor({ state: 'detached' }).catch(() => {});
  await screenshot(laptop, 'inbox.png');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(laptop.errors, []);
});
