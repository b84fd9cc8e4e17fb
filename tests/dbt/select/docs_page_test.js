// Loads target/index.html in jsdom, as a browser would from the file system,
// and checks what a user sees: the node list, a model page with its columns
// and tests, the lineage graph, and a click on a graph node.
const {JSDOM} = require('jsdom');
const fs = require('fs');
const file = process.argv[2];
const html = fs.readFileSync(file, 'utf8');
const dom = new JSDOM(html, {runScripts: 'dangerously', url: 'file://' + file});
const w = dom.window, d = w.document;
const fail = m => { console.error('FAIL: ' + m); process.exit(1); };
const names = [...d.querySelectorAll('#side a.n')].map(a => a.textContent);
for (const want of process.argv.slice(3)) if (!names.includes(want)) fail('the list lacks ' + want + ': ' + names);
if (!d.querySelector('#lineage')) fail('the overview has no lineage graph');
w.location.hash = encodeURIComponent('model.sel.stg_orders');
w.dispatchEvent(new w.HashChangeEvent('hashchange'));
const h2 = d.querySelector('#main h2').textContent;
if (!h2.includes('stg_orders')) fail('the model page title is ' + h2);
const cols = [...d.querySelectorAll('#columns tr td:first-child')].map(td => td.textContent);
if (cols.join(',') !== 'order_id,amount,customer_id,country') fail('columns: ' + cols);
const rowText = d.querySelector('#columns tr:nth-child(2)').textContent;
if (!rowText.includes('INTEGER') || !rowText.includes('unique') || !rowText.includes('not_null')) fail('order_id row: ' + rowText);
if (!d.querySelector('#compiled') || !d.querySelector('#compiled').textContent.includes('"raw"."orders"')) fail('no compiled SQL with the source relation');
const g = [...d.querySelectorAll('#lineage g.gn')].map(e => e.getAttribute('data-id'));
for (const id of ['source.sel.raw.orders', 'model.sel.stg_orders', 'model.sel.customer_orders', 'model.sel.order_totals'])
  if (!g.includes(id)) fail('lineage of stg_orders lacks ' + id + ': ' + g);
if (g.includes('model.sel.stg_customers')) fail('lineage of stg_orders has an unrelated node');
if (d.querySelectorAll('#lineage path.e').length < 3) fail('lineage has no edges');
// click through to a child
d.querySelector('#lineage g.gn[data-id="model.sel.customer_orders"]').dispatchEvent(new w.MouseEvent('click', {bubbles: true}));
w.dispatchEvent(new w.HashChangeEvent('hashchange'));
if (!d.querySelector('#main h2').textContent.includes('customer_orders')) fail('click did not open customer_orders');
if (!d.querySelector('#main').textContent.includes('Orders and amount per customer.')) fail('no description');
// the description with </script> is shown as text
w.location.hash = encodeURIComponent('model.sel.stg_customers');
w.dispatchEvent(new w.HashChangeEvent('hashchange'));
if (!d.querySelector('#main').textContent.includes('with </script> inside')) fail('description with </script> lost');
// search filters the list
d.querySelector('#q').value = 'orders';
d.querySelector('#q').dispatchEvent(new w.Event('input'));
const filtered = [...d.querySelectorAll('#side a.n')].map(a => a.textContent);
if (filtered.includes('stg_customers') || !filtered.includes('stg_orders')) fail('search: ' + filtered);
console.log('page ok: ' + names.length + ' nodes, lineage of stg_orders ' + g.length + ' nodes');
