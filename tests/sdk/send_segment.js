// Sends track/identify/page/screen/group/alias through the real Segment Node
// SDK (@segment/analytics-node) to an ingot collector, then closes and flushes.
// Usage: node send_segment.js URL WRITE_KEY N PREFIX
const { Analytics } = require('@segment/analytics-node');
const [url, key, nStr, prefix] = process.argv.slice(2);
const n = parseInt(nStr || '12', 10);
const a = new Analytics({ writeKey: key, host: url, path: '/v1/batch', flushAt: 5, maxRetries: 0 });
let failed = null;
a.on('error', (e) => { failed = e; });
const types = ['track', 'identify', 'page', 'screen', 'group', 'alias'];
for (let i = 0; i < n; i++) {
  const t = types[i % types.length];
  const base = { userId: `user-${i % 5}`, messageId: `${prefix}-${i}` };
  if (t === 'track') a.track({ ...base, event: 'Signed Up', properties: { i } });
  if (t === 'identify') a.identify({ ...base, traits: { name: 'x' } });
  if (t === 'page') a.page({ ...base, name: 'Pricing' });
  if (t === 'screen') a.screen({ ...base, name: 'Main' });
  if (t === 'group') a.group({ ...base, groupId: 'g2' });
  if (t === 'alias') a.alias({ userId: base.userId, previousId: `anon-${i}`, messageId: base.messageId });
}
a.closeAndFlush({ timeout: 20000 }).then(() => {
  if (failed) { console.error('SDK error:', JSON.stringify(failed).slice(0, 500)); process.exit(1); }
  console.log(n);
});
