// Sends every call type through the real RudderStack Node SDK to an ingot
// collector, batched (flushAt) and gzipped (the SDK's default), then flushes.
// Usage: node send_rudder.js URL WRITE_KEY N PREFIX
// Prints one line: the number of events sent. Exits non-zero on an error.
const Analytics = require('@rudderstack/rudder-sdk-node');
const [url, key, nStr, prefix] = process.argv.slice(2);
const n = parseInt(nStr || '12', 10);
let failed = null;
const client = new Analytics(key, {
  dataPlaneUrl: url, flushAt: 7, flushInterval: 60000, retryCount: 0, logLevel: 'error',
  errorHandler: (e) => { failed = e; },
});
const types = ['track', 'identify', 'page', 'screen', 'group', 'alias'];
for (let i = 0; i < n; i++) {
  const t = types[i % types.length];
  const id = `${prefix}-${i}`;
  const base = { userId: `user-${i % 5}`, messageId: id, context: { app: { name: 'sdk-test' } } };
  if (t === 'track') client.track({ ...base, event: 'Order Completed', properties: { i, total: i * 1.5 } });
  if (t === 'identify') client.identify({ ...base, traits: { email: `u${i}@example.com` } });
  if (t === 'page') client.page({ ...base, name: 'Home', properties: { path: '/' } });
  if (t === 'screen') client.screen({ ...base, name: 'Main' });
  if (t === 'group') client.group({ ...base, groupId: 'g1', traits: { plan: 'pro' } });
  if (t === 'alias') client.alias({ ...base, previousId: `anon-${i}` });
}
client.flush().then(() => {
  if (failed) { console.error('SDK error:', failed.message || failed); process.exit(1); }
  console.log(n);
}).catch((e) => { console.error('flush failed:', e.message || e); process.exit(1); });
