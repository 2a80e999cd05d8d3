// A phone's location service for browser tests and the battery benchmark: fixes on request, a watch
// that delivers one fix a second (as a GPS does), every call and fix counted in window.__geo.
// window.__move(metresNorth) moves the phone.
(() => {
  const log = { calls: [], fixes: 0, highFixes: 0, watching: 0, highWatching: 0 };
  window.__geo = log;
  let lat = 29.15;
  const lon = 107.1;
  const watchers = new Map();
  let next = 0;
  const fix = () => ({
    coords: { latitude: lat + (Math.random() - 0.5) * 2e-5, longitude: lon + (Math.random() - 0.5) * 2e-5, accuracy: 12 },
    timestamp: Date.now(),
  });
  const deliver = (ok, high) => {
    log.fixes += 1;
    if (high) log.highFixes += 1;
    ok(fix());
  };
  const geo = {
    getCurrentPosition(ok, _err, opt = {}) {
      log.calls.push(['get', Boolean(opt.enableHighAccuracy)]);
      setTimeout(() => deliver(ok, Boolean(opt.enableHighAccuracy)), 20);
    },
    watchPosition(ok, _err, opt = {}) {
      const high = Boolean(opt.enableHighAccuracy);
      next += 1;
      log.calls.push(['watch', high]);
      log.watching += 1;
      if (high) log.highWatching += 1;
      watchers.set(next, { timer: setInterval(() => deliver(ok, high), 1000), high });
      return next;
    },
    clearWatch(id) {
      const w = watchers.get(id);
      if (!w) return;
      clearInterval(w.timer);
      watchers.delete(id);
      log.watching -= 1;
      if (w.high) log.highWatching -= 1;
    },
  };
  Object.defineProperty(navigator, 'geolocation', { value: geo, configurable: true });
  window.__move = (metresNorth) => {
    lat += metresNorth / 111_320;
  };
})();
