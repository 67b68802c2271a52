// The ops board of plant-register: one page, three views (shortages, a
// material's history, plants), drawn from the register's JSON API and kept
// live by its event stream (/api/events). No framework and nothing fetched
// from elsewhere: plant networks have no internet. Every value from the API is
// put in the page as text (h() below), never as HTML.
'use strict';

const tokenKey = 'plant-register-token';
const page = document.getElementById('page');
const state = {
  view: null,         // 'shortages' | 'material' | 'plants'
  who: { writes_enabled: false, operator: null },
  lastEvent: 0,       // Date.now() of the newest event
  live: false,
  materialRange: { hours: 24, from: null, to: null },
  reloadTimer: null,
};

// --- small helpers -----------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElementNS(tag.startsWith('svg:') ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml',
                                       tag.replace(/^svg:/, ''));
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function token() { return localStorage.getItem(tokenKey) || ''; }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text.trim() }; }
  if (!response.ok) {
    const error = new Error((body && body.error) || ('HTTP ' + response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

function number(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return Number(x).toLocaleString('en-US', { maximumFractionDigits: digits });
}

function duration(ms) {
  const negative = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const mm = Math.floor(s / 60); s -= mm * 60;
  let text;
  if (d > 0) text = `${d} d ${hh} h`;
  else if (hh > 0) text = `${hh} h ${mm} min`;
  else if (mm > 0) text = `${mm} min ${s} s`;
  else text = `${s} s`;
  return negative ? '-' + text : text;
}

function clock(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  return t.toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function ago(iso) {
  if (!iso) return 'never';
  return duration(Date.now() - Date.parse(iso)) + ' ago';
}

function showBanner(text) {
  const banner = document.getElementById('banner');
  banner.textContent = text || '';
  banner.hidden = !text;
}

const reasonText = {
  no_cover: 'nothing on order arrives in time',
  late_receipt: 'a receipt is late',
  receipt_too_small: 'on order, but not enough',
  demand_above_plan: 'consumption runs above the plan',
};

// "+3,000 kg, next 2 Dec, 14:00; 1 late (500 kg)", or "nothing on order".
function supplyText(m) {
  const parts = [];
  if (m.incoming > 0) parts.push(`+${number(m.incoming)} ${m.unit} due within the lead time`);
  if (m.next_receipt) parts.push('next ' + clock(m.next_receipt));
  if (m.late_receipts && m.late_receipts.count > 0) {
    parts.push(`${m.late_receipts.count} late (${number(m.late_receipts.quantity)} ${m.unit})`);
  }
  return parts.length ? parts.join('; ') : 'nothing on order';
}

function materialHref(site, material) {
  return '/material/' + encodeURIComponent(site) + '/' + encodeURIComponent(material);
}

// --- routing -----------------------------------------------------------------

function route() {
  const path = location.pathname;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.getAttribute('href') === path);
  const m = path.match(/^\/material\/([^/]+)\/([^/]+)$/);
  if (m) return showMaterial(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  if (path === '/plants') return showPlants();
  return showShortages();
}

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href^="/"]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  if (a.getAttribute('href') !== location.pathname + location.search) history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);

// --- the shortage board --------------------------------------------------------

async function showShortages() {
  state.view = 'shortages';
  document.title = 'Shortages - plant-register';
  let shortages;
  try {
    shortages = await api('/api/shortages');
    showBanner('');
  } catch (e) {
    showBanner('Cannot read the shortages: ' + e.message);
    return;
  }
  if (state.view !== 'shortages') return;
  const active = [], acknowledged = [], snoozed = [];
  for (const s of shortages) {
    if (s.action && s.action.effect === 'holds' && s.action.action === 'snooze') snoozed.push(s);
    else if (s.action && s.action.effect === 'holds') acknowledged.push(s);
    else active.push(s);
  }
  const content = [h('h1', {}, 'Shortages across plants')];
  if (shortages.length === 0) {
    content.push(h('p', { id: 'no-shortages', class: 'muted' }, 'No shortages: every watched material is ok.'));
  }
  content.push(h('section', { class: 'cards', id: 'shortages' }, active.concat(acknowledged).map(shortageCard)));
  if (snoozed.length > 0) {
    content.push(h('details', { id: 'snoozed' }, h('summary', {}, `Snoozed (${snoozed.length})`),
                   h('div', { class: 'cards' }, snoozed.map(shortageCard))));
  }
  page.replaceChildren(...content);
  tick();
}

function shortageCard(s) {
  const acknowledged = s.action && s.action.effect === 'holds';
  const card = h('article', {
    class: `shortage status-${s.status}` + (acknowledged ? ' acknowledged' : ''),
    'data-site': s.site, 'data-material': s.material,
  });
  card.append(h('h2', {}, h('a', { href: materialHref(s.site, s.material), class: 'material-link' }, `${s.material} at ${s.site}`),
                h('span', { class: `badge status-${s.status}` }, s.status)));
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, 'on hand'), h('dd', { class: 'quantity', 'data-stock': s.site + '|' + s.material }, `${number(s.quantity)} ${s.unit}`),
    h('dt', {}, 'consumption'), h('dd', { class: 'rate' }, `${number(s.rate, 1)} ${s.unit}/h`),
    h('dt', {}, 'runs out'),
    h('dd', {}, s.status === 'out' ? h('span', { class: 'countdown' }, 'out now')
                : s.projected_stockout ? [h('span', { class: 'countdown', 'data-until': s.projected_stockout }, ''), ' (', clock(s.projected_stockout), ')']
                : h('span', { class: 'muted' }, 'not consuming')),
    h('dt', {}, 'why'), h('dd', { class: 'reason' }, s.reason ? reasonText[s.reason] || s.reason : '–'),
    h('dt', {}, 'on order'), h('dd', { class: 'supply' + (s.late_receipts && s.late_receipts.count ? ' starved' : '') }, supplyText(s)),
    h('dt', {}, 'feeds'), h('dd', {}, s.lines.length ? s.lines.join(', ') : '–'),
    h('dt', {}, 'starved'), h('dd', { class: s.starved_lines.length ? 'starved' : '' }, s.starved_lines.length ? s.starved_lines.join(', ') : 'none'),
    h('dt', {}, 'reported by'), h('dd', {}, s.agent));
  card.append(facts);
  if (s.surplus.length === 0) {
    card.append(h('p', { class: 'muted' }, 'No plant reports a surplus of ' + s.material + '.'));
  } else {
    card.append(h('div', {}, h('strong', {}, 'Who can help')));
    card.append(h('ul', { class: 'surplus' }, s.surplus.map((p) => surplusItem(s, p))));
  }
  if (s.action) {
    const a = s.action;
    const what = a.action === 'snooze' ? `Snoozed until ${clock(a.until)}` : 'Acknowledged';
    const text = a.effect === 'escalated'
      ? `Escalated to ${s.status} since ${a.by} ${a.action === 'snooze' ? 'snoozed' : 'acknowledged'} it at ${a.status} (${clock(a.at)})`
      : `${what} by ${a.by} at ${clock(a.at)}`;
    card.append(h('p', { class: 'action-state' + (a.effect === 'escalated' ? ' escalated' : '') }, text,
                  a.note ? h('span', { class: 'note' }, ': ' + a.note) : null));
  }
  card.append(actionControls(s));
  return card;
}

