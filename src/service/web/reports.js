// The reports: a period, its key figures, and charts with their tables and CSV downloads.
// Charts are SVG built here from the numbers (no library): bars start at zero and carry their
// values, so they read at a glance and never mislead.
'use strict';

(function () {
  const { h, fill, api, duration } = triage;
  const SVG = 'http://www.w3.org/2000/svg';
  const DAYS = ['ma', 'di', 'wo', 'do', 'vr', 'za', 'zo'];
  const OUTCOME = {
    faq: 'beantwoord met een FAQ', privacy_redirect: 'doorverwezen (privacy)', handover: 'naar een medewerker',
    to_agent: 'bericht aan medewerker', follow_up: 'nazorgvraag gesteld', follow_up_yes: 'nazorg: nog nodig',
    follow_up_no: 'nazorg: niet meer nodig', follow_up_other: 'nazorg: ander bericht', ignored: 'genegeerd',
  };
  const main = document.getElementById('main');
  let me = null;
  let departments = {};

  /** An SVG element with attributes. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }

  function iso(d) {
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  function monday(d) {
    const x = new Date(d);
    x.setDate(x.getDate() - ((x.getDay() + 6) % 7));
    return x;
  }

  const from = h('input', { type: 'date', id: 'from', 'data-test': 'period-from' });
  const to = h('input', { type: 'date', id: 'to', 'data-test': 'period-to' });
  const body = h('div', { class: 'stack', id: 'report' });

  function quick(label, range) {
    return h('button', { type: 'button', onclick: () => { const [a, b] = range(); from.value = iso(a); to.value = iso(b); load(); } }, label);
  }

  triage.start('reports').then((user) => {
    me = user;
    departments = Object.fromEntries((me.all_departments || []).map((d) => [d.id, d.name]));
    const today = new Date();
    const form = h('form', { class: 'card row period', 'aria-label': 'Periode' },
      h('div', {}, h('label', { for: 'from' }, 'Van'), from),
      h('div', {}, h('label', { for: 'to' }, 'Tot en met'), to),
      h('button', { class: 'primary', type: 'submit', 'data-test': 'period-apply' }, 'Toon'),
      h('span', { class: 'spacer' }),
      quick('Deze week', () => [monday(today), today]),
      quick('Vorige week', () => { const m = monday(today); m.setDate(m.getDate() - 7); const e = new Date(m); e.setDate(e.getDate() + 6); return [m, e]; }),
      quick('Laatste 30 dagen', () => { const a = new Date(today); a.setDate(a.getDate() - 29); return [a, today]; }));
    form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
    const start = new Date(today);
    start.setDate(start.getDate() - 6);
    from.value = iso(start);
    to.value = iso(today);
    fill(main, h('h1', {}, 'Rapportages'),
      me.role === 'agent' ? h('p', { class: 'muted' }, 'Je ziet de gesprekken van je eigen afdelingen.') : null,
      form, body);
    load();
  }).catch((e) => fill(main, h('p', { class: 'error' }, e.message || String(e))));

  function query() {
    return 'from=' + encodeURIComponent(from.value) + '&to=' + encodeURIComponent(to.value);
  }

  async function load() {
    fill(body, h('p', { class: 'muted' }, 'Laden…'));
    try {
      draw(await api('GET', '/api/reports?' + query()));
    } catch (e) {
      fill(body, h('p', { class: 'error', 'data-test': 'error' }, e.message));
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
        section('Meest gestelde FAQ-vragen', 'topics', bars(r.topics.map((c) => [c.key, c.count])),
          countTable(['Onderwerp', 'Aantal'], r.topics.map((c) => [c.key, c.count]), 'topics')),
        section('Nazorgvraag', 'follow_ups', followUpChart(r.follow_ups), followUpTable(r.follow_ups)),
        section('Per afdeling: eerste antwoord binnen een werkuur', 'departments', null, departmentTable(r.departments))));
  }

  function section(title, table, chart, tableEl) {
    return h('section', { class: 'card chart', 'aria-label': title },
      h('div', { class: 'row head' }, h('h2', {}, title), h('span', { class: 'spacer' }),
        h('a', { class: 'btn small', href: '/api/reports/' + table + '.csv?' + query(), download: '', 'data-test': 'csv-' + table }, 'CSV')),
      chart, tableEl);
  }

  function perDayChart(days) {
    const W = 480; const H = 200; const left = 30; const bottom = 40; const top = 16;
    const max = Math.max(1, ...days.map((d) => d.inbound));
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
        const date = new Date(d.date + 'T12:00:00');
        svg.append(s('text', { x: x + bw / 2, y: H - bottom + 16, 'text-anchor': 'middle', class: 'axis' },
          DAYS[(date.getDay() + 6) % 7] + ' ' + date.getDate() + '/' + (date.getMonth() + 1)));
      }
    });
    return h('figure', {}, svg, h('figcaption', { class: 'legend small' },
      h('span', { class: 'swatch bar' }), 'binnen kantoortijd ', h('span', { class: 'swatch closed' }), 'buiten kantoortijd'));
  }

  function heatmap(rows) {
    const cell = 18; const left = 24; const top = 16;
    const max = Math.max(1, ...rows.flat());
    const svg = s('svg', { viewBox: `0 0 ${left + 24 * cell + 4} ${top + 7 * cell + 4}`, role: 'img', 'aria-label': 'Berichten per uur van de week' });
    for (let hr = 0; hr < 24; hr += 3) svg.append(s('text', { x: left + hr * cell + cell / 2, y: 12, 'text-anchor': 'middle', class: 'axis' }, String(hr).padStart(2, '0')));
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
    const W = 480; const row = 24; const labelW = 190;
    const max = Math.max(1, ...items.map(([, v]) => v));
    const svg = s('svg', { viewBox: `0 0 ${W} ${items.length * row + 4}`, role: 'img', 'aria-label': 'Staafdiagram' });
    items.forEach(([label, v], i) => {
      const w = ((W - labelW - 50) * v) / max;
      svg.append(s('text', { x: labelW - 8, y: i * row + 17, 'text-anchor': 'end', class: 'label' }, label),
        s('rect', { x: labelW, y: i * row + 4, width: Math.max(w, 1), height: row - 8, class: 'bar' }),
        s('text', { x: labelW + w + 6, y: i * row + 17, class: 'value' }, v));
    });
    return svg;
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
      days.map((d) => [d.date, d.inbound, d.outside_hours]), (i) => i > 0));
  }

  function hourTable(rows) {
    const head = ['Dag'].concat([...Array(24).keys()].map((x) => String(x).padStart(2, '0')));
    return details(h('div', { class: 'scroll' }, tableOf('hour_of_week', head, rows.map((r, d) => [DAYS[d]].concat(r)), (i) => i > 0)));
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

  function departmentTable(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'Geen overdrachten in deze periode.');
    return h('table', { class: 'data', 'data-test': 'table-departments' },
      h('thead', {}, h('tr', {}, ['Afdeling', 'Overgedragen', 'Binnen een werkuur', 'Later', 'Wacht nog', 'Te laat, geen antwoord', 'Mediaan', '90%']
        .map((x, i) => h('th', { class: i ? 'num' : null }, x)))),
      h('tbody', {}, list.map((d) => h('tr', {},
        h('td', {}, departments[d.department] || d.department),
        h('td', { class: 'num' }, d.handovers),
        h('td', { class: 'num' }, h('span', { class: 'badge ' + (d.within_goal_percent === null ? '' : d.within_goal_percent >= 80 ? 'ok' : d.within_goal_percent >= 50 ? 'warn' : 'late') },
          d.within_goal + ' · ' + pct(d.within_goal_percent))),
        h('td', { class: 'num' }, d.answered_late),
        h('td', { class: 'num' }, d.waiting),
        h('td', { class: 'num' }, d.unanswered_late),
        h('td', { class: 'num' }, d.median_seconds === null ? '—' : duration(d.median_seconds)),
        h('td', { class: 'num' }, d.p90_seconds === null ? '—' : duration(d.p90_seconds))))));
  }
})();
