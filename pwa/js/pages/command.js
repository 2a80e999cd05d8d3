// #/command 指挥中心: a large screen watched from a distance and left on for days. Counters across
// the top; the live feed, the map of officers on duty and the alert column below. Leaflet is loaded
// only on this page.

import { request } from '../api.js';
import { h, nextId } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { accountCard } from './common.js';
import { createBeeper, liveWatch, ms, region, whenText } from './watch.js';
import { DOCUMENT_EVENTS } from '../caps.js';

const LEAFLET_JS = '/vendor/leaflet-1.9.4/leaflet.js';
const LEAFLET_CSS = '/vendor/leaflet-1.9.4/leaflet.css';
const CENTRE = [29.157, 107.099]; // 南川区
const ZOOM = 11;
const ON_DUTY_S = 900;
const SOS_KEEP_MS = 60 * 60 * 1000;
const FEED_MAX = 300;
const TYPES = ['action.created', 'evidence.added', 'alert.raised', 'alert.acked', 'position.updated', ...DOCUMENT_EVENTS];

// ---- map tiles --------------------------------------------------------------------------------

/*
 * Tiles come from the server's setting (FIELDWATCH_MAP_TILES: osm, tianditu with FIELDWATCH_TIANDITU_KEY,
 * offline, or a URL template; GET /positions/map). A screen may override it with localStorage
 * 'fw.tiles': either a URL template, or JSON such as (天地图, with its key):
 *   {"url": "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY",
 *    "labels": "https://t{s}.tianditu.gov.cn/DataServer?T=cva_w&x={x}&y={y}&l={z}&tk=KEY",
 *    "subdomains": "01234567", "attribution": "天地图", "maxZoom": 18}
 * Only https: URLs and same-origin paths are accepted (the page's Content-Security-Policy).
 */
export const TILES_KEY = 'fw.tiles';
const OSM = {
  url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
  labels: null,
  subdomains: 'abc',
  attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
  maxZoom: 19,
};

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** The tile layer options from this screen's override, else from the server's `served` (null: no tiles). */
export function tileConfig(raw, served = OSM) {
  if (raw === undefined) {
    try {
      raw = localStorage.getItem(TILES_KEY);
    } catch {
      raw = null;
    }
  }
  if (!raw || !raw.trim()) return served === null ? null : normalise(served) || OSM;
  let cfg;
  try {
    cfg = raw.trim().startsWith('{') ? JSON.parse(raw) : { url: raw.trim() };
  } catch {
    return OSM;
  }
  return normalise(cfg) || OSM;
}

function normalise(cfg) {
  const usable = (u) => typeof u === 'string' && /^(https:\/\/|\/(?!\/))/.test(u);
  if (!cfg || !usable(cfg.url)) return null;
  const zoom = Number(cfg.maxZoom);
  return {
    url: cfg.url,
    labels: usable(cfg.labels) ? cfg.labels : null,
    subdomains: typeof cfg.subdomains === 'string' || Array.isArray(cfg.subdomains) ? cfg.subdomains : 'abc',
    attribution: typeof cfg.attribution === 'string' ? escapeHtml(cfg.attribution) : '',
    maxZoom: Number.isInteger(zoom) && zoom > 0 && zoom <= 22 ? zoom : 18,
  };
}

let leafletLoad = null;

/** Leaflet's script and stylesheet (vendored), once per page load. */
function loadLeaflet() {
  if (!document.querySelector(`link[href="${LEAFLET_CSS}"]`)) {
    document.head.append(h('link', { rel: 'stylesheet', href: LEAFLET_CSS }));
  }
  if (!leafletLoad) {
    leafletLoad = import(LEAFLET_JS).then(() => {
      if (!window.L || typeof window.L.map !== 'function') throw new Error('Leaflet did not load');
      return window.L;
    });
    leafletLoad.catch(() => {
      leafletLoad = null;
    });
  }
  return leafletLoad;
}

// ---- map of officers on duty -------------------------------------------------------------------

