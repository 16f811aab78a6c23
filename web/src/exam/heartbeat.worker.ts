// Ticks for the exam page's signal collector. A dedicated worker's timers keep their
// pace while the exam tab is in the background, where page timers are throttled
// (the proctoring plugin reads long gaps between heartbeats as time away).
// Message in: `{ heartbeatMs, batchMs }` (again to change them). Messages out: 'heartbeat', 'batch'.
const timers: ReturnType<typeof setInterval>[] = [];

self.addEventListener('message', (e: MessageEvent<{ heartbeatMs: number; batchMs: number }>) => {
  timers.splice(0).forEach(clearInterval);
  timers.push(setInterval(() => self.postMessage('heartbeat'), e.data.heartbeatMs));
  timers.push(setInterval(() => self.postMessage('batch'), e.data.batchMs));
});
