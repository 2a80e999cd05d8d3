// #/evidence/<id>: one piece of evidence — thumbnail (a video's server poster, a PDF's first page),
// original and watermarked copy (fetched with the bearer token and shown through object URLs), its
// fingerprint, capture and receipt times, a video's duration and codec, whether its preview is
// still being made or failed, warnings about times the server cannot vouch for, and for supervisors
// the chain of custody.

import { errorMessage, request, requestBlob } from '../api.js';
import { h, nextId } from '../dom.js';
import { formatDate, formatDuration, t } from '../i18n.js';
import { loadError, loadingLine, renditionNotice } from '../widgets.js';
import { retentionCard } from '../retention.js';
import { canShare, shareCard } from '../share.js';

const FLAGS = ['capture_time_in_future', 'captured_long_before_act', 'device_time_disagrees_with_exif', 'device_clock_off'];
const CUSTODY_ROLES = ['supervisor', 'admin'];
const STILLS = ['thumbnail', 'watermarked', 'poster', 'preview']; // shown as an image
const CASE_ROLES = ['officer', 'legal_reviewer', 'supervisor'];
const SUBTYPES = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/heic': 'HEIC',
  'video/mp4': 'MP4',
  'video/quicktime': 'MOV',
  'video/webm': 'WebM',
  'audio/mp4': 'M4A',
  'audio/aac': 'AAC',
  'audio/webm': 'WebM',
  'application/pdf': 'PDF',
};

const secondsFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Asia/Shanghai',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** 2026年11月27日 14:05:09 (Beijing time), to the second: evidence times are compared closely. */
export function formatInstant(value) {
  if (!value) return t('common.noValue');
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return t('common.noValue');
  const p = {};
  for (const { type, value: v } of secondsFmt.formatToParts(d)) p[type] = v;
  return `${formatDate(d)} ${String(+p.hour % 24).padStart(2, '0')}:${p.minute}:${p.second}`;
}

/** 1.2 MB, 350 KB, 512 字节. */
export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return t('common.noValue');
  if (n < 1024) return t('evidence.bytes', { n });
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** 3 分钟, 2 小时 5 分钟, 40 秒 … */
function formatSpan(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return t('evidence.span.seconds', { n: s });
  const m = Math.round(s / 60);
  if (m < 60) return t('evidence.span.minutes', { n: m });
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return m % 60 ? t('evidence.span.hoursMinutes', { h: hrs, m: m % 60 }) : t('evidence.span.hours', { n: hrs });
  return t('evidence.span.days', { n: Math.round(hrs / 24) });
}

function kindOf(type) {
  const major = String(type || '').split('/')[0];
  if (major === 'image') return 'image';
  if (major === 'video') return 'video';
  if (major === 'audio') return 'audio';
  return 'document';
}

function typeText(type) {
  const kind = t(`evidence.kind.${kindOf(type)}`);
  const sub = SUBTYPES[type];
  return sub ? t('evidence.typeWith', { kind, sub }) : kind;
}

function hasRole(user, roles) {
  const mine = new Set(Array.isArray(user && user.roles) ? user.roles : []);
  return roles.some((r) => mine.has(r));
}

/** Where 返回 goes: the record the evidence belongs to when this user has a page for it. */
function parentHref(ev, user) {
  if (ev.parent_type === 'action' && hasRole(user, ['officer'])) return `#/officer/actions/${encodeURIComponent(ev.parent_id)}`;
  if (ev.parent_type === 'case' && hasRole(user, CASE_ROLES)) return `#/cases/${encodeURIComponent(ev.parent_id)}`;
  if (ev.parent_type === 'spot_check') return `#/spot-checks/${encodeURIComponent(ev.parent_id)}`;
  return '#/';
}

