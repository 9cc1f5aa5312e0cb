// Three channels in one inbox, in office hours: a Messenger message and an X direct message (signed
// webhooks, as Meta and X send them) and a question typed in the web chat widget, each handed over
// to the Klantcontactcentrum. The demo agent sees the three in the queue with their channel marks,
// filters by channel, opens each (with what its window allows), answers each; the answers reach the
// Messenger and X stand-ins and appear live in the widget. Accessible; screenshot
// docs/inbox-channels.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Triage, screenshot, until, ADMIN_TOKEN, TUESDAY_MORNING } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

const SECRET = 'demo-app-secret';
/** The demo's own accounts: the Facebook page and the X account the webhooks are for. */
const PAGE_ID = 'demo-page-id';
const X_ACCOUNT = 'demo-x-account';
const PSID = '6543210987654321';
const X_USER = '9876543210';
const NOW_MS = Date.parse(TUESDAY_MORNING);

/** Questions no FAQ answers and no routing rule claims: each goes to the Klantcontactcentrum. */
const ON_MESSENGER = 'ik wil een klacht indienen over mijn buren';
const ON_X = 'ik heb nog steeds geen antwoord op mijn brief van vorige maand';
const ON_WEBCHAT = 'ik heb een vraag over de herinrichting van mijn straat';

let triage;
before(async () => { triage = await Triage.start(TUESDAY_MORNING); });
after(async () => { await triage.stop(); });

