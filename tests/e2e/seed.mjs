// A long queue for the browser tests: `n` residents in Burgerzaken, seeded through the real
// service (signed webhooks, batched as Meta batches them, several at once), then waited for
// until the bot has handed every one over.
import { until } from './server.mjs';

const FIRST = ['Fatima', 'Daan', 'Sanne', 'Mohammed', 'Emma', 'Lucas', 'Noor', 'Sem', 'Julia', 'Yusuf', 'Anouk', 'Bram'];
const LAST = ['de Vries', 'Jansen', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer', 'Mulder', 'Yilmaz', 'El Amrani', 'Peeters'];
// Questions the bot hands over to Burgerzaken (no FAQ answers them).
const ASKS = [
  'ik wil mijn naam wijzigen, hoe gaat dat?',
  'ik heb een brief gekregen over mijn naamswijziging maar snap het niet',
  'ik wil mijn achternaam wijzigen, kan dat?',
  'mijn voornaam staat verkeerd gespeld, wie kan dat aanpassen',
  'ik wil graag iemand spreken over mijn naturalisatie',
];

/** The number, name and question of resident `i` (0-based) of a seeded queue. */
export function seeded(i) {
  return {
    from: '3161' + String(2000000 + i).padStart(7, '0'),
    name: FIRST[i % FIRST.length] + ' ' + LAST[Math.floor(i / FIRST.length) % LAST.length],
    text: ASKS[i % ASKS.length] + ' (vraag ' + (i + 1) + ')',
  };
}

/** Seeds `n` residents into Burgerzaken; resolves with the milliseconds it took. */
export async function seedBurgerzaken(triage, n, { batch = 50, parallel = 4 } = {}) {
  const started = Date.now();
  const batches = [];
  for (let i = 0; i < n; i += batch) batches.push(Array.from({ length: Math.min(batch, n - i) }, (_, k) => seeded(i + k)));
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < batches.length) await triage.residents(batches[next++]);
  }));
  await until(async () => {
    const r = await triage.admin('GET', '/api/queues');
    const q = r.body.queues.find((x) => x.id === 'burgerzaken');
    return q && q.waiting >= n;
  }, `${n} waiting in Burgerzaken`, 60000);
  return Date.now() - started;
}