function officerMap({ directory }) {
  const titleId = nextId('sec');
  const listTitleId = nextId('sec');
  const canvas = h('div', { class: 'map__canvas', role: 'region', 'aria-label': t('command.mapLabel'), 'data-testid': 'map' });
  const note = h('p', { class: 'map__note', role: 'status', 'data-testid': 'map-note' });
  const duty = h('ul', { class: 'duty-list', 'data-testid': 'duty-list' });
  const dutyEmpty = h('p', { class: 'muted' }, t('command.dutyNone'));
  const entries = new Map(); // user_id → { pos, marker, sos }
  const sosHandled = new Map(); // user_id → when an SOS of theirs was last handled (ms)
  let L = null;
  let map = null;
  let layer = null;
  let resize = null;
  let destroyed = false;
  let listTimer = null;

  const node = h('section', { class: 'card region region--map', 'aria-labelledby': titleId },
    h('h2', { id: titleId, class: 'card__title' }, t('command.map')),
    h('div', { class: 'map' }, canvas, note),
    h('h3', { id: listTitleId, class: 'duty__title' }, t('command.dutyList')),
    h('div', { class: 'duty-wrap', 'aria-labelledby': listTitleId }, dutyEmpty, duty));

  function isSos(pos) {
    if (!pos.sos_at) return false;
    const at = ms(pos.sos_at);
    if (Date.now() - at > SOS_KEEP_MS) return false;
    const handled = sosHandled.get(pos.user_id);
    return !(handled && handled >= at);
  }

  function label(pos, sos) {
    const units = (pos.unit_ids || []).map((u) => directory.unitName(u)).filter(Boolean).join('、');
    return `${sos ? `${t('command.sosBadge')} ` : ''}${pos.display_name}${units ? `（${units}）` : ''}`;
  }

  function draw(entry) {
    if (!map) return;
    const { pos } = entry;
    const sos = isSos(pos);
    const colour = directory.unitColour((pos.unit_ids || [])[0]);
    if (entry.marker && entry.sos !== sos) {
      layer.removeLayer(entry.marker);
      entry.marker = null;
    }
    const tip = h('span', {}, sos ? `${t('command.sosBadge')} ${pos.display_name}` : pos.display_name);
    if (!entry.marker) {
      entry.marker = L.circleMarker([pos.lat, pos.lon], {
        radius: sos ? 14 : 9,
        weight: 3,
        color: sos ? '#7a1712' : '#ffffff',
        fillColor: sos ? '#d92d20' : colour,
        fillOpacity: 1,
        className: `officer-marker${sos ? ' officer-marker--sos' : ''}`,
      });
      entry.marker.bindTooltip(tip, {
        permanent: true,
        direction: 'right',
        offset: [sos ? 14 : 10, 0],
        className: `map-label${sos ? ' map-label--sos' : ''}`,
      });
      entry.marker.addTo(layer);
      entry.sos = sos;
    } else {
      entry.marker.setLatLng([pos.lat, pos.lon]);
      entry.marker.setStyle({ fillColor: sos ? '#d92d20' : colour });
      entry.marker.setTooltipContent(tip);
    }
    if (sos) entry.marker.bringToFront();
    const el = entry.marker.getElement();
    if (el) {
      el.setAttribute('data-testid', 'officer-marker');
      el.setAttribute('data-user-id', pos.user_id);
      el.setAttribute('data-sos', String(sos));
      el.setAttribute('role', 'img');
      el.setAttribute('aria-label', label(pos, sos));
    }
  }

  function renderList() {
    listTimer = null;
    const rows = [...entries.values()].sort((a, b) => {
      const sa = isSos(a.pos) ? 0 : 1;
      const sb = isSos(b.pos) ? 0 : 1;
      return sa - sb || a.pos.display_name.localeCompare(b.pos.display_name, 'zh-CN');
    });
    duty.replaceChildren(...rows.map(({ pos }) => {
      const sos = isSos(pos);
      const swatch = h('span', { class: `duty__swatch${sos ? ' duty__swatch--sos' : ''}`, 'aria-hidden': 'true' });
      swatch.style.backgroundColor = sos ? '#d92d20' : directory.unitColour((pos.unit_ids || [])[0]);
      const units = (pos.unit_ids || []).map((u) => directory.unitName(u)).filter(Boolean).join('、');
      return h('li', { class: `duty__row${sos ? ' is-sos' : ''}`, 'data-user-id': pos.user_id },
        swatch,
        sos ? h('strong', { class: 'duty__sos' }, t('command.sosBadge')) : null,
        h('span', { class: 'duty__name' }, pos.display_name),
        units ? h('span', { class: 'duty__unit' }, units) : null,
        h('span', { class: 'duty__seen' }, t('command.seenAt', { time: whenText(pos.at) })));
    }));
    dutyEmpty.hidden = entries.size > 0;
  }

  function listSoon() {
    if (!listTimer) listTimer = setTimeout(renderList, 300);
  }

  /** Returns true when the officer was not on the map before. */
  function upsert(pos) {
    if (!pos || !pos.user_id || typeof pos.lat !== 'number' || typeof pos.lon !== 'number') return false;
    directory.learnUser(pos.user_id, pos.display_name);
    const entry = entries.get(pos.user_id);
    if (entry && ms(entry.pos.received_at) > ms(pos.received_at)) return false;
    if (entry) entry.pos = pos;
    else entries.set(pos.user_id, { pos, marker: null, sos: false });
    draw(entries.get(pos.user_id));
    listSoon();
    // Someone new, or an SOS, must be on the screen wherever they are.
    if (!entry || isSos(pos)) fit();
    return !entry;
  }

  /** An SOS alert was handled: the officer's marker stops blinking. */
  function sosClosed(alert) {
    if (!alert.subject_user_id || !alert.handled_at) return;
    sosHandled.set(alert.subject_user_id, ms(alert.handled_at));
    const entry = entries.get(alert.subject_user_id);
    if (entry) {
      draw(entry);
      listSoon();
    }
  }

  /** Forget officers not seen for the on-duty window (an SOS stays for an hour). */
  function sweep() {
    const now = Date.now();
    for (const [id, entry] of entries) {
      if (now - ms(entry.pos.received_at) > ON_DUTY_S * 1000 && !isSos(entry.pos)) {
        if (entry.marker && layer) layer.removeLayer(entry.marker);
        entries.delete(id);
      }
    }
    for (const [id, at] of sosHandled) if (now - at > SOS_KEEP_MS) sosHandled.delete(id);
    listSoon();
  }

  function redrawAll() {
    for (const entry of entries.values()) draw(entry);
    listSoon();
  }

  /**
   * Show every officer on duty (an SOS wherever it is): the view follows the people, not a fixed
   * district. Only when someone would be off the screen, so the view does not jump on every ping.
   */
  function fit(force = false) {
    if (!map || !entries.size) return;
    const points = [...entries.values()].map((e) => [e.pos.lat, e.pos.lon]);
    const bounds = L.latLngBounds(points);
    if (!force && map.getBounds().contains(bounds)) return;
    map.fitBounds(bounds, { padding: [40, 40], maxZoom: 15, animate: false });
  }

  /** No tiles (none set, or none reachable): positions stay readable on a plain grid. */
  function offlineBase(key) {
    canvas.classList.add('map__canvas--offline');
    note.textContent = t(key);
  }

  async function init() {
    note.textContent = t('command.mapLoading');
    let served = OSM;
    try {
      const [leaflet, config] = await Promise.all([loadLeaflet(), request('GET', '/positions/map').catch(() => null)]);
      L = leaflet;
      if (config && 'tiles' in config) served = config.tiles;
    } catch {
      if (!destroyed) note.textContent = t('command.mapFailed');
      return;
    }
    if (destroyed) return;
    map = L.map(canvas, { center: CENTRE, zoom: ZOOM, zoomControl: true, attributionControl: true });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    if (note.textContent === t('command.mapLoading')) note.textContent = '';
    const cfg = tileConfig(undefined, served);
    if (cfg) {
      const opts = { subdomains: cfg.subdomains, maxZoom: cfg.maxZoom, attribution: cfg.attribution, crossOrigin: false };
      const base = L.tileLayer(cfg.url, opts);
      let loaded = 0;
      base.on('tileerror', () => {
        if (!loaded) offlineBase('command.tilesFailed');
      });
      base.on('tileload', () => {
        loaded += 1;
        canvas.classList.remove('map__canvas--offline');
        if (note.textContent === t('command.tilesFailed')) note.textContent = '';
      });
      base.addTo(map);
      if (cfg.labels) L.tileLayer(cfg.labels, { ...opts, attribution: '' }).addTo(map);
    } else {
      offlineBase('command.tilesNone');
    }
    layer = L.layerGroup().addTo(map);
    redrawAll();
    fit(true);
    resize = new ResizeObserver(() => map && map.invalidateSize());
    resize.observe(canvas);
  }

  const sweeper = setInterval(sweep, 60000);
  return {
    node,
    init,
    upsert,
    sosClosed,
    redrawAll,
    replace(list) {
      for (const pos of list || []) upsert(pos);
      fit(true);
    },
    cleanup() {
      destroyed = true;
      clearInterval(sweeper);
      clearTimeout(listTimer);
      if (resize) resize.disconnect();
      if (map) map.remove();
      map = null;
      entries.clear();
    },
  };
}