async function post(path, body, headers) {
  const res = await fetch(triage.base + path, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
  assert.equal(res.status, 200, `${path}: ${res.status} ${await res.text()}`);
}

/** A Messenger text message of `psid` to the demo page, signed as Meta signs it. */
function messenger(psid, mid, text) {
  const body = JSON.stringify({
    object: 'page',
    entry: [{ id: PAGE_ID, time: NOW_MS, messaging: [{
      sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: NOW_MS, message: { mid, text },
    }] }],
  });
  const signature = 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex');
  return post('/webhooks/messenger', body, { 'X-Hub-Signature-256': signature });
}

/** An X direct message of `user` to the demo account, signed as X signs it (base64). */
function xDirectMessage(user, id, text, name) {
  const body = JSON.stringify({
    for_user_id: X_ACCOUNT,
    direct_message_events: [{
      type: 'message_create', id, created_timestamp: String(NOW_MS),
      message_create: { target: { recipient_id: X_ACCOUNT }, sender_id: user, message_data: { text } },
    }],
    users: {
      [user]: { id: user, name, screen_name: 'resident_tnz' },
      [X_ACCOUNT]: { id: X_ACCOUNT, name: 'Gemeente Terneuzen', screen_name: 'gemterneuzen' },
    },
  });
  const signature = 'sha256=' + createHmac('sha256', SECRET).update(body).digest('base64');
  return post('/webhooks/x', body, { 'x-twitter-webhooks-signature': signature });
}

/** What a channel's stand-in recorded as sent to `to`. */
async function sentOn(channel, to) {
  const res = await fetch(`${triage.base}/standin/${channel}/_standin/messages?to=${encodeURIComponent(to)}`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(res.status, 200);
  return res.json();
}

/** The reply the demo agent types for each channel, and what the test checks it by. */
const REPLIES = {
  messenger: 'Hoi! Een klacht over je buren kun je indienen via https://www.terneuzen.nl/klacht',
  x: 'Dank je, we geven de fiets door aan Openbare Ruimte; zij halen hem binnen een week weg.',
  webchat: 'Goede vraag! De plannen voor jouw straat staan op https://www.terneuzen.nl/herinrichting',
};

test('Messenger, X and the web chat in one queue: marks, a channel filter, windows, answers', async () => {
  // Messenger and X: signed webhooks; each channel answers through its own stand-in.
  await messenger(PSID, 'm_e2e_klacht_1', ON_MESSENGER);
  await xDirectMessage(X_USER, '1795510800000000001', ON_X, 'Joost');
  const handedOver = /collega van Klantcontactcentrum.*binnen een uur/;
  const botOnMessenger = await until(async () => (await sentOn('messenger', PSID))
    .find((r) => r.kind === 'message' && handedOver.test(r.body.message?.text || '')), "the bot's answer on Messenger");
  assert.equal(botOnMessenger.body.messaging_type, 'RESPONSE');
  await until(async () => (await sentOn('x', X_USER)).find((r) => handedOver.test(r.text)), "the bot's answer on X");

  // The web chat: a visitor types a question in the widget on the municipality's page.
  const widget = await triage.page();
  let loads = 0;
  widget.on('load', () => { loads += 1; });
  await widget.goto(`${triage.base}/webchat/demo`);
  await widget.click('[data-test=webchat-launcher]');
  await widget.fill('[data-test=webchat-input]', ON_WEBCHAT);
  await widget.press('[data-test=webchat-input]', 'Enter');
  await widget.locator('[data-test=webchat-message][data-from=bot]', { hasText: 'collega van Klantcontactcentrum' }).waitFor();

  // The agent: all three in the Klantcontactcentrum's queue, each with its channel's mark.
  const page = await triage.signedIn('demo-agent');
  await page.click('[data-test=queue][data-department=kcc]');
  await page.locator('[data-test=queue][data-department=kcc] [data-test=queue-count]', { hasText: '3' }).waitFor();
  const items = page.locator('[data-test=conversation-item]');
  const QUESTION = { messenger: ON_MESSENGER, x: ON_X, webchat: ON_WEBCHAT };
  const NAME = { messenger: 'Messenger', x: 'X', webchat: 'Webchat' };
  /** The card of the channel's conversation (its snippet changes once answered; its mark not). */
  const item = Object.fromEntries(Object.keys(QUESTION).map((channel) =>
    [channel, items.filter({ has: page.locator(`[data-test=channel][data-channel=${channel}]`) })]));
  for (const [channel, card] of Object.entries(item)) {
    await items.filter({ hasText: QUESTION[channel] }).waitFor();
    assert.equal(await card.count(), 1);
    assert.match(await card.locator('.snippet').innerText(), new RegExp(QUESTION[channel].slice(0, 20)));
    const mark = card.locator('[data-test=channel]');
    assert.equal(await mark.getAttribute('data-channel'), channel);
    // Its full name for screen readers (and on hover), the short mark hidden from them.
    assert.equal(await mark.getAttribute('title'), NAME[channel]);
    assert.equal(await mark.locator('.sr-only').innerText(), NAME[channel]);
    assert.match(await card.locator('[data-test=goal]').innerText(), /op tijd/);
  }
  assert.equal(await items.count(), 3);
  assert.match(await item.x.innerText(), /Joost/, "X's name of the sender");
  // The marks are one width: the names after them line up.
  const names = await items.locator('.who').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().left)));
  assert.equal(new Set(names).size, 1, `the names line up: ${names}`);
  const marks = await items.locator('[data-test=channel]').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().width)));
  assert.equal(new Set(marks).size, 1, `the marks are one width: ${marks}`);

  // Filtering by channel, on the server: one each, then all three again.
  for (const channel of Object.keys(item)) {
    await page.selectOption('[data-test=filter-channel]', channel);
    await page.locator('[data-test=list-summary]', { hasText: '1–1 van 1 gevonden' }).waitFor();
    await item[channel].waitFor();
    assert.equal(await items.count(), 1);
    assert.deepEqual(await items.locator('[data-test=channel]').evaluateAll((els) => els.map((e) => e.dataset.channel)), [channel]);
  }
  await page.selectOption('[data-test=filter-channel]', 'instagram');
  await page.locator('[data-test=list-summary]', { hasText: 'Niets gevonden.' }).waitFor();
  assert.equal(await items.count(), 0);
  await page.selectOption('[data-test=filter-channel]', '');
  await page.locator('[data-test=list-summary]', { hasText: '1–3 van 3' }).waitFor();
  assert.equal(await items.count(), 3);
  await expectAccessible(page, 'the inbox with a Messenger, an X and a web chat conversation');

  // Each opened: what its window allows, in words; claimed; answered.
  const WINDOW = {
    // Messenger: free text until 24 hours after the resident's message (Tuesday 10:00).
    messenger: /^24-uursvenster open tot wo 25 nov, 10:00$/,
    // X and the web chat have no window.
    x: /^antwoorden kan altijd$/,
    webchat: /^antwoorden kan altijd$/,
  };
  for (const channel of Object.keys(item)) {
    await item[channel].click();
    const head = page.locator('[data-test=conversation]');
    await head.waitFor();
    await head.locator(`[data-test=channel][data-channel=${channel}]`).waitFor();
    const window = head.locator('[data-test=window]');
    assert.equal(await window.getAttribute('data-window'), 'open');
    assert.match(await window.innerText(), WINDOW[channel]);
    if (channel === 'messenger') {
      // The queue of three channels with the first one open, as docs/inbox-channels.png shows it.
      await page.locator('[data-test=message][data-author=bot]').first().waitFor();
      await expectAccessible(page, 'the inbox with the three channels, the Messenger conversation open');
      await page.mouse.move(0, 799);
      await screenshot(page, 'inbox-channels.png');
    }
    await page.click('[data-test=claim]');
    await page.locator('[data-test=phase][data-phase=with_agent]').waitFor();
    await page.fill('[data-test=reply-input]', REPLIES[channel]);
    await page.click('[data-test=reply-send]');
    await page.locator('[data-test=message][data-author="agent:demo-agent"]', { hasText: REPLIES[channel].slice(0, 20) }).waitFor();
  }

  // Messenger: to the resident's page-scoped id, as a response inside the window.
  const onMessenger = await until(async () => (await sentOn('messenger', PSID))
    .find((r) => r.kind === 'message' && r.body.message?.text === REPLIES.messenger), 'the reply at the Messenger stand-in');
  assert.equal(onMessenger.to, PSID);
  assert.equal(onMessenger.account_id, PAGE_ID);
  assert.equal(onMessenger.body.recipient.id, PSID);
  assert.equal(onMessenger.body.messaging_type, 'RESPONSE');
  assert.equal(onMessenger.body.tag, undefined, 'no human-agent tag inside the window');
  // X: a direct message to the resident.
  const onX = await until(async () => (await sentOn('x', X_USER)).find((r) => r.text === REPLIES.x), 'the reply at the X stand-in');
  assert.equal(onX.to, X_USER);
  // Neither went to the other channel, nor to WhatsApp.
  assert.ok(!JSON.stringify(await sentOn('x', PSID)).includes('klacht'));
  assert.ok(!JSON.stringify(await sentOn('messenger', X_USER)).includes('fiets'));
  assert.ok(!JSON.stringify(await triage.sent(PSID)).includes('klacht'));
  // The web chat: live in the widget, its link a link, the page never reloaded.
  const fromAgent = widget.locator('[data-test=webchat-message][data-from=agent]');
  await fromAgent.waitFor();
  assert.match(await fromAgent.innerText(), /De plannen voor jouw straat/);
  await fromAgent.locator('a[href="https://www.terneuzen.nl/herinrichting"]').waitFor();
  assert.equal(loads, 1, 'the widget was not reloaded');

  // The three answered are the agent's own now, in "Mijn gesprekken", each with its mark.
  await page.click('[data-test=queue][data-department=mine]');
  await page.locator('[data-test=queue][data-department=mine]', { hasText: '3 in behandeling' }).waitFor();
  for (const channel of Object.keys(item)) {
    await item[channel].waitFor();
    assert.match(await item[channel].innerText(), /beantwoord/);
  }
  await expectAccessible(page, 'the agent\'s own conversations on three channels');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(widget.errors, []);
});