function surplusItem(s, p) {
  const cls = p.transfer_time === null ? 'no-route' : (p.arrives_before_stockout === false ? 'late' : 'in-time');
  const parts = [h('strong', {}, p.site), ` holds ${number(p.quantity)} ${p.unit}, can spare `,
                 h('strong', { class: 'spare' }, `${number(p.spare)} ${p.unit}`)];
  if (p.transfer_time === null) {
    parts.push(h('span', { class: 'muted' }, ' · no transfer time configured'));
  } else {
    parts.push(` · transfer ${duration(p.transfer_time * 1000)}, arrives ${clock(p.arrives_at)} `);
    if (p.arrives_before_stockout === true) parts.push(h('span', { class: 'verdict' }, '✓ before the stockout'));
    else if (p.arrives_before_stockout === false) parts.push(h('span', { class: 'verdict' }, '✗ after the stockout'));
  }
  return h('li', { class: 'proposal ' + cls, 'data-site': p.site }, parts);
}

function actionControls(s) {
  const box = h('div', { class: 'actions' });
  if (!state.who.writes_enabled) return box;
  if (!state.who.operator) {
    box.append(h('span', { class: 'muted' }, 'Sign in to acknowledge or snooze.'));
    return box;
  }
  const note = h('input', { type: 'text', placeholder: 'note (optional)', 'aria-label': 'note', class: 'note-input', maxlength: 1000 });
  const snoozeFor = h('select', { 'aria-label': 'snooze for', class: 'snooze-duration' },
    ['1h', '4h', '8h', '24h'].map((d) => h('option', { value: d }, d)));
  const result = h('span', { class: 'result' });
  const send = async (kind, body) => {
    try {
      await api(`/api/shortages/${encodeURIComponent(s.site)}/${encodeURIComponent(s.material)}/${kind}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      result.textContent = kind === 'ack' ? 'acknowledged' : 'snoozed';
      scheduleReload(0);
    } catch (e) {
      result.className = 'result error';
      result.textContent = e.message;
    }
  };
  box.append(note,
    h('button', { type: 'button', class: 'ack', onclick: () => send('ack', { note: note.value }) }, 'Acknowledge'),
    snoozeFor,
    h('button', { type: 'button', class: 'snooze', onclick: () => send('snooze', { duration: snoozeFor.value, note: note.value }) }, 'Snooze'),
    result);
  return box;
}

// --- a material at one plant ---------------------------------------------------

async function showMaterial(site, material) {
  state.view = 'material';
  document.title = `${material} at ${site} - plant-register`;
  const r = state.materialRange;
  const to = r.to ? r.to : Date.now();
  const from = r.from ? r.from : to - r.hours * 3600e3;
  const step = Math.max(1, Math.round((to - from) / 1000 / 500));  // about 500 points across
  const q = (extra) => new URLSearchParams(Object.assign({ site, material }, extra)).toString();
  let info, samples, alerts;
  try {
    [info, samples, alerts] = await Promise.all([
      api('/api/materials?' + q({})),
      api('/api/stock?' + q({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), step: step + 's', limit: 5000 })),
      api('/api/alerts?' + q({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })),
    ]);
    showBanner('');
  } catch (e) {
    showBanner('Cannot read ' + material + ' at ' + site + ': ' + e.message);
    return;
  }
  if (state.view !== 'material') return;
  const m = info[0] || { unit: '', status: null };
  const header = h('h1', {}, `${material} at ${site} `, m.status ? h('span', { class: `badge status-${m.status}` }, m.status) : null);
  const ranges = h('div', { class: 'ranges', id: 'ranges' },
    [6, 24, 168].map((hours) => h('button', {
      type: 'button', class: !r.from && r.hours === hours ? 'current' : '', 'data-hours': hours,
      onclick: () => { state.materialRange = { hours, from: null, to: null }; showMaterial(site, material); },
    }, hours === 168 ? '7 d' : `${hours} h`)));
  const fromInput = h('input', { type: 'datetime-local', 'aria-label': 'from', value: localInput(from) });
  const toInput = h('input', { type: 'datetime-local', 'aria-label': 'to', value: localInput(to) });
  ranges.append(h('span', { class: 'muted' }, 'custom:'), fromInput, toInput, h('button', {
    type: 'button', class: r.from ? 'current' : '',
    onclick: () => {
      const f = Date.parse(fromInput.value), t = Date.parse(toInput.value);
      if (!(f < t)) { showBanner('custom range: "from" must be before "to"'); return; }
      state.materialRange = { hours: 0, from: f, to: t };
      showMaterial(site, material);
    },
  }, 'show'));
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, 'on hand'), h('dd', { 'data-stock': site + '|' + material }, `${number(m.quantity)} ${m.unit}`),
    h('dt', {}, 'consumption'), h('dd', {}, m.rate === null ? '–' : `${number(m.rate, 1)} ${m.unit}/h`),
    h('dt', {}, 'runs out'), h('dd', {}, m.projected_stockout ? [h('span', { class: 'countdown', 'data-until': m.projected_stockout }), ' (', clock(m.projected_stockout), ')'] : '–'),
    h('dt', {}, 'on order'), h('dd', { class: 'supply' }, m.status === null ? '–' : supplyText(m)),
    h('dt', {}, 'covered until'), h('dd', {}, m.covered_until ? clock(m.covered_until) : '–'),
    h('dt', {}, 'reorder point'), h('dd', {}, m.reorder_point ? `${number(m.reorder_point)} ${m.unit}` : '–'),
    h('dt', {}, 'safety stock'), h('dd', {}, m.safety_stock ? `${number(m.safety_stock)} ${m.unit}` : '–'));
  const chart = stockChart(samples, alerts, m, from, to);
  const alertRows = alerts.slice().reverse().map((a) => h('tr', {},
    h('td', {}, clock(a.time)), h('td', {}, h('span', { class: `badge status-${a.status}` }, a.status)),
    h('td', {}, a.previous_status), h('td', {}, `${number(a.quantity)} ${a.unit}`), h('td', {}, `${number(a.rate, 1)} ${a.unit}/h`),
    h('td', {}, a.agent)));
  page.replaceChildren(header, ranges, facts, chart,
    h('div', { class: 'legend' }, h('span', {}, '— stock'), h('span', {}, '- - reorder point'), h('span', {}, '··· safety stock'),
      h('span', {}, '| alerts'), h('span', {}, `${samples.length} points`)),
    h('h2', {}, 'Alerts'),
    alerts.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'alerts' },
      h('thead', {}, h('tr', {}, ['time', 'status', 'was', 'quantity', 'rate', 'agent'].map((t) => h('th', {}, t)))),
      h('tbody', {}, alertRows)))
      : h('p', { class: 'muted' }, 'No alerts in this range.'));
  tick();
}

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function stockChart(samples, alerts, m, from, to) {
  const width = 900, height = 320, left = 64, right = 16, top = 16, bottom = 36;
  const stockout = m.projected_stockout ? Date.parse(m.projected_stockout) : null;
  const end = stockout && stockout > to && stockout < to + (to - from) ? stockout : to;
  const maxY = Math.max(1, ...samples.map((s) => s.quantity), m.reorder_point || 0, m.safety_stock || 0) * 1.1;
  const x = (t) => left + (t - from) / (end - from) * (width - left - right);
  const y = (v) => top + (1 - v / maxY) * (height - top - bottom);
  const svg = h('svg:svg', { class: 'chart', id: 'stock-chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
                             'aria-label': 'stock history' });
  svg.append(h('svg:line', { class: 'axis', x1: left, y1: y(0), x2: width - right, y2: y(0) }),
             h('svg:line', { class: 'axis', x1: left, y1: top, x2: left, y2: y(0) }));
  for (let i = 0; i <= 4; ++i) {
    const v = maxY / 1.1 * i / 4;
    svg.append(h('svg:text', { class: 'grid-label', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, number(v)));
  }
  for (let i = 0; i <= 4; ++i) {
    const t = from + (end - from) * i / 4;
    svg.append(h('svg:text', { class: 'grid-label', x: x(t), y: height - 12, 'text-anchor': 'middle' }, clock(new Date(t).toISOString())));
  }
  if (m.reorder_point) svg.append(h('svg:line', { class: 'reorder', x1: left, x2: width - right, y1: y(m.reorder_point), y2: y(m.reorder_point) }, h('svg:title', {}, 'reorder point')));
  if (m.safety_stock) svg.append(h('svg:line', { class: 'safety', x1: left, x2: width - right, y1: y(m.safety_stock), y2: y(m.safety_stock) }, h('svg:title', {}, 'safety stock')));
  for (const a of alerts) {
    const t = Date.parse(a.time);
    svg.append(h('svg:line', { class: 'alert-mark', x1: x(t), x2: x(t), y1: top, y2: y(0), style: `stroke: var(--${a.status}, #757575)` },
                 h('svg:title', {}, `${clock(a.time)}: ${a.previous_status} → ${a.status}`)));
  }
  if (samples.length > 0) {
    const points = samples.map((s) => `${x(Date.parse(s.time)).toFixed(1)},${y(s.quantity).toFixed(1)}`).join(' ');
    svg.append(h('svg:polyline', { class: 'stock-line', points }));
    for (const s of samples) {
      svg.append(h('svg:circle', { class: 'point', cx: x(Date.parse(s.time)).toFixed(1), cy: y(s.quantity).toFixed(1), r: 2.5 },
                   h('svg:title', {}, `${clock(s.time)}: ${number(s.quantity)} ${s.unit}`)));
    }
    const last = samples[samples.length - 1];
    if (stockout && stockout <= end) {
      svg.append(h('svg:polyline', { class: 'projection', points: `${x(Date.parse(last.time))},${y(last.quantity)} ${x(stockout)},${y(0)}` },
                   h('svg:title', {}, 'projected stockout ' + clock(m.projected_stockout))));
    }
  } else {
    svg.append(h('svg:text', { class: 'grid-label', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'no samples in this range'));
  }
  return svg;
}

// --- plants --------------------------------------------------------------------

async function showPlants() {
  state.view = 'plants';
  document.title = 'Plants - plant-register';
  const to = Date.now(), from = to - 24 * 3600e3;
  let agents, current, spans;
  try {
    [agents, current, spans] = await Promise.all([
      api('/api/agents'), api('/api/current'),
      // No upper bound: a gateway's clock a little ahead must not hide its newest state.
      api('/api/line_states?' + new URLSearchParams({ from: new Date(from).toISOString() })),
    ]);
    showBanner('');
  } catch (e) {
    showBanner('Cannot read the plants: ' + e.message);
    return;
  }
  if (state.view !== 'plants') return;
  const agentRows = agents.map((a) => h('tr', { class: 'agent-row', 'data-agent': a.site + '|' + a.agent },
    h('td', {}, a.site), h('td', {}, a.agent),
    h('td', {}, h('span', { class: `badge state-${a.state} agent-state` }, a.state)),
    h('td', {}, a.version), h('td', { class: 'last-seen', 'data-since': a.last_seen || '' }, ago(a.last_seen)),
    h('td', { class: 'backlog' }, `${number(a.backlog_messages)} msgs` + (a.backlog_messages ? `, oldest ${duration(a.backlog_oldest_age_ms)}` : '')),
    h('td', { class: 'dropped' }, number(a.dropped)), h('td', { class: 'corrupted' }, number(a.corrupted)),
    h('td', { class: 'gaps' }, number(a.gaps))));
  const lineRows = current.lines.map((l) => h('tr', { class: 'line-row', 'data-line': `${l.site}|${l.agent}|${l.line}` },
    h('td', {}, l.site), h('td', {}, l.line),
    h('td', {}, h('span', { class: `badge state-${l.state} line-state` }, l.state)),
    h('td', { class: 'good-count' }, number(l.good_count)), h('td', { class: 'reject-count' }, number(l.reject_count)),
    h('td', { class: 'good-rate' }, number(l.good_rate, 1) + '/min'),
    h('td', { class: 'timeline-cell' }, timeline(spans.filter((s) => s.site === l.site && s.agent === l.agent && s.line === l.line), from, to))));
  page.replaceChildren(
    h('h1', {}, 'Plants'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'agents' },
      h('thead', {}, h('tr', {}, ['site', 'agent', 'state', 'version', 'last seen', 'backlog', 'dropped', 'corrupted', 'gaps'].map((t) => h('th', {}, t)))),
      h('tbody', {}, agentRows))),
    h('h2', {}, 'Lines'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'lines' },
      h('thead', {}, h('tr', {}, ['site', 'line', 'state', 'good', 'rejects', 'rate', 'last 24 h'].map((t) => h('th', {}, t)))),
      h('tbody', {}, lineRows))));
}

