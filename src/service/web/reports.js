// The reports: a period, its key figures, and charts with their tables and CSV downloads.
// Charts are SVG built here from the numbers (no library): bars start at zero and carry their
// values, so they read at a glance and never mislead.
//
// Days are the office's (Europe/Amsterdam) and written in Dutch whatever the browser's language;
// "today" is the service's (its clock, which tests and the demo may set), never the computer's.
'use strict';

(function () {
  const { h, fill, api, duration } = triage;
  const TZ = 'Europe/Amsterdam';
  const SVG = 'http://www.w3.org/2000/svg';
  const DAYS = ['ma', 'di', 'wo', 'do', 'vr', 'za', 'zo'];
  const OUTCOME = {
    faq: 'beantwoord met een FAQ', clarify: 'teruggevraagd welk onderwerp', privacy_redirect: 'doorverwezen (privacy)', handover: 'naar een medewerker',
    to_agent: 'bericht aan medewerker', follow_up: 'nazorgvraag gesteld', follow_up_yes: 'nazorg: nog nodig',
    follow_up_no: 'nazorg: niet meer nodig', follow_up_other: 'nazorg: ander bericht', ignored: 'genegeerd',
    follow_up_blocked: 'nazorg: kanaal staat het niet toe',
  };
  const main = document.getElementById('main');
  let me = null;
  let departments = {};
  /** The service's today (YYYY-MM-DD), from the last report. */
  let today = null;
  /** The period of the report shown (YYYY-MM-DD), for the CSV links. */
  let shown = null;

  /** An SVG element with attributes. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }

  // Days as YYYY-MM-DD strings; arithmetic on them at noon UTC, which is the same day in
  // Amsterdam in every season.
  const noon = (day) => new Date(day + 'T12:00:00Z');
  const isoOf = (d) => d.toISOString().slice(0, 10);
  const addDays = (day, n) => { const d = noon(day); d.setUTCDate(d.getUTCDate() + n); return isoOf(d); };
  const mondayOf = (day) => addDays(day, -((noon(day).getUTCDay() + 6) % 7));
  const fmt = (opts) => new Intl.DateTimeFormat('nl-NL', Object.assign({ timeZone: TZ }, opts));
  const numeric = fmt({ day: '2-digit', month: '2-digit', year: 'numeric' });
  const long = fmt({ weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  const axis = fmt({ weekday: 'short', day: 'numeric', month: 'numeric' });
  /** "24-11-2026": what the period's fields show and take. */
  const dutchDay = (day) => numeric.format(noon(day));
  /** "di 24 nov 2026". */
  const longDay = (day) => long.format(noon(day));

  /** A day typed as 24-11-2026 (or 24/11/2026, 24.11.2026, or 2026-11-24) as YYYY-MM-DD; null
   * when it is no day. */
  function parseDay(text) {
    const t = text.trim();
    let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
    let y; let mo; let d;
    if (m) [, y, mo, d] = m;
    else if ((m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(t))) [, d, mo, y] = m;
    else return null;
    const day = y + '-' + mo.padStart(2, '0') + '-' + d.padStart(2, '0');
    const check = new Date(day + 'T12:00:00Z');
    return Number.isNaN(check.getTime()) || isoOf(check) !== day ? null : day;
  }

  const hint = h('p', { id: 'period-hint', class: 'muted small hint' }, 'Typ een datum als 24-11-2026.');
  const field = (id, test) => h('input', { type: 'text', id, inputmode: 'numeric', autocomplete: 'off', size: 11,
    placeholder: 'dd-mm-jjjj', 'aria-describedby': 'period-hint', 'data-test': test });
  const from = field('from', 'period-from');
  const to = field('to', 'period-to');
  const periodError = h('p', { class: 'error small', role: 'alert', 'data-test': 'period-error' });
  const body = h('div', { class: 'stack', id: 'report' });

  function quick(label, range) {
    return h('button', { type: 'button', onclick: () => {
      if (!today) return;
      const [a, b] = range(today);
      from.value = dutchDay(a); to.value = dutchDay(b); load();
    } }, label);
  }

  triage.start('reports').then((user) => {
    me = user;
    departments = Object.fromEntries((me.all_departments || []).map((d) => [d.id, d.name]));
    const form = h('form', { class: 'card period', 'aria-label': 'Periode' },
      h('div', { class: 'row' },
        h('div', {}, h('label', { for: 'from' }, 'Van'), from),
        h('div', {}, h('label', { for: 'to' }, 'Tot en met'), to),
        h('button', { class: 'primary', type: 'submit', 'data-test': 'period-apply' }, 'Toon'),
        h('span', { class: 'spacer' }),
        quick('Deze week', (t) => [mondayOf(t), t]),
        quick('Vorige week', (t) => { const m = addDays(mondayOf(t), -7); return [m, addDays(m, 6)]; }),
        quick('Laatste 30 dagen', (t) => [addDays(t, -29), t])),
      hint, periodError);
    form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
    fill(main, h('h1', {}, 'Rapportages'),
      me.role === 'agent' ? h('p', { class: 'muted' }, 'Je ziet de gesprekken van je eigen afdelingen.') : null,
      form, body);
    load();
  }).catch((e) => fill(main, h('p', { class: 'error' }, e.message || String(e))));

  function query(period) {
    return 'from=' + encodeURIComponent(period.from) + '&to=' + encodeURIComponent(period.to);
  }

  /** The period typed in, as YYYY-MM-DD; null (with the field marked and focused) when a day
   * is not one. Empty fields the first time: the service's last seven days. */
  function typed() {
    periodError.textContent = '';
    for (const f of [from, to]) f.removeAttribute('aria-invalid');
    if (!from.value.trim() && !to.value.trim()) return {};
    for (const f of [from, to]) {
      if (!parseDay(f.value)) {
        f.setAttribute('aria-invalid', 'true');
        periodError.textContent = '“' + f.value + '” is geen datum. Typ een datum als 24-11-2026.';
        f.focus();
        return null;
      }
    }
    return { from: parseDay(from.value), to: parseDay(to.value) };
  }

  let loads = 0;
  async function load() {
    const period = typed();
    if (!period) return;
    // Only the newest request draws (answers may come back out of order), and a field the
    // visitor typed in meanwhile keeps what they typed.
    const mine = ++loads;
    const sent = [from.value, to.value];
    fill(body, h('p', { class: 'muted' }, 'Laden…'));
    try {
      const r = await api('GET', '/api/reports' + (period.from ? '?' + query(period) : ''));
      if (mine !== loads) return;
      today = r.today;
      shown = r.period;
      if (from.value === sent[0]) from.value = dutchDay(r.period.from);
      if (to.value === sent[1]) to.value = dutchDay(r.period.to);
      draw(r);
    } catch (e) {
      if (mine === loads) fill(body, h('p', { class: 'error', 'data-test': 'error' }, e.message));
    }
  }

  // -------------------------------------------------------------------------------------------

  function kpi(test, label, value, note) {
    return h('div', { class: 'kpi card' },
      h('div', { class: 'value', 'data-test': test }, value),
      h('div', { class: 'label' }, label),
      note ? h('div', { class: 'muted small' }, note) : null);
  }

  function pct(x) { return x === null || x === undefined ? '—' : String(x).replace('.', ',') + '%'; }

  function draw(r) {
    const t = r.totals;
    const answeredByBot = t.faq + t.privacy_redirect;
    fill(body,
      h('div', { class: 'kpis' },
        kpi('kpi-inbound', 'berichten van inwoners', t.inbound),
        kpi('kpi-faq', 'beantwoord met een FAQ', t.faq,
          t.inbound ? pct(Math.round(answeredByBot * 1000 / t.inbound) / 10) + ' door de bot (met privacy)' : null),
        kpi('kpi-clarify', 'teruggevraagd welk onderwerp', t.clarify),
        kpi('kpi-privacy', 'doorverwezen (privacy)', t.privacy_redirect),
        kpi('kpi-handover', 'naar een medewerker', t.handover),
        kpi('kpi-within-goal', 'binnen een werkuur beantwoord', pct(t.within_goal_percent), t.answered_within_goal + (t.answered_within_goal === 1 ? ' gesprek' : ' gesprekken')),
        kpi('kpi-median', 'eerste antwoord (mediaan, kantoortijd)',
          t.first_answer_median_seconds === null ? '—' : duration(t.first_answer_median_seconds),
          t.first_answer_p90_seconds === null ? null : '90% binnen ' + duration(t.first_answer_p90_seconds)),
        kpi('kpi-outside-hours', 'buiten kantoortijd', t.outside_hours, pct(t.outside_hours_percent))),
      h('div', { class: 'grid' },
        section('Berichten per dag', 'per_day', perDayChart(r.per_day), perDayTable(r.per_day)),
        section('Berichten per uur van de week', 'hour_of_week', heatmap(r.hour_of_week), hourTable(r.hour_of_week)),
        section('Wat de bot deed', 'outcomes', bars(r.outcomes.map((c) => [OUTCOME[c.key] || c.key, c.count])),
          countTable(['Uitkomst', 'Aantal'], r.outcomes.map((c) => [OUTCOME[c.key] || c.key, c.count]), 'outcomes')),
        section('Meest gestelde FAQ-vragen', 'topics', bars(r.topics.map((c) => [topicTitle(r, c.key), c.count])),
          countTable(['Onderwerp', 'Aantal'], r.topics.map((c) => [topicTitle(r, c.key), c.count]), 'topics')),
        section('Nazorgvraag', 'follow_ups', followUpChart(r.follow_ups), followUpTable(r.follow_ups)),
        section('Per afdeling: eerste antwoord binnen een werkuur', 'departments', null, departmentTable(r.departments), 'wide'),
        section('Per kanaal: berichten en eerste antwoord', 'channels', null, channelTable(r.channels || []), 'wide')));
  }

  /** A topic's title from the flows; its id when the flows no longer have it. */
  function topicTitle(r, key) {
    return (r.topic_titles && r.topic_titles[key]) || key;
  }

  function section(title, table, chart, tableEl, wide) {
    return h('section', { class: 'card chart' + (wide ? ' wide' : ''), 'aria-label': title },
      h('div', { class: 'row head' }, h('h2', {}, title), h('span', { class: 'spacer' }),
        h('a', { class: 'btn small', href: '/api/reports/' + table + '.csv?' + query(shown), download: '', 'data-test': 'csv-' + table,
          title: 'CSV voor Excel of LibreOffice (puntkomma’s, decimale komma)', 'aria-label': 'CSV van ' + title }, 'CSV')),
      chart, tableEl);
  }

  /** A table that may be wider than its card: it scrolls inside a region the keyboard reaches. */
  function scroller(label, table) {
    return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': label }, table);
  }

  function perDayChart(days) {
    const W = 480; const H = 200; const bottom = 40; const top = 16;
    const max = Math.max(1, ...days.map((d) => d.inbound));
    // Room for the longest value on the axis (about 7 units a digit at 11px).
    const left = 14 + 7 * String(max).length;
    const step = (W - left - 8) / days.length;
    const bw = Math.max(2, Math.min(40, step * 0.7));
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Berichten per dag, staafdiagram' });
    for (const v of [0, Math.ceil(max / 2), max]) {
      svg.append(s('line', { x1: left, x2: W - 4, y1: y(v), y2: y(v), class: 'grid-line' }),
        s('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, v));
    }
    const every = Math.ceil(days.length / 8);
    days.forEach((d, i) => {
      const x = left + i * step + (step - bw) / 2;
      const open = d.inbound - d.outside_hours;
      svg.append(s('rect', { x, y: y(open), width: bw, height: y(0) - y(open), class: 'bar' }));
      svg.append(s('rect', { x, y: y(d.inbound), width: bw, height: y(open) - y(d.inbound), class: 'bar closed' }));
      if (d.inbound && days.length <= 31) svg.append(s('text', { x: x + bw / 2, y: y(d.inbound) - 4, 'text-anchor': 'middle', class: 'value' }, d.inbound));
      if (i % every === 0) {
        svg.append(s('text', { x: x + bw / 2, y: H - bottom + 16, 'text-anchor': 'middle', class: 'axis' }, axis.format(noon(d.date))));
      }
    });
    return h('figure', {}, svg, h('figcaption', { class: 'legend small' },
      h('span', { class: 'swatch bar' }), 'binnen kantoortijd ', h('span', { class: 'swatch closed' }), 'buiten kantoortijd'));
  }

  function heatmap(rows) {
    const cell = 18; const left = 28; const top = 18;
    const max = Math.max(1, ...rows.flat());
    const svg = s('svg', { viewBox: `0 0 ${left + 24 * cell + 6} ${top + 7 * cell + 6}`, role: 'img', 'aria-label': 'Berichten per uur van de week' });
    for (let hr = 0; hr < 24; hr += 3) svg.append(s('text', { x: left + hr * cell + cell / 2, y: 13, 'text-anchor': 'middle', class: 'axis' }, String(hr).padStart(2, '0')));
    rows.forEach((row, d) => {
      svg.append(s('text', { x: left - 6, y: top + d * cell + cell / 2 + 4, 'text-anchor': 'end', class: 'axis' }, DAYS[d]));
      row.forEach((v, hr) => {
        const level = v === 0 ? 0 : 1 + Math.floor((v / max) * 4 - 1e-9);
        const rect = s('rect', { x: left + hr * cell + 1, y: top + d * cell + 1, width: cell - 2, height: cell - 2, rx: 3, class: 'heat l' + level });
        rect.append(s('title', {}, `${DAYS[d]} ${String(hr).padStart(2, '0')}:00–${String(hr + 1).padStart(2, '0')}:00: ${v}`));
        svg.append(rect);
        if (v) svg.append(s('text', { x: left + hr * cell + cell / 2, y: top + d * cell + cell / 2 + 4, 'text-anchor': 'middle', class: 'cell-value' + (level >= 3 ? ' light' : '') }, v));
      });
    });
    return h('figure', {}, svg, h('figcaption', { class: 'legend small' }, 'lichter = minder, donkerder = meer (max ', max, ' per uur)'));
  }

  function bars(items) {
    if (!items.length) return h('p', { class: 'muted' }, 'Niets in deze periode.');
    const W = 480; const row = 24; const labelW = 230;
    const max = Math.max(1, ...items.map(([, v]) => v));
    const svg = s('svg', { viewBox: `0 0 ${W} ${items.length * row + 4}`, role: 'img', 'aria-label': 'Staafdiagram' });
    items.forEach(([label, v], i) => {
      const w = ((W - labelW - 50) * v) / max;
      // A label longer than its room is cut with an ellipsis; the whole one is its tooltip and
      // stands in the table below.
      const short = fitted(String(label), labelW - 12, 13);
      svg.append(s('text', { x: labelW - 8, y: i * row + 17, 'text-anchor': 'end', class: 'label' }, short, s('title', {}, label)),
        s('rect', { x: labelW, y: i * row + 4, width: Math.max(w, 1), height: row - 8, class: 'bar' }),
        s('text', { x: labelW + w + 6, y: i * row + 17, class: 'value' }, v));
    });
    return svg;
  }

  let measure = null;
  /** `text`, cut with an ellipsis where it would be wider than `width` at `size` px in the
   * page's font (a chart's units are CSS pixels at its natural width). */
  function fitted(text, width, size) {
    if (!measure) measure = document.createElement('canvas').getContext('2d');
    if (!measure) return text;
    measure.font = size + 'px ' + getComputedStyle(document.body).fontFamily;
    if (measure.measureText(text).width <= width) return text;
    let cut = text;
    while (cut.length > 1 && measure.measureText(cut + '…').width > width) cut = cut.slice(0, -1);
    return cut.trimEnd() + '…';
  }

  function followUpChart(f) {
    return bars([['gesteld', f.asked], ['nog nodig', f.still_needed], ['niet meer nodig', f.no_longer_needed], ['geen antwoord', f.no_answer]]);
  }

  function details(table) {
    return h('details', {}, h('summary', {}, 'Tabel'), table);
  }

  function tableOf(name, head, rows, numeric) {
    return h('table', { class: 'data', 'data-test': 'table-' + name },
      h('thead', {}, h('tr', {}, head.map((x, i) => h('th', { class: numeric(i) ? 'num' : null }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((x, i) => h('td', { class: numeric(i) ? 'num' : null }, x))))));
  }

  function perDayTable(days) {
    return details(tableOf('per_day', ['Dag', 'Berichten', 'Buiten kantoortijd'],
      days.map((d) => [longDay(d.date), d.inbound, d.outside_hours]), (i) => i > 0));
  }

  function hourTable(rows) {
    const head = ['Dag'].concat([...Array(24).keys()].map((x) => String(x).padStart(2, '0')));
    return details(scroller('Berichten per uur van de week, tabel',
      tableOf('hour_of_week', head, rows.map((r, d) => [DAYS[d]].concat(r)), (i) => i > 0)));
  }

  function countTable(head, rows, name) {
    return details(tableOf(name, head, rows, (i) => i > 0));
  }

  function followUpTable(f) {
    return details(tableOf('follow_ups', ['Nazorgvraag', 'Aantal'], [
      ['gesteld', f.asked], ['nog nodig (ja)', f.still_needed - f.still_needed_by_message],
      ['nog nodig (ander bericht)', f.still_needed_by_message], ['niet meer nodig', f.no_longer_needed], ['geen antwoord', f.no_answer],
    ], (i) => i > 0));
  }

  /** A channel's name, from `/api/me` (its id when the channel is no longer in use). */
  const channelTitle = (id) => ((me && me.channels) || []).find((c) => c.id === id)?.title || id;

  function channelTable(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'Geen berichten in deze periode.');
    return handlingTable('Per kanaal, tabel', 'table-channels', ['Kanaal', 'Berichten'], list,
      (c) => [h('td', {}, channelTitle(c.channel)), h('td', { class: 'num' }, c.inbound)]);
  }

  function departmentTable(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'Geen overdrachten in deze periode.');
    return handlingTable('Per afdeling, tabel', 'table-departments', ['Afdeling'], list,
      (d) => [h('td', {}, departments[d.department] || d.department)]);
  }

  /** Handovers and how fast they were answered, one row each, after the row's own cells. */
  function handlingTable(label, test, first, list, cells) {
    return scroller(label, h('table', { class: 'data', 'data-test': test },
      h('thead', {}, h('tr', {}, [...first, 'Overgedragen', 'Binnen een werkuur', 'Later', 'Wacht nog', 'Te laat, geen antwoord', 'Mediaan', '90%']
        .map((x, i) => h('th', { class: i ? 'num' : null }, x)))),
      h('tbody', {}, list.map((d) => h('tr', {},
        ...cells(d),
        h('td', { class: 'num' }, d.handovers),
        h('td', { class: 'num' }, h('span', { class: 'badge ' + (d.within_goal_percent === null ? '' : d.within_goal_percent >= 80 ? 'ok' : d.within_goal_percent >= 50 ? 'warn' : 'late') },
          d.within_goal + ' · ' + pct(d.within_goal_percent))),
        h('td', { class: 'num' }, d.answered_late),
        h('td', { class: 'num' }, d.waiting),
        h('td', { class: 'num' }, d.unanswered_late),
        h('td', { class: 'num' }, d.median_seconds === null ? '—' : duration(d.median_seconds)),
        h('td', { class: 'num' }, d.p90_seconds === null ? '—' : duration(d.p90_seconds)))))));
  }
})();
