// Reading a QR code with the phone's camera (an officer's certificate card at a training's door).
// The browser's BarcodeDetector where it has one; otherwise jsQR (vendored, loaded on first use),
// fed a frame four times a second from a <video> of the rear camera. Nothing leaves the phone.

import { h } from './dom.js';
import { t } from './i18n.js';

const EVERY_MS = 250;
const MAX_SIDE = 640; // frames are scaled down before decoding: enough for a card held up close

async function decoder() {
  if ('BarcodeDetector' in self) {
    try {
      const formats = await self.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const detector = new self.BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => {
          const found = await detector.detect(video);
          return found.length ? found[0].rawValue : null;
        };
      }
    } catch {
      /* no usable detector: fall back to jsQR */
    }
  }
  if (!self.jsQR) await import('../vendor/jsqr-1.4.0/jsQR.js');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    const w = video.videoWidth;
    const hgt = video.videoHeight;
    if (!w || !hgt) return null;
    const scale = Math.min(1, MAX_SIDE / Math.max(w, hgt));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(hgt * scale);
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = self.jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
    return code ? code.data : null;
  };
}

/**
 * A camera panel: `start()` opens the camera and calls `onText(text)` with the first code it reads
 * (then stops); `stop()` closes it. The panel says what is happening, and why when it cannot.
 */
export function qrScanner({ onText }) {
  const video = h('video', { class: 'qr-scan__video', playsinline: true, muted: true, 'aria-hidden': 'true' });
  const status = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'scan-status' });
  const cancel = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('scan.stop'));
  const node = h('div', { class: 'qr-scan', hidden: true, 'data-testid': 'qr-scanner' }, video, status, cancel);
  let stream = null;
  let timer = null;
  let running = false;

  function stop() {
    running = false;
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    node.hidden = true;
  }

  async function start() {
    if (running) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      node.hidden = false;
      status.textContent = t('scan.unsupported');
      return;
    }
    running = true;
    node.hidden = false;
    status.textContent = t('scan.opening');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      video.srcObject = stream;
      await video.play();
      const read = await decoder();
      status.textContent = t('scan.aim');
      const tick = async () => {
        if (!running) return;
        let text = null;
        try {
          text = await read(video);
        } catch {
          text = null; // a frame that could not be read: try the next one
        }
        if (text) {
          stop();
          onText(text);
          return;
        }
        timer = setTimeout(tick, EVERY_MS);
      };
      tick();
    } catch (err) {
      stop();
      node.hidden = false;
      status.textContent = err && err.name === 'NotAllowedError' ? t('scan.denied') : t('scan.failed');
    }
  }

  cancel.addEventListener('click', stop);
  return { node, start, stop };
}