function timeline(spans, from, to) {
  const width = 300, height = 16;
  const x = (t) => Math.max(0, Math.min(width, (t - from) / (to - from) * width));
  const svg = h('svg:svg', { class: 'timeline', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'state timeline' });
  for (const s of spans) {
    const a = x(Date.parse(s.from)), b = x(s.to ? Date.parse(s.to) : Date.now());
    svg.append(h('svg:rect', { class: `span span-${s.state}`, x: a.toFixed(1), y: 0, width: Math.max(0.5, b - a).toFixed(1), height },
                 h('svg:title', {}, `${s.state} from ${clock(s.from)}` + (s.to ? ` to ${clock(s.to)}` : ''))));
  }
  return svg;
}

// --- live updates ----------------------------------------------------------------

function setLive(on, text) {
  state.live = on;
  const el = document.getElementById('live');
  el.className = 'live ' + (on ? 'on' : 'lost');
  el.textContent = text || (on ? 'live' : 'lost the register, retrying…');
}

function scheduleReload(delay = 300) {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(route, delay);
}

function onStock(s) {
  for (const el of document.querySelectorAll(`[data-stock="${CSS.escape(s.site + '|' + s.material)}"]`)) {
    el.textContent = `${number(s.quantity)} ${s.unit}`;
  }
}

