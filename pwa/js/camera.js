// In-app camera: the live picture of the back camera, one still captured to a JPEG in the page.
// There is deliberately no file picker: an answer can only be a picture taken now, on this phone.

import { h } from './dom.js';
import { t } from './i18n.js';

const MAX_SIDE = 1920;
const QUALITY = 0.85;

export function cameraSupported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

function errorKey(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'camera.denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'camera.none';
  if (name === 'NotReadableError' || name === 'AbortError') return 'camera.busy';
  return 'camera.failed';
}

function toJpeg(canvas) {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
}

/**
 * A camera with 拍照 → preview → 重拍 / submit. `onSubmit(blob, capturedAt)` sends the picture; when it
 * throws, its message is shown and the picture stays ready to send again.
 * Returns { node, stop() }.
 */
export function cameraPanel({ onSubmit, submitLabel = 'camera.submit', autostart = true }) {
  const video = h('video', {
    class: 'camera__video',
    autoplay: true,
    muted: true,
    playsinline: true,
    'aria-label': t('camera.viewfinder'),
    'data-testid': 'camera-video',
  });
  video.muted = true;
  const preview = h('img', { class: 'camera__preview', alt: t('camera.previewAlt'), hidden: true, 'data-testid': 'camera-preview' });
  const stage = h('div', { class: 'camera__stage' }, video, preview);
  const status = h('p', { class: 'camera__status', role: 'status', 'aria-live': 'polite' });
  const error = h('p', { class: 'alert', role: 'alert', 'data-testid': 'camera-error' });
  const open = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block' }, t('camera.open'));
  const shoot = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block camera__shoot' },
    h('span', { class: 'camera__dot', 'aria-hidden': 'true' }), t('camera.shoot'));
  const send = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block' }, t(submitLabel));
  const retake = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('camera.retake'));
  const buttons = h('div', { class: 'camera__buttons' }, open, shoot, send, retake);
  const node = h('div', { class: 'camera', 'data-testid': 'camera' }, stage, status, error, buttons);

  let stream = null;
  let blob = null;
  let url = null;
  let capturedAt = null;
  let stopped = false;
  let busy = false;

  function mode(m) {
    node.dataset.mode = m;
    video.hidden = m !== 'live';
    preview.hidden = m !== 'preview';
    stage.hidden = m === 'off';
    open.hidden = m !== 'off';
    shoot.hidden = m !== 'live';
    send.hidden = m !== 'preview';
    retake.hidden = m !== 'preview';
  }

  function stopStream() {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
  }

  function forget() {
    if (url) URL.revokeObjectURL(url);
    url = null;
    blob = null;
    preview.removeAttribute('src');
  }

  async function start() {
    error.textContent = '';
    forget();
    if (!cameraSupported()) {
      mode('off');
      open.hidden = true;
      error.textContent = t('camera.unsupported');
      return;
    }
    mode('starting');
    video.hidden = false;
    shoot.hidden = false;
    shoot.disabled = true;
    status.textContent = t('camera.starting');
    try {
      const s = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1920 }, height: { ideal: 1080 } },
        audio: false,
      });
      if (stopped) {
        for (const track of s.getTracks()) track.stop();
        return;
      }
      stream = s;
      video.srcObject = s;
      await video.play().catch(() => {});
      mode('live');
      shoot.disabled = false;
      status.textContent = t('camera.ready');
    } catch (err) {
      if (stopped) return;
      mode('off');
      status.textContent = '';
      error.textContent = t(errorKey(err));
    }
  }

  async function capture() {
    const w = video.videoWidth;
    const hgt = video.videoHeight;
    if (!w || !hgt) {
      status.textContent = t('camera.starting');
      return;
    }
    const scale = Math.min(1, MAX_SIDE / Math.max(w, hgt));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(hgt * scale);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    capturedAt = new Date();
    const jpeg = await toJpeg(canvas);
    if (!jpeg) {
      error.textContent = t('camera.failed');
      return;
    }
    stopStream();
    blob = jpeg;
    url = URL.createObjectURL(jpeg);
    preview.src = url;
    mode('preview');
    status.textContent = t('camera.taken');
    if (navigator.vibrate) {
      try {
        navigator.vibrate(40);
      } catch {
        /* vibration is a courtesy */
      }
    }
  }

  async function submit() {
    if (!blob || busy) return;
    busy = true;
    send.disabled = true;
    retake.disabled = true;
    error.textContent = '';
    status.textContent = t('camera.sending');
    try {
      await onSubmit(blob, capturedAt);
      status.textContent = '';
    } catch (err) {
      status.textContent = '';
      error.textContent = (err && err.message) || t('err.unknown');
    } finally {
      busy = false;
      send.disabled = false;
      retake.disabled = false;
    }
  }

  open.addEventListener('click', start);
  shoot.addEventListener('click', capture);
  retake.addEventListener('click', start);
  send.addEventListener('click', submit);

  mode('off');
  if (autostart) start();

  return {
    node,
    stop() {
      stopped = true;
      stopStream();
      forget();
    },
  };
}
