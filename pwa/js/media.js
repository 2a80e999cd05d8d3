// Photos and videos of an on-site record, taken from inside the app and kept in the outbox at once:
// a photo with the in-app camera, a video with the in-app recorder (MediaRecorder) or, where the
// browser has none, the phone's own recorder (the `capture` input). Each is stamped with the phone's
// time and position when it is taken.

import { h } from './dom.js';
import { t, formatDateTime } from './i18n.js';
import { cameraPanel, cameraSupported } from './camera.js';
import { addMedia, discard, entries, keepStorage, nearQuota, onOutboxChange } from './store.js';

const THUMB_SIDE = 240;
const MB = 1024 * 1024;
const MAX_RECORD_S = 10 * 60; // a longer video is better made with the phone's own camera app
const RECORDER_TYPES = ['video/mp4', 'video/webm;codecs=vp8,opus', 'video/webm'];

function recorderType() {
  if (typeof MediaRecorder === 'undefined' || !MediaRecorder.isTypeSupported) return null;
  return RECORDER_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || null;
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/**
 * The in-app video recorder: live picture, 开始录像 / 停止, then `onDone(blob, startedAt)` keeps it.
 * Returns { node, stop() }.
 */
function recorderPanel({ onDone, onError }) {
  const type = recorderType();
  const video = h('video', { class: 'camera__video', autoplay: true, muted: true, playsinline: true, 'aria-label': t('camera.viewfinder') });
  video.muted = true;
  const status = h('p', { class: 'camera__status', role: 'status', 'aria-live': 'polite', 'data-testid': 'recorder-status' }, t('camera.starting'));
  const start = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', disabled: true }, t('media.recordStart'));
  const stopBtn = h('button', { type: 'button', class: 'btn btn--danger btn--xl btn--block', hidden: true }, t('media.recordStop'));
  const node = h('div', { class: 'camera', 'data-testid': 'recorder' }, h('div', { class: 'camera__stage' }, video), status, start, stopBtn);
  let stream = null;
  let recorder = null;
  let startedAt = null;
  let ticker = null;
  let closed = false;
  const parts = [];

  function release() {
    clearInterval(ticker);
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
  }

  navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: true })
    .catch(() => navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false }))
    .then((s) => {
      if (closed) {
        for (const track of s.getTracks()) track.stop();
        return;
      }
      stream = s;
      video.srcObject = s;
      video.play().catch(() => {});
      start.disabled = false;
      status.textContent = t('media.recordReady');
    }, (err) => {
      if (!closed) onError(err);
    });

  start.addEventListener('click', () => {
    if (!stream) return;
    recorder = new MediaRecorder(stream, { mimeType: type });
    recorder.ondataavailable = (e) => {
      if (e.data && e.data.size) parts.push(e.data);
    };
    recorder.onstop = () => {
      release();
      if (closed) return;
      const blob = new Blob(parts, { type: type.split(';')[0] });
      onDone(blob, startedAt);
    };
    startedAt = new Date();
    recorder.start(1000);
    start.hidden = true;
    stopBtn.hidden = false;
    ticker = setInterval(() => {
      const secs = (Date.now() - startedAt.getTime()) / 1000;
      status.textContent = t('media.recording', { time: clock(secs) });
      if (secs >= MAX_RECORD_S) recorder.stop();
    }, 500);
  });
  stopBtn.addEventListener('click', () => {
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    stopBtn.disabled = true;
  });

  return {
    node,
    stop() {
      closed = true;
      if (recorder && recorder.state !== 'inactive') recorder.stop();
      release();
    },
  };
}

/** `source` (w × h) drawn at most THUMB_SIDE on its long side, as a JPEG data URL. */
function previewOf(source, w, hgt) {
  const scale = Math.min(1, THUMB_SIDE / Math.max(w, hgt));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(hgt * scale));
  canvas.getContext('2d').drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.7);
}

/** A small JPEG data URL of an image blob, kept with the entry so the outbox can show it offline. */
export async function thumbnail(blob) {
  try {
    const bitmap = await createImageBitmap(blob);
    const url = previewOf(bitmap, bitmap.width, bitmap.height);
    bitmap.close();
    return url;
  } catch {
    return null;
  }
}