function onAgent(a) {
  const row = document.querySelector(`tr[data-agent="${CSS.escape(a.site + '|' + a.agent)}"]`);
  if (!row) { if (state.view === 'plants') scheduleReload(); return; }
  const badge = row.querySelector('.agent-state');
  badge.textContent = a.state;
  badge.className = `badge state-${a.state} agent-state`;
  row.querySelector('.last-seen').dataset.since = a.last_seen;
  row.querySelector('.last-seen').textContent = ago(a.last_seen);
  row.querySelector('.backlog').textContent = `${number(a.backlog_messages)} msgs` +
    (a.backlog_messages ? `, oldest ${duration(a.backlog_oldest_age_ms)}` : '');
  row.querySelector('.dropped').textContent = number(a.dropped);
  row.querySelector('.corrupted').textContent = number(a.corrupted);
}

function onLine(l) {
  const row = document.querySelector(`tr[data-line="${CSS.escape(`${l.site}|${l.agent}|${l.line}`)}"]`);
  if (!row) return;
  const badge = row.querySelector('.line-state');
  badge.textContent = l.state;
  badge.className = `badge state-${l.state} line-state`;
  row.querySelector('.good-count').textContent = number(l.good_count);
  row.querySelector('.reject-count').textContent = number(l.reject_count);
  row.querySelector('.good-rate').textContent = number(l.good_rate, 1) + '/min';
}