// ---- page -------------------------------------------------------------------------------------

function clock() {
  const time = h('time', { class: 'clock__time' });
  const node = h('p', { class: 'clock' }, h('span', { class: 'clock__label' }, t('command.clock')), ' ', time);
  const tick = () => {
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = formatDateTime(now);
  };
  tick();
  const timer = setInterval(tick, 10000);
  return { node, cleanup: () => clearInterval(timer) };
}

function soundButton(beeper) {
  const btn = h('button', { type: 'button', class: 'btn btn--secondary sound', 'aria-pressed': 'false' }, t('command.sound'));
  function show(on, blocked = false) {
    btn.setAttribute('aria-pressed', String(on));
    btn.textContent = on ? t('command.soundOn') : blocked ? t('command.soundBlocked') : t('command.sound');
  }
  btn.addEventListener('click', async () => {
    const on = await beeper.enable();
    show(on, !on);
    if (on) beeper.beep();
  });
  if (!beeper.available) btn.hidden = true;
  show(beeper.running);
  return btn;
}

export function commandPage({ user, onLogout }) {
  const beeper = createBeeper();
  beeper.prepare();
  const time = clock();
  // The map needs the directory made here; what reaches it below runs only once live.start() has.
  const live = liveWatch({
    user,
    types: TYPES,
    actionsLimit: 50,
    feed: { max: FEED_MAX },
    links: { overdue_documents: '#/documents/filter/overdue' },
    alerts: {
      maxHandled: 50,
      onRaised(a) {
        if (a.severity === 'high') beeper.beep();
      },
      onChange(a) {
        if (a.type === 'officer.sos' && (a.status === 'resolved' || a.status === 'false_alarm')) map.sosClosed(a);
      },
    },
    more: {
      afterUnits: () => map.redrawAll(),
      load: () => request('GET', `/positions?active_within=${ON_DUTY_S}`),
      apply: (positions) => map.replace(positions),
    },
  });
  const map = officerMap({ directory: live.directory });

  live.stream.on('position.updated', (ev) => {
    if (map.upsert(ev.data)) live.summary.refresh();
  });

  const node = h('section', { class: 'page page--command' },
    h('div', { class: 'command__bar' },
      h('h1', { class: 'page__title', tabindex: '-1' }, t('command.title')),
      time.node,
      live.status.node,
      soundButton(beeper)),
    live.counts.node,
    h('div', { class: 'command-grid' },
      region('command.feed', live.feed.node, 'region region--feed'),
      map.node,
      region('command.alerts', live.alerts.node, 'region region--alerts')),
    accountCard(user, onLogout));

  live.start();
  // The map needs the page in the document to measure itself.
  requestAnimationFrame(() => map.init());

  return {
    node,
    cleanup() {
      live.cleanup();
      time.cleanup();
      map.cleanup();
      beeper.close();
    },
  };
}
