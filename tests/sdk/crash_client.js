// The crash test's client: sends numbered events ("crash-N", 5 per /v1/batch
// request, 16 requests in flight) as fast as the collector answers, never
// resending a number, and records every event whose request got a 200.
// Connection errors (the daemon being killed) are expected and counted.
// Usage: node crash_client.js URL WRITE_KEY ACKED_FILE STOP_FILE
const http = require('http');
const fs = require('fs');
const [url, key, ackedFile, stopFile] = process.argv.slice(2);
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const auth = 'Basic ' + Buffer.from(key + ':').toString('base64');
const out = fs.openSync(ackedFile, 'w');
let next = 0, ok = 0, errors = 0, non200 = 0, inflight = 0, stopping = false;

function send() {
  if (stopping) return;
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(`crash-${next++}`);
  const body = JSON.stringify({ batch: ids.map((id) => ({ type: 'track', userId: 'c', event: 'Crash Test', messageId: id })) });
  inflight++;
  const req = http.request({ host: u.hostname, port: u.port, path: '/v1/batch', method: 'POST', agent,
    headers: { 'Content-Type': 'application/json', Authorization: auth, 'Content-Length': Buffer.byteLength(body) } },
  (res) => {
    res.resume();
    res.on('end', () => {
      inflight--;
      if (res.statusCode === 200) { ok += ids.length; fs.writeSync(out, ids.join('\n') + '\n'); } else non200++;
      setImmediate(send);
    });
  });
  req.on('error', () => { inflight--; errors++; setTimeout(send, 20); });
  req.setTimeout(5000, () => req.destroy());
  req.end(body);
}
for (let i = 0; i < 16; i++) send();
const t = setInterval(() => {
  if (fs.existsSync(stopFile)) {
    stopping = true;
    if (inflight === 0) {
      clearInterval(t);
      fs.closeSync(out);
      console.log(`sent ${next} acknowledged ${ok} connection-errors ${errors} non-200 ${non200}`);
      process.exit(0);
    }
  }
}, 50);
