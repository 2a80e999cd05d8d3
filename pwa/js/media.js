// Photos and videos of an on-site record, taken from inside the app and kept in the outbox at once:
// a photo with the in-app camera, a video with the phone's own recorder (the `capture` input). Each is
// stamped with the phone's time and position when it is taken.

import { h } from './dom.js';
import { t } from './i18n.js';
import { cameraPanel, cameraSupported } from './camera.js';
import { addMedia, discard, entries, keepStorage, nearQuota, onOutboxChange } from './outbox.js';

const THUMB_SIDE = 240;
const MB = 1024 * 1024;

/** A small JPEG data URL of an image blob, kept with the entry so the outbox can show it offline. */
export async function thumbnail(blob) {
  try {
    const bitmap = await createImageBitmap(blob);
    const scale = Math.min(1, THUMB_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return canvas.toDataURL('image/jpeg', 0.7);
  } catch {
    return null;
  }
}

export function sizeText(bytes) {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(bytes >= 100 * MB ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** One tile: the photo's preview, or a video's icon and size. */
export function mediaTile(entry, extra = null) {
  const label = entry.media === 'photo' ? t('media.photo') : t('media.video');
  const picture = entry.thumb
    ? h('img', { class: 'media__thumb', src: entry.thumb, alt: label })
    : h('span', { class: 'media__thumb media__thumb--video', 'aria-hidden': 'true' }, '▶');
  return h('li', { class: 'media__item', 'data-testid': 'media-item', 'data-media': entry.media },
    picture,
    h('span', { class: 'media__label' }, label, h('span', { class: 'muted' }, ` · ${sizeText(entry.size)}`)),
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
    await ensureSaved();
    await keepStorage();
    await addMedia(actionId(), blob, { location: location(), ...meta });
    return true;
  }

  function closeCamera() {
    if (camera) camera.stop();
    camera = null;
    cameraSlot.replaceChildren();
    photoBtn.hidden = false;
  }

  photoBtn.addEventListener('click', () => {
    if (!cameraSupported()) {
      warn.textContent = t('camera.unsupported');
      return;
    }
    photoBtn.hidden = true;
    camera = cameraPanel({
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
    });
    const cancel = h('button', { type: 'button', class: 'btn btn--link' }, t('media.closeCamera'));
    cancel.addEventListener('click', closeCamera);
    cameraSlot.replaceChildren(camera.node, cancel);
  });

  videoBtn.addEventListener('click', () => videoInput.click());
  videoInput.addEventListener('change', async () => {
    const files = [...videoInput.files];
    videoInput.value = '';
    for (const file of files) {
      if (!file.type.startsWith('video/')) {
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
        thumb: null,
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