function custodyLabel(entry) {
  const rendition = entry.data && entry.data.rendition;
  if (entry.action === 'evidence.uploaded') return t('evidence.custody.uploaded');
  if (entry.action === 'evidence.downloaded') return t('evidence.custody.downloaded');
  if (entry.action === 'evidence.viewed') {
    return rendition === 'watermarked' ? t('evidence.custody.viewedWatermarked') : t('evidence.custody.viewedThumbnail');
  }
  if (entry.action === 'evidence.hash_mismatch') return t('evidence.custody.mismatch');
  if (entry.action === 'evidence.shared_viewed') return t('custody.sharedViewed');
  if (entry.action === 'evidence.shared_downloaded') return t('custody.sharedDownloaded');
  return t('evidence.custody.other');
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older browsers and plain-http pages: copy through a selected, hidden text field.
    const area = h('textarea', { readonly: true, class: 'visually-hidden', 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

export function evidencePage({ user, params }) {
  const id = params.id;
  const urls = new Set();
  const downloads = new Set();
  const names = new Map();
  let alive = true;

  const back = h('a', { class: 'back', href: '#/' }, h('span', { 'aria-hidden': 'true' }, '‹ '), t('evidence.back'));
  const title = h('h1', { class: 'page__title', tabindex: '-1' }, t('evidence.title'));
  const body = h('div', { class: 'evidence', 'data-testid': 'evidence' }, loadingLine());

  function keep(blob) {
    const url = URL.createObjectURL(blob);
    urls.add(url);
    return url;
  }

  function release(url) {
    if (!url) return;
    URL.revokeObjectURL(url);
    urls.delete(url);
  }

  /** A rendition's bytes, cancelled if the page is left; `onProgress(loaded, total)` while it arrives. */
  async function fetchBlob(path, onProgress) {
    const ctrl = new AbortController();
    downloads.add(ctrl);
    try {
      return await requestBlob(path, { signal: ctrl.signal, onProgress, timeout: 60000 });
    } finally {
      downloads.delete(ctrl);
    }
  }

  function unavailable() {
    body.replaceChildren(h('p', { class: 'alert alert--static', role: 'alert', 'data-testid': 'evidence-unavailable' },
      t('evidence.unavailable')));
  }

  // ---- custody ------------------------------------------------------------------------------

  function custodySection() {
    const headingId = nextId('sec');
    const list = h('ol', { class: 'custody', 'data-testid': 'custody' });
    const status = h('div', { class: 'custody__status' }, loadingLine());
    const node = h('section', { class: 'card', 'aria-labelledby': headingId },
      h('h2', { id: headingId, class: 'card__title' }, t('evidence.custody.title')),
      h('p', { class: 'muted' }, t('evidence.custody.hint')),
      status,
      list);

    function row(entry) {
      // An outside recipient has no account: the share names them.
      const outside = entry.data && entry.data.share_id ? `${entry.data.organisation} ${entry.data.recipient}` : null;
      const who = outside || names.get(entry.actor_id) || entry.actor || t('evidence.custody.system');
      return h('li', { class: `custody__item custody__item--${String(entry.action || '').replace('evidence.', '')}`, 'data-testid': 'custody-entry', 'data-action': entry.action },
        h('span', { class: 'custody__what' }, custodyLabel(entry)),
        h('span', { class: 'custody__who', 'data-testid': 'custody-who' }, who),
        h('time', { class: 'custody__when', datetime: entry.at }, formatInstant(entry.at)));
    }

    async function nameActors(entries) {
      const missing = [...new Set(entries.map((e) => e.actor_id).filter((x) => x && !names.has(x)))];
      await Promise.all(missing.map((uid) => request('GET', `/users/${encodeURIComponent(uid)}`)
        .then((u) => names.set(uid, (u && u.display_name) || ''))
        .catch(() => names.set(uid, ''))));
    }

    let seq = 0;
    async function refresh() {
      const mine = ++seq;
      try {
        const entries = await request('GET', `/evidence/${encodeURIComponent(id)}/custody`);
        const all = Array.isArray(entries) ? entries : [];
        if (!alive || mine !== seq) return;
        list.replaceChildren(...all.map(row));
        status.replaceChildren();
        await nameActors(all);
        if (!alive || mine !== seq) return;
        list.replaceChildren(...all.map(row));
      } catch (err) {
        if (!alive || mine !== seq) return;
        status.replaceChildren(loadError(errorMessage(err), refresh));
      }
    }
    return { node, refresh };
  }

  // ---- media --------------------------------------------------------------------------------

  function mediaSection(ev, onFetched) {
    const kind = kindOf(ev.content_type);
    const stage = h('div', { class: 'evidence__stage', 'data-testid': 'evidence-stage' });
    const caption = h('figcaption', { class: 'evidence__caption' });
    const figure = h('figure', { class: 'evidence__media' }, stage, caption);
    const progress = h('p', { class: 'muted evidence__progress', role: 'status', 'aria-live': 'polite' });
    const error = h('p', { class: 'alert', role: 'alert' });
    const shown = { which: null, url: null };
    const cache = new Map(); // which → object URL, so a second look does not download again

    function placeholder(text) {
      stage.replaceChildren(h('p', { class: 'evidence__none' }, text));
    }

    function show(which, url) {
      shown.which = which;
      shown.url = url;
      // A video's still is a frame of it (the phone's or the server's): said so, not taken for the clip.
      const phoneFrame = ev.renditions && ev.renditions.thumbnail_source === 'phone_frame';
      let key = which;
      if (which === 'thumbnail' && kind === 'video') key = phoneFrame ? 'poster' : 'serverPoster';
      if (which === 'poster') key = 'serverPoster';
      caption.textContent = t(`evidence.caption.${key}`);
      const alt = t(`evidence.caption.${key}`);
      if (STILLS.includes(which) || kind === 'image') {
        stage.replaceChildren(h('img', { src: url, alt, class: 'evidence__img', 'data-testid': `evidence-${which}` }));
      } else if (kind === 'video') {
        const video = h('video', { controls: true, playsinline: true, preload: 'metadata', class: 'evidence__video', 'data-testid': 'evidence-video', 'aria-label': alt });
        // The poster frame (the server's full-size one, else the thumbnail) until the clip plays.
        const poster = cache.get('poster') || cache.get('thumbnail');
        if (poster) video.poster = poster;
        video.src = url;
        stage.replaceChildren(video);
      } else if (kind === 'audio') {
        const audio = h('audio', { controls: true, preload: 'metadata', class: 'evidence__audio', 'aria-label': alt });
        audio.src = url;
        stage.replaceChildren(audio);
      } else {
        stage.replaceChildren(h('a', {
          class: 'btn btn--secondary btn--block',
          href: url,
          download: ev.filename || `${ev.sha256.slice(0, 16)}.pdf`,
          'data-testid': 'evidence-file',
        }, t('evidence.saveFile')));
      }
    }

    function buttonFor(which, label) {
      const btn = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': `show-${which}`, 'aria-pressed': 'false' }, label);
      let busy = false;
      btn.addEventListener('click', async () => {
        if (busy) return;
        error.textContent = '';
        if (cache.has(which)) {
          show(which, cache.get(which));
          mark(which);
          return;
        }
        busy = true;
        btn.disabled = true;
        progress.textContent = t('evidence.downloading');
        try {
          const path = which === 'content' ? ev.renditions.content : ev.renditions.watermarked;
          const blob = await fetchBlob(path, (loaded, total) => {
            if (!alive) return;
            progress.textContent = total && loaded <= total
              ? t('evidence.progress', { loaded: formatSize(loaded), total: formatSize(total), pct: Math.floor((loaded / total) * 100) })
              : t('evidence.progressUnknown', { loaded: formatSize(loaded) });
          });
          if (!alive) return;
          const url = keep(which === 'content' && blob.type !== ev.content_type ? new Blob([blob], { type: ev.content_type }) : blob);
          cache.set(which, url);
          show(which, url);
          mark(which);
          progress.textContent = '';
          onFetched();
        } catch (err) {
          if (!alive) return;
          progress.textContent = '';
          error.textContent = err && err.status === 404 ? t('evidence.unavailable') : errorMessage(err);
          onFetched();
        } finally {
          busy = false;
          btn.disabled = false;
        }
      });
      return btn;
    }

    const buttons = [buttonFor('content', t('evidence.showOriginal', { size: formatSize(ev.size) }))];
    if (ev.renditions && ev.renditions.watermarked) buttons.push(buttonFor('watermarked', t('evidence.showWatermarked')));
    function mark(which) {
      for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.testid === `show-${which}`));
    }

    // A still at once (a video's poster, a PDF's first page, else the thumbnail); the bigger files
    // only on request.
    const r = ev.renditions || {};
    const first = ['poster', 'preview', 'thumbnail'].find((which) => r[which]);
    if (first) {
      placeholder(t('common.loading'));
      fetchBlob(r[first]).then((blob) => {
        if (!alive) return;
        const url = keep(blob);
        cache.set(first, url);
        if (!shown.which) show(first, url);
        onFetched();
      }).catch(() => {
        if (alive && !shown.which) placeholder(t('evidence.noThumbnail'));
      });
    } else if (ev.rendition_state === 'pending') {
      placeholder(t('evidence.rendition.pending'));
    } else {
      placeholder(t('evidence.noPreview', { kind: t(`evidence.kind.${kind}`) }));
    }

    return h('div', { class: 'evidence__view' },
      renditionNotice(ev, 'evidence__rendition'),
      figure,
      h('div', { class: 'evidence__buttons' }, buttons),
      progress,
      error,
      h('p', { class: 'muted evidence__note' }, t('evidence.recordedNote')));
  }

  // ---- details ------------------------------------------------------------------------------

  function hashRow(sha) {
    const status = h('span', { class: 'hash__status', role: 'status', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', class: 'btn btn--secondary hash__copy', 'data-testid': 'copy-sha256' }, t('evidence.copy'));
    copy.addEventListener('click', async () => {
      const ok = await copyText(sha);
      status.textContent = '';
      requestAnimationFrame(() => {
        status.textContent = ok ? t('evidence.copied') : t('evidence.copyFailed');
      });
    });
    return h('div', { class: 'hash' },
      h('code', { class: 'hash__value', 'data-testid': 'evidence-sha256', translate: 'no' }, sha),
      h('div', { class: 'hash__actions' }, copy, status));
  }

  function flagsBox(flags) {
    const known = flags.filter((f) => FLAGS.includes(f));
    const other = flags.filter((f) => !FLAGS.includes(f));
    if (!known.length && !other.length) return null;
    const headingId = nextId('flags');
    return h('section', { class: 'flag evidence__flags', role: 'note', 'aria-labelledby': headingId, 'data-testid': 'evidence-flags' },
      h('h2', { id: headingId, class: 'evidence__flags-title' },
        h('span', { 'aria-hidden': 'true' }, '⚠ '), t('evidence.flags.title')),
      h('ul', { class: 'evidence__flag-list' },
        known.map((f) => h('li', { 'data-flag': f }, t(`evidence.flag.${f}`))),
        other.length ? h('li', {}, t('evidence.flag.other')) : null),
      h('p', { class: 'evidence__flags-hint' }, t('evidence.flags.hint')));
  }

  function timesText(ev) {
    if (!ev.captured_at || !ev.received_at) return null;
    const gap = Date.parse(ev.received_at) - Date.parse(ev.captured_at);
    if (!Number.isFinite(gap)) return null;
    return gap >= 0 ? t('evidence.gap.after', { span: formatSpan(gap) }) : t('evidence.gap.before', { span: formatSpan(gap) });
  }

  function row(label, value, testid) {
    return [
      h('dt', {}, label),
      h('dd', testid ? { 'data-testid': testid } : {}, value == null || value === '' ? t('common.noValue') : value),
    ];
  }

  /** What the server read from a video or PDF: duration (m:ss), codec, frame size, pages. */
  function mediaRows(m) {
    if (!m) return null;
    return [
      m.duration_s != null ? row(t('evidence.duration'), formatDuration(m.duration_s), 'evidence-duration') : null,
      m.codec ? row(t('evidence.codec'), String(m.codec).toUpperCase(), 'evidence-codec') : null,
      m.pages == null && m.width && m.height ? row(t('evidence.dimensions'), t('evidence.pixels', { w: m.width, h: m.height })) : null,
      m.pages != null ? row(t('evidence.pages'), t('evidence.pageCount', { n: m.pages }), 'evidence-pages') : null,
    ];
  }

  function detailsSection(ev) {
    const headingId = nextId('sec');
    const loc = ev.location && ev.location.lat != null
      ? t('evidence.coords', { lat: Number(ev.location.lat).toFixed(5), lon: Number(ev.location.lon).toFixed(5) })
      : t('evidence.noExifLocation');
    const gap = timesText(ev);
    return h('section', { class: 'card', 'aria-labelledby': headingId },
      h('h2', { id: headingId, class: 'card__title' }, t('evidence.details')),
      h('dl', { class: 'facts facts--stack evidence__facts' },
        h('dt', {}, t('evidence.sha256')),
        h('dd', { class: 'evidence__hash-dd' }, hashRow(ev.sha256)),
        row(t('evidence.size'), `${formatSize(ev.size)}${ev.size >= 1024 ? t('evidence.sizeBytes', { n: Number(ev.size).toLocaleString('en-US') }) : ''}`, 'evidence-size'),
        row(t('evidence.type'), typeText(ev.content_type), 'evidence-type'),
        ev.width && ev.height ? row(t('evidence.dimensions'), t('evidence.pixels', { w: ev.width, h: ev.height })) : null,
        mediaRows(ev.media),
        ev.filename ? row(t('evidence.filename'), ev.filename) : null,
        row(t('evidence.capturedAt'), ev.captured_at ? formatInstant(ev.captured_at) : t('evidence.notGiven'), 'evidence-captured'),
        ev.exif_captured_at && ev.exif_captured_at !== ev.captured_at
          ? row(t('evidence.exifCapturedAt'), formatInstant(ev.exif_captured_at), 'evidence-exif-time')
          : null,
        row(t('evidence.receivedAt'), formatInstant(ev.received_at), 'evidence-received'),
        gap ? row(t('evidence.gap'), gap, 'evidence-gap') : null,
        row(t('evidence.location'), loc, 'evidence-location'),
        row(t('evidence.device'), ev.device || t('evidence.notGiven'), 'evidence-device'),
        row(t('evidence.upload'), t(ev.upload === 'resumable' ? 'evidence.upload.resumable' : 'evidence.upload.direct'), 'evidence-upload')));
  }

  function draw(ev) {
    back.setAttribute('href', parentHref(ev, user));
    const custody = hasRole(user, CUSTODY_ROLES) ? custodySection() : null;
    const refresh = () => {
      if (custody) custody.refresh();
    };
    body.replaceChildren(
      h('div', { class: 'evidence__main' }, mediaSection(ev, refresh), flagsBox(Array.isArray(ev.flags) ? ev.flags : [])),
      h('div', { class: 'evidence__side' }, detailsSection(ev), retentionCard(ev.id, user),
        canShare(user) ? shareCard({ evidence_ids: [ev.id] }) : null, custody ? custody.node : null));
    refresh();
  }

  async function load() {
    body.replaceChildren(loadingLine());
    try {
      const ev = await request('GET', `/evidence/${encodeURIComponent(id)}`);
      if (alive) draw(ev);
    } catch (err) {
      if (!alive) return;
      if (err && (err.status === 404 || err.status === 403 || err.status === 422)) unavailable();
      else body.replaceChildren(loadError(errorMessage(err), load));
    }
  }
  if (/^[0-9a-f-]{36}$/i.test(id || '')) load();
  else unavailable();

  const node = h('section', { class: 'page page--detail page--evidence' }, back, title, body);
  return {
    node,
    cleanup() {
      alive = false;
      for (const ctrl of downloads) ctrl.abort();
      downloads.clear();
      for (const url of [...urls]) release(url);
    },
  };
}
