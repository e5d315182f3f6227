// The cip wallboard (SPEC 10): the calls in progress of one organization, kept current by the change
// stream (SPEC 8). The token travels only in the Authorization header of a fetch (an EventSource
// cannot send headers, so it would need the token in the URL) and is kept in sessionStorage only.
'use strict';

(() => {
  const STREAM = '/api/2022-08-01/calls_in_progress/stream';
  const STORAGE_KEY = 'cip.wallboard';
  const SILENCE_LIMIT_MS = 45000; // three missed keep-alives: the connection is dead
  const MAX_RETRY_MS = 10000;
  const HIGHLIGHT_COLUMNS = {
    calling_phone_number: 'caller',
    destination_phone_number: 'destination',
    advertiser_id: 'advertiser',
    advertiser_name: 'advertiser',
    advertiser_campaign_id: 'campaign',
    advertiser_campaign_name: 'campaign',
    call_status: 'status',
    call_start_time_utc: 'duration',
    external_unique_id: 'external',
  };
  const COLUMNS = [
    ['caller', 'Caller', 'phone'],
    ['destination', 'Destination', 'phone'],
    ['advertiser', 'Advertiser', ''],
    ['campaign', 'Campaign', ''],
    ['status', 'Status', 'status'],
    ['duration', 'Duration', 'duration'],
    ['external', 'External id', ''],
    ['custom', 'Custom data', 'custom'],
  ];

  const el = (id) => document.getElementById(id);
  const ui = {
    connection: el('connection'),
    connect: el('connect'),
    form: el('connect-form'),
    token: el('token'),
    type: el('organization-type'),
    id: el('organization-id'),
    formError: el('form-error'),
    board: el('board'),
    organization: el('organization'),
    total: el('total'),
    rows: el('rows'),
    empty: el('empty'),
    byAdvertiser: el('by-advertiser'),
    byCampaign: el('by-campaign'),
    disconnect: el('disconnect'),
  };

  // What the page measures about itself, for the browser tests and for the curious (no token here).
  const stats = {
    events: 0,
    batches: 0,
    batchMs: [],
    snapshots: 0,
    snapshotRows: 0,
    snapshotMs: 0,
    connects: 0,
    lastEventId: null,
  };
  window.cipWallboard = { stats };

  // --- State: every live call by transaction id, and their order (SPEC 2.2: most recent transfer
  // first, ties by transaction id).
  const calls = new Map(); // transaction_id -> { call, row, cells }
  let order = []; // transaction ids in display order
  const tallies = { advertiser: new Map(), campaign: new Map() };
  let talliesDirty = false;

  let settings = null; // { token, type, id }
  let lastEventId = null;
  let retryMs = 1000;
  let failures = 0;
  let connection = null; // AbortController of the open stream
  let reconnectTimer = null;
  let clockSkewMs = 0; // server clock minus this machine's, from the answer's Date header
  let pending = []; // events received, not yet applied
  let flushScheduled = false;

  // --- Connection state, visible and announced.
  function setState(state, text) {
    ui.connection.dataset.state = state;
    ui.connection.textContent = text;
  }

  // --- Start and stop.
  function start(next) {
    settings = next;
    lastEventId = null;
    pending = [];
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    ui.connect.hidden = true;
    ui.board.hidden = false;
    ui.organization.textContent = `${next.type} ${next.id}`;
    connect();
  }

  function stop(message) {
    settings = null;
    sessionStorage.removeItem(STORAGE_KEY);
    if (connection) connection.abort();
    connection = null;
    clearTimeout(reconnectTimer);
    pending = [];
    clearBoard();
    ui.board.hidden = true;
    ui.connect.hidden = false;
    ui.formError.textContent = message || '';
    setState(message ? 'error' : 'idle', 'Not connected');
    ui.token.focus();
  }

  function scheduleReconnect(reason) {
    if (!settings) return;
    failures += 1;
    const backoff = Math.min(MAX_RETRY_MS, retryMs * 2 ** Math.min(failures - 1, 4));
    const delay = Math.round(backoff * (0.75 + Math.random() * 0.5));
    setState('reconnecting', `Reconnecting in ${Math.ceil(delay / 1000)} s (${reason})`);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  async function connect() {
    if (!settings) return;
    const current = settings;
    const controller = new AbortController();
    connection = controller;
    setState('connecting', lastEventId === null ? 'Connecting…' : 'Resuming…');
    const headers = { Authorization: current.token, Accept: 'text/event-stream' };
    if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
    const query = new URLSearchParams({ id: current.id, organization_type: current.type });
    let response;
    try {
      response = await fetch(`${STREAM}?${query}`, { headers, signal: controller.signal, cache: 'no-store' });
    } catch (error) {
      if (controller.signal.aborted) return;
      scheduleReconnect('server unreachable');
      return;
    }
    if (!response.ok) {
      await refused(response, controller);
      return;
    }
    stats.connects += 1;
    failures = 0;
    setState('live', 'Live');
    const date = Date.parse(response.headers.get('Date') || '');
    if (!Number.isNaN(date)) {
      const skew = date - Date.now();
      clockSkewMs = Math.abs(skew) > 2000 ? skew : 0;
    }
    try {
      await readEvents(response.body, controller);
    } catch (error) {
      // Aborted by us (disconnect, silence) or cut by the network: either way, resume.
    }
    if (connection === controller && settings === current) {
      connection = null;
      scheduleReconnect('connection closed');
    }
  }

  async function refused(response, controller) {
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    if (controller.signal.aborted) return;
    if (response.status === 401) {
      stop('The token was not accepted for this organization (401 NotAuthorized).');
    } else if (response.status === 403 || response.status === 404) {
      // SPEC 2.5: {"errors": {"<param>": ["<message>", ...]}}, or {"error": "<name>"}.
      const errors = body && body.errors && typeof body.errors === 'object' ? body.errors : null;
      const detail = errors
        ? Object.entries(errors).map(([name, messages]) => `${name}: ${[].concat(messages).join(', ')}`).join('; ')
        : (body && body.error) || response.statusText;
      stop(`The server refused the request (${response.status}): ${detail}`);
    } else {
      const wait = Number(response.headers.get('Retry-After'));
      if (wait > 0) retryMs = Math.max(retryMs, wait * 1000);
      scheduleReconnect(`${response.status} ${(body && body.error) || response.statusText}`);
    }
  }

  // --- Server-Sent Events over a streamed fetch body (the format EventSource reads).
  async function readEvents(body, controller) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let event = { type: '', data: [], id: null };
    let silence = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(silence);
        silence = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
        buffer += decoder.decode(value, { stream: true });
        let start = 0;
        for (;;) {
          const end = buffer.indexOf('\n', start);
          if (end < 0) break;
          let line = buffer.slice(start, end);
          start = end + 1;
          if (line.endsWith('\r')) line = line.slice(0, -1);
          if (line === '') {
            if (event.data.length > 0) dispatch(event);
            event = { type: '', data: [], id: null };
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') event.data.push(value);
          else if (field === 'event') event.type = value;
          else if (field === 'id') event.id = value;
          else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
        }
        buffer = buffer.slice(start);
      }
    } finally {
      clearTimeout(silence);
    }
  }

  // --- Events are queued as they arrive and applied once per frame, so a burst costs one layout.
  function dispatch(event) {
    let data;
    try { data = JSON.parse(event.data.join('\n')); } catch (error) { return; }
    // Resume after the last event received, applied or still queued: a queued one is applied anyway.
    if (event.id !== null) lastEventId = event.id;
    pending.push({ type: event.type || 'message', data });
    if (!flushScheduled) {
      flushScheduled = true;
      // A hidden tab gets no animation frames: fall back to a timer so the queue never piles up.
      if (document.hidden) setTimeout(flush, 250);
      else requestAnimationFrame(flush);
    }
  }

  function flush() {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    const started = performance.now();
    let snapshotRows = -1;
    for (const event of batch) {
      if (event.type === 'snapshot') snapshotRows = applySnapshot(event.data.current_calls || []);
      else if (event.type === 'call_bridged' || event.type === 'call_updated') upsert(event.data.call, event.data.changed || []);
      else if (event.type === 'call_ended') remove(event.data.call.transaction_id);
      // `reset` is followed by a fresh snapshot; `overflow` by the end of the connection.
      stats.events += 1;
    }
    renderTallies();
    ui.total.textContent = String(calls.size);
    ui.empty.hidden = calls.size > 0;
    void ui.rows.offsetHeight; // include layout in what is measured
    const elapsed = performance.now() - started;
    if (snapshotRows >= 0) {
      stats.snapshots += 1;
      stats.snapshotRows = snapshotRows;
      stats.snapshotMs = elapsed;
    } else {
      stats.batches += 1;
      stats.batchMs.push(elapsed);
      if (stats.batchMs.length > 1000) stats.batchMs.shift();
    }
    stats.lastEventId = lastEventId;
  }

  // --- The table.
  function sortKey(call) {
    return call.transfer_start_time_utc || '';
  }

  function comesBefore(a, b) {
    const ka = sortKey(a);
    const kb = sortKey(b);
    if (ka !== kb) return ka > kb; // most recent transfer first (the format sorts as text)
    return a.transaction_id < b.transaction_id;
  }

  function positionOf(call) {
    let low = 0;
    let high = order.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (comesBefore(calls.get(order[middle]).call, call)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  function clearBoard() {
    calls.clear();
    order = [];
    tallies.advertiser.clear();
    tallies.campaign.clear();
    ui.rows.replaceChildren();
    renderTallies(true);
    ui.total.textContent = '0';
    ui.empty.hidden = false;
  }

  function applySnapshot(list) {
    calls.clear();
    tallies.advertiser.clear();
    tallies.campaign.clear();
    const sorted = list.slice().sort((a, b) => (comesBefore(a, b) ? -1 : comesBefore(b, a) ? 1 : 0));
    const fragment = document.createDocumentFragment();
    order = [];
    for (const call of sorted) {
      const entry = makeRow(call);
      calls.set(call.transaction_id, entry);
      order.push(call.transaction_id);
      tally(call, 1);
      fragment.appendChild(entry.row);
    }
    ui.rows.replaceChildren(fragment);
    return sorted.length;
  }

  function upsert(call, changed) {
    const existing = calls.get(call.transaction_id);
    if (!existing) {
      const entry = makeRow(call);
      const index = positionOf(call);
      const before = index < order.length ? calls.get(order[index]).row : null;
      calls.set(call.transaction_id, entry);
      order.splice(index, 0, call.transaction_id);
      ui.rows.insertBefore(entry.row, before);
      tally(call, 1);
      return;
    }
    const previous = existing.call;
    tally(previous, -1);
    tally(call, 1);
    existing.call = call;
    fillRow(existing, call, new Set(changed));
    if (sortKey(previous) !== sortKey(call)) {
      order.splice(order.indexOf(call.transaction_id), 1);
      const index = positionOf(call);
      const before = index < order.length ? calls.get(order[index]).row : null;
      order.splice(index, 0, call.transaction_id);
      ui.rows.insertBefore(existing.row, before);
    }
  }

  function remove(transactionID) {
    const entry = calls.get(transactionID);
    if (!entry) return;
    calls.delete(transactionID);
    order.splice(order.indexOf(transactionID), 1);
    tally(entry.call, -1);
    entry.row.remove();
  }

  function makeRow(call) {
    const row = document.createElement('tr');
    row.setAttribute('role', 'row');
    row.dataset.transactionId = call.transaction_id;
    const cells = {};
    for (const [key, label, className] of COLUMNS) {
      const cell = document.createElement('td');
      cell.setAttribute('role', 'cell');
      cell.dataset.label = label;
      cell.dataset.column = key;
      if (className) cell.className = className;
      cells[key] = cell;
      row.appendChild(cell);
    }
    const entry = { call, row, cells };
    fillRow(entry, call, null);
    return entry;
  }

  function advertiserLabel(call) {
    if (call.advertiser_name) return call.advertiser_name;
    return call.advertiser_id ? `Advertiser ${call.advertiser_id}` : '(no advertiser)';
  }

  function campaignLabel(call) {
    if (call.advertiser_campaign_name) return call.advertiser_campaign_name;
    return call.advertiser_campaign_id || '(no campaign)';
  }

  // Fills a row's cells from `call`; with `changed`, highlights the parts the change named. Text is
  // set with textContent only: custom data comes from other systems and is never parsed as HTML.
  function fillRow(entry, call, changed) {
    const { cells } = entry;
    cells.caller.textContent = call.calling_phone_number;
    cells.destination.textContent = call.destination_phone_number;
    cells.advertiser.textContent = advertiserLabel(call);
    cells.campaign.textContent = campaignLabel(call);
    cells.status.textContent = call.call_status.replace('_', ' ');
    cells.external.textContent = call.external_unique_id === null ? '—' : call.external_unique_id;
    entry.started = Date.parse(call.call_start_time_utc);
    cells.duration.textContent = formatDuration(entry.started);
    fillCustomData(cells.custom, call.custom_data || {}, changed);
    if (!changed) return;
    for (const part of changed) {
      const column = HIGHLIGHT_COLUMNS[part];
      if (column) flash(cells[column]);
    }
  }

  function fillCustomData(cell, customData, changed) {
    const names = Object.keys(customData).sort();
    const fragment = document.createDocumentFragment();
    for (const name of names) {
      const item = document.createElement('span');
      item.className = 'kv';
      item.dataset.name = name;
      const key = document.createElement('span');
      key.className = 'k';
      key.textContent = name;
      const value = document.createElement('span');
      value.className = 'v';
      value.textContent = String(customData[name].value);
      item.append(key, value);
      if (changed && changed.has(`custom_data.${name}`)) item.classList.add('changed');
      fragment.appendChild(item);
    }
    cell.replaceChildren(fragment);
  }

  // Restarts the highlight even when the cell was highlighted a moment ago.
  function flash(cell) {
    cell.classList.remove('changed');
    requestAnimationFrame(() => cell.classList.add('changed'));
  }

  function formatDuration(started) {
    if (Number.isNaN(started)) return '';
    const seconds = Math.max(0, Math.floor((Date.now() + clockSkewMs - started) / 1000));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  }

  function tick() {
    for (const entry of calls.values()) entry.cells.duration.textContent = formatDuration(entry.started);
  }

  // --- Counts by advertiser and by campaign.
  function tally(call, delta) {
    for (const [map, label] of [[tallies.advertiser, advertiserLabel(call)], [tallies.campaign, campaignLabel(call)]]) {
      const count = (map.get(label) || 0) + delta;
      if (count > 0) map.set(label, count);
      else map.delete(label);
    }
    talliesDirty = true;
  }

  function renderTallies(force) {
    if (!talliesDirty && !force) return;
    talliesDirty = false;
    renderTally(ui.byAdvertiser, tallies.advertiser);
    renderTally(ui.byCampaign, tallies.campaign);
  }

  function renderTally(list, counts) {
    const entries = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const fragment = document.createDocumentFragment();
    for (const [label, count] of entries) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = label;
      const n = document.createElement('span');
      n.className = 'n';
      n.textContent = String(count);
      item.append(name, n);
      fragment.appendChild(item);
    }
    list.replaceChildren(fragment);
  }

  // --- Wiring.
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = ui.token.value.trim();
    const id = ui.id.value.trim();
    if (!token || !/^[1-9]\d*$/.test(id)) {
      ui.formError.textContent = 'Enter a token and a positive organization id.';
      return;
    }
    ui.formError.textContent = '';
    ui.token.value = '';
    start({ token, type: ui.type.value, id });
  });
  ui.disconnect.addEventListener('click', () => stop(''));
  // A highlight lasts as long as its animation; the class goes, so the next change can flash again.
  ui.rows.addEventListener('animationend', (event) => event.target.classList.remove('changed'));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && pending.length > 0 && !flushScheduled) {
      flushScheduled = true;
      requestAnimationFrame(flush);
    }
  });
  setInterval(tick, 1000);

  // A reload of the tab keeps watching the same organization with the same token.
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (saved && saved.token && saved.type && saved.id) {
      ui.type.value = saved.type;
      ui.id.value = saved.id;
      start(saved);
    }
  } catch (error) {
    sessionStorage.removeItem(STORAGE_KEY);
  }
})();