let events = null;

function connectEvents() {
  if (events) events.close();
  events = new EventSource('/api/events');
  state.lastEvent = Date.now();
  const seen = () => { state.lastEvent = Date.now(); if (!state.live) setLive(true); };
  const on = (name, handle) => events.addEventListener(name, (e) => {
    seen();
    let data = null;
    try { data = JSON.parse(e.data); } catch (err) { return; }
    handle(data);
  });
  on('hello', () => { setLive(true); route(); });
  on('ping', () => {});
  on('stock', onStock);
  on('agent', onAgent);
  on('line', onLine);
  on('material', () => { if (state.view !== 'plants') scheduleReload(); });
  on('alert', () => { if (state.view !== 'plants') scheduleReload(); });
  on('action', () => { if (state.view === 'shortages') scheduleReload(); });
  events.onerror = () => {
    setLive(false);
    // The browser retries a dropped stream by itself, but not one refused (a 503 at the
    // register's stream bound, or while it stops): then try again in a while.
    if (events.readyState === EventSource.CLOSED) setTimeout(connectEvents, 5000);
  };
}

// Countdowns and "ago" texts move every second; a stream silent for three pings is a lost one.
function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-until]')) {
    const left = Date.parse(el.dataset.until) - now;
    el.textContent = left > 0 ? 'in ' + duration(left) : 'overdue by ' + duration(-left);
  }
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = ago(el.dataset.since || null);
  if (now - state.lastEvent > 45000) {
    // Three pings missed: the link is dead without saying so. Open a new stream.
    setLive(false, 'no news from the register for 45 s, reconnecting…');
    connectEvents();
  }
}
setInterval(tick, 1000);