/** A frame of a video as a small JPEG data URL, or null when the browser cannot decode it quickly. */
export function videoThumbnail(blob) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(blob);
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.preload = 'auto';
    let timer = null;
    const done = (value) => {
      clearTimeout(timer);
      video.removeAttribute('src');
      video.load();
      URL.revokeObjectURL(url);
      resolve(value);
    };
    timer = setTimeout(() => done(null), 4000);
    video.addEventListener('loadeddata', () => {
      const d = Number.isFinite(video.duration) ? video.duration : 1;
      video.currentTime = Math.min(0.5, d / 2);
    }, { once: true });
    video.addEventListener('seeked', () => {
      done(video.videoWidth && video.videoHeight ? previewOf(video, video.videoWidth, video.videoHeight) : null);
    }, { once: true });
    video.addEventListener('error', () => done(null), { once: true });
    video.src = url;
  });
}

export function sizeText(bytes) {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(bytes >= 100 * MB ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** The stamp every shot carries: when it was taken, and where (or that there was no fix). */
function stampText(entry) {
  const when = entry.capturedAt ? t('media.takenAt', { time: formatDateTime(entry.capturedAt) }) : '';
  const l = entry.location;
  const where = l && l.lat != null
    ? t('media.takenWhere', { lat: Number(l.lat).toFixed(5), lon: Number(l.lon).toFixed(5), m: Math.round(l.accuracy_m || 0) })
    : t('media.noFix');
  return [when, where].filter(Boolean).join(' · ');
}

/** One tile: the photo's preview, or a video's icon and size, with its time and place. */
export function mediaTile(entry, extra = null) {
  const label = entry.media === 'photo' ? t('media.photo') : t('media.video');
  const picture = entry.thumb
    ? h('img', { class: 'media__thumb', src: entry.thumb, alt: label, 'data-testid': 'media-thumb' })
    : h('span', { class: 'media__thumb media__thumb--video', 'aria-hidden': 'true' }, '▶');
  return h('li', { class: 'media__item', 'data-testid': 'media-item', 'data-media': entry.media },
    picture,
    h('span', { class: 'media__label' }, label, h('span', { class: 'muted' }, ` · ${sizeText(entry.size)}`),
      h('span', { class: 'media__stamp', 'data-testid': 'media-stamp' }, stampText(entry))),
    extra);
}

/**
 * The "现场照片和视频" section of the record form. `ensureSaved()` writes the record's draft to the
 * outbox before anything is attached to it; `location()` is the record's position (or null).
 */
export function mediaSection({ actionId, ensureSaved, location, editable = true }) {
  const list = h('ul', { class: 'media', 'data-testid': 'media-list' });
  const status = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'media-status' });
  const warn = h('p', { class: 'alert', role: 'alert', 'data-testid': 'media-warning' });
  const cameraSlot = h('div', { class: 'slot' });
  const photoBtn = h('button', { type: 'button', class: 'btn btn--secondary btn--xl btn--block', 'data-testid': 'take-photo' },
    t('media.takePhoto'));
  const videoInput = h('input', {
    type: 'file',
    accept: 'video/*',
    capture: 'environment',
    hidden: true, // opened by the 录像 button; the phone's recorder is its interface
    'data-testid': 'video-input',
  });
  const videoBtn = h('button', { type: 'button', class: 'btn btn--secondary btn--xl btn--block', 'data-testid': 'take-video' },
    t('media.takeVideo'));
  const phoneVideoBtn = h('button', { type: 'button', class: 'btn btn--link', 'data-testid': 'phone-video' }, t('media.phoneVideo'));
  let camera = null;
  let alive = true;

  async function draw() {
    const mine = (await entries()).filter((e) => e.type === 'evidence' && e.actionId === actionId());
    if (!alive) return;
    list.replaceChildren(
      ...mine.map((e) => {
        const remove = editable && e.state !== 'sent'
          ? h('button', { type: 'button', class: 'btn btn--link', 'data-testid': 'media-remove' }, t('media.remove'))
          : null;
        if (remove) {
          remove.addEventListener('click', async () => {
            if (!confirm(t('media.removeConfirm'))) return;
            await discard(e.id);
          });
        }
        return mediaTile(e, remove);
      }),
    );
    list.hidden = mine.length === 0;
  }

  async function keep(blob, meta) {
    warn.textContent = '';
    if (await nearQuota(blob.size)) {
      warn.textContent = t('media.quota');
      if (!confirm(t('media.quotaConfirm'))) return false;
    }
    try {
      await ensureSaved();
      await keepStorage();
      await addMedia(actionId(), blob, { location: location(), ...meta });
    } catch (err) {
      // Most likely the phone is out of space: say so here rather than lose the picture silently.
      const full = err && err.name === 'QuotaExceededError';
      warn.textContent = t(full ? 'media.full' : 'media.saveFailed');
      if (meta.media === 'photo') throw new Error(warn.textContent); // the camera keeps the picture to retry
      return false;
    }
    return true;
  }

  function closeCamera() {
    if (camera) camera.stop();
    camera = null;
    cameraSlot.replaceChildren();
    photoBtn.hidden = false;
    videoBtn.hidden = false;
  }

  function openPanel(panel) {
    photoBtn.hidden = true;
    videoBtn.hidden = true;
    camera = panel;
    const cancel = h('button', { type: 'button', class: 'btn btn--link' }, t('media.closeCamera'));
    cancel.addEventListener('click', closeCamera);
    cameraSlot.replaceChildren(panel.node, cancel);
  }

  photoBtn.addEventListener('click', () => {
    if (!cameraSupported()) {
      warn.textContent = t('camera.unsupported');
      return;
    }
    openPanel(cameraPanel({
      submitLabel: 'media.usePhoto',
      onSubmit: async (blob, capturedAt) => {
        const thumb = await thumbnail(blob);
        const n = list.children.length + 1;
        const ok = await keep(blob, {
          media: 'photo',
          contentType: 'image/jpeg',
          filename: `photo-${n}.jpg`,
          capturedAt: (capturedAt || new Date()).toISOString(),
          thumb,
        });
        if (!ok) return;
        closeCamera();
        status.textContent = t('media.photoKept');
      },
    }));
  });

  videoBtn.addEventListener('click', () => {
    // Without an in-app recorder the phone's own camera app records the video.
    if (!cameraSupported() || !recorderType()) {
      videoInput.click();
      return;
    }
    warn.textContent = '';
    openPanel(recorderPanel({
      onDone: async (blob, startedAt) => {
        closeCamera();
        if (!blob.size) {
          warn.textContent = t('media.recordEmpty');
          return;
        }
        const ext = blob.type === 'video/mp4' ? 'mp4' : 'webm';
        const ok = await keep(blob, {
          media: 'video',
          contentType: blob.type,
          filename: `video-${list.children.length + 1}.${ext}`,
          capturedAt: startedAt.toISOString(),
          thumb: await videoThumbnail(blob),
        });
        if (ok) status.textContent = t('media.videoKept', { size: sizeText(blob.size) });
      },
      onError: () => {
        closeCamera();
        warn.textContent = t('camera.failed');
      },
    }));
  });
  phoneVideoBtn.addEventListener('click', () => videoInput.click());
  videoInput.addEventListener('change', async () => {
    const files = [...videoInput.files];
    videoInput.value = '';
    for (const file of files) {
      if (!file.type.startsWith('video/')) {
        // A picture chosen here would not be from the in-app camera.
        warn.textContent = t('media.notVideo');
        continue;
      }
      // The recorder's file carries the moment it was made; a file without one is stamped now.
      const at = file.lastModified && file.lastModified <= Date.now() ? new Date(file.lastModified) : new Date();
      const ok = await keep(file, {
        media: 'video',
        contentType: file.type,
        filename: file.name || 'video.mp4',
        capturedAt: at.toISOString(),
        thumb: await videoThumbnail(file),
      });
      if (ok) status.textContent = t('media.videoKept', { size: sizeText(file.size) });
    }
  });

  const off = onOutboxChange(draw);
  draw();
  const node = h('section', { class: 'card media-card', 'data-testid': 'media' },
    h('h2', { class: 'card__title' }, t('media.title')),
    h('p', { class: 'muted' }, t('media.hint')),
    list,
    cameraSlot,
    editable ? h('div', { class: 'media__buttons' }, photoBtn, videoBtn, videoInput) : null,
    editable ? phoneVideoBtn : null,
    status,
    warn);
  return {
    node,
    stop() {
      alive = false;
      off();
      if (camera) camera.stop();
    },
  };
}