// --- signing in ------------------------------------------------------------------

async function refreshWho() {
  try {
    state.who = await api('/api/whoami');
  } catch (e) {
    state.who = { writes_enabled: false, operator: null };
  }
  const who = document.getElementById('who');
  const button = document.getElementById('signin-button');
  if (!state.who.writes_enabled) {
    who.textContent = 'read-only: this register takes no acknowledgements';
    button.hidden = true;
  } else if (state.who.operator) {
    who.textContent = 'signed in as ' + state.who.operator;
    button.hidden = false;
    button.textContent = 'Account';
  } else {
    who.textContent = token() ? 'read-only: the saved token is not accepted' : 'read-only until you sign in';
    button.hidden = false;
    button.textContent = 'Sign in';
  }
}

document.getElementById('signin-button').addEventListener('click', () => {
  document.getElementById('signin-error').textContent = '';
  document.getElementById('signin-token').value = '';
  document.getElementById('signin').showModal();
});
document.getElementById('signin-cancel').addEventListener('click', () => document.getElementById('signin').close());
document.getElementById('signin-out').addEventListener('click', async () => {
  localStorage.removeItem(tokenKey);
  document.getElementById('signin').close();
  await refreshWho();
  route();
});
document.getElementById('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const previous = token();
  localStorage.setItem(tokenKey, document.getElementById('signin-token').value.trim());
  await refreshWho();
  if (!state.who.operator) {
    if (previous) localStorage.setItem(tokenKey, previous); else localStorage.removeItem(tokenKey);
    document.getElementById('signin-error').textContent = 'That token is not accepted.';
    await refreshWho();
    return;
  }
  document.getElementById('signin').close();
  route();
});

refreshWho().then(() => { route(); connectEvents(); });
